"""The kinds of difference a reconciliation sweep finds between the shop's books and InvoiceBox's,
each with what it means and what is done about it.

Safe kinds are healed by ``--heal`` through the engine's own transitions, exactly as the live
path would have applied the fact had it arrived (journaled under the actor ``reconcile``); the
others need a person, because no rule of the lifecycle says which side is right. The table in
docs/reconcile.md is this one (tests/test_reconcile_docs.py keeps them equal).
"""

from __future__ import annotations

import enum

import attrs


class Drift(enum.StrEnum):
    """A kind of difference between one order in the shop and the same order at InvoiceBox."""

    # safe to heal
    MISSED_PAYMENT = "missed_payment"
    CLOSED_AT_INVOICEBOX = "closed_at_invoicebox"
    UNFINISHED_CALL = "unfinished_call"
    LOST_INTENT = "lost_intent"
    UNSEEN_SHIPMENT = "unseen_shipment"
    REFUND_SETTLED = "refund_settled"
    # needs a human
    PAID_BUT_CLOSED = "paid_but_closed"
    UNKNOWN_REFUND = "unknown_refund"
    AMOUNT_MISMATCH = "amount_mismatch"
    MISSING_SHIPMENT = "missing_shipment"
    UNEXPECTED_SHIPMENT = "unexpected_shipment"
    REFUND_MISMATCH = "refund_mismatch"
    STATUS_MISMATCH = "status_mismatch"
    MISSING_AT_INVOICEBOX = "missing_at_invoicebox"

    @property
    def safe(self) -> bool:
        """True when ``--heal`` heals it; False when it needs a person."""
        return MEANINGS[self].safe

    @property
    def meaning(self) -> str:
        return MEANINGS[self].meaning

    @property
    def action(self) -> str:
        return MEANINGS[self].action


@attrs.frozen
class Meaning:
    safe: bool
    meaning: str
    action: str


MEANINGS: dict[Drift, Meaning] = {
    Drift.MISSED_PAYMENT: Meaning(
        True, "InvoiceBox has the order paid; the shop still awaits the payment (the notification never arrived)",
        "confirm the payment as the notification would have (`sync`: `confirm_payment`)"),
    Drift.CLOSED_AT_INVOICEBOX: Meaning(
        True, "InvoiceBox canceled or expired the unpaid order; the shop still offers it",
        "close it by its transition, `cancel` or `expire` (`sync`)"),
    Drift.UNFINISHED_CALL: Meaning(
        True, "a call waits in the outbox, and InvoiceBox already has its effect (the answer was lost)",
        "finish it: `resume` looks the object up and records it"),
    Drift.LOST_INTENT: Meaning(
        True, "the order waits in a `*_requested` state with no outbox item (lost with a database restore)",
        "InvoiceBox has the effect: record it; it has none: go back by the call's refusal "
        "(an invoice is requested again)"),
    Drift.UNSEEN_SHIPMENT: Meaning(
        True, "InvoiceBox registered a shipment the shop does not know (made by InvoiceBox or by hand)",
        "record it by `shipment_observed` (`sync`)"),
    Drift.REFUND_SETTLED: Meaning(
        True, "a refund the shop made was paid out or canceled at InvoiceBox; the shop still has it waiting",
        "record the payout, or `refund_canceled` (`sync`)"),
    Drift.PAID_BUT_CLOSED: Meaning(
        False, "InvoiceBox holds the buyer's money for an order the shop canceled or let expire",
        "refund the buyer at InvoiceBox, or reopen the sale by hand"),
    Drift.UNKNOWN_REFUND: Meaning(
        False, "InvoiceBox has a refund the shop never asked for (made by hand in the personal account)",
        "check who refunded and why; record it in the shop's books by hand"),
    Drift.AMOUNT_MISMATCH: Meaning(
        False, "the order's amount or currency (or the amount paid) differs between the two sides",
        "find which amount is right; a payment of another amount is not accepted automatically"),
    Drift.MISSING_SHIPMENT: Meaning(
        False, "the shop believes it made a shipment that InvoiceBox does not have",
        "register the shipment again at InvoiceBox, or correct the shop's books"),
    Drift.UNEXPECTED_SHIPMENT: Meaning(
        False, "InvoiceBox has a shipment the order cannot take in its state",
        "check the shipment at InvoiceBox against the order"),
    Drift.REFUND_MISMATCH: Meaning(
        False, "the refunds differ otherwise: one the shop has and InvoiceBox does not, another status, "
        "other sums per line",
        "compare the refunds line by line and correct the side that is wrong"),
    Drift.STATUS_MISMATCH: Meaning(
        False, "the statuses disagree in a way no transition explains (the shop has it paid, InvoiceBox not; "
        "the shop closed it, InvoiceBox still offers it)",
        "look at both sides' history and decide"),
    Drift.MISSING_AT_INVOICEBOX: Meaning(
        False, "the shop knows an InvoiceBox id that InvoiceBox does not list",
        "check the account and the order's id"),
}


class Outcome(enum.StrEnum):
    """What became of a difference."""

    FOUND = "found"  # reported; a safe one is healed by --heal
    HEALED = "healed"  # healed through the engine (journaled by "reconcile")
    SKIPPED = "skipped"  # the order changed while the sweep was at it; the next sweep compares it again
    FAILED = "failed"  # healing was refused or failed; the next sweep looks again


__all__ = ["MEANINGS", "Drift", "Meaning", "Outcome"]
