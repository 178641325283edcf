"""The names of the documented lifecycle's triggers: declared by the steps and undrawn paths,
used by the engine that carries them out. Written once here so neither side can mistype one."""

from __future__ import annotations

import enum


class Trigger(enum.StrEnum):
    # payment
    PLACE = "place"
    REQUEST_INVOICE = "request_invoice"
    ISSUE_PAYMENT_LINK = "issue_payment_link"
    INVOICE_FAILED = "invoice_failed"
    REDIRECT_BUYER = "redirect_buyer"
    BUYER_RETURNED = "buyer_returned"
    DECLINE_PAYMENT = "decline_payment"
    CONFIRM_PAYMENT = "confirm_payment"
    REFUSE_SHIPPING = "refuse_shipping"
    UPDATE = "update"
    CANCEL = "cancel"
    EXPIRE = "expire"
    # shipment
    REQUEST_SHIPMENT = "request_shipment"
    SHIPMENT_ACCEPTED = "shipment_accepted"
    SHIPMENT_FAILED = "shipment_failed"
    SHIPMENT_OBSERVED = "shipment_observed"
    SEND_DOCUMENTS = "send_documents"
    # refund
    CLAIM_REFUND = "claim_refund"
    LIST_REFUNDABLE = "list_refundable"
    REQUEST_REFUND = "request_refund"
    REFUND_ACCEPTED = "refund_accepted"
    REFUND_FAILED = "refund_failed"
    REFUND_CANCELED = "refund_canceled"
