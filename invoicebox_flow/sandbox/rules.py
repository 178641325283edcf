"""Every business rule of the sandbox, in one place: the order and refund state machines, what
the API accepts, and how much may still be shipped or refunded.

The HTTP layer (:mod:`.app`) and the orchestration (:mod:`.engine`) only call these functions;
a rule that refuses raises an :class:`~invoicebox_flow.errors.ApiError` carrying the HTTP status
and the API error code InvoiceBox would answer with, and changes nothing.

Order states (reference §4): ``created`` → ``completed`` (paid) / ``expired`` / ``canceled``;
a paid order that has no shipment may still be canceled when its payment instrument allows it
(full reversal, §3.4; the rule is in :mod:`.instruments`). Refund states (§4.4): ``draft`` stays
a draft (no money moves); ``created`` → ``completed`` once the money has been returned, or
``canceled`` when it could not be.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from transitions import Machine

from .. import rulebook
from ..errors import (
    ApiError,
    AuthenticationError,
    BasketError,
    InvalidRequestError,
    NotFoundError,
    RateLimitError,
    ServerError,
    ValidationError,
)
from ..money import KOPECK, to_decimal, validate_basket
from .clock import parse_datetime

# --- the state machines ----------------------------------------------------------------------

CREATED, COMPLETED, EXPIRED, CANCELED = "created", "completed", "expired", "canceled"
ORDER_STATES = (CREATED, COMPLETED, EXPIRED, CANCELED)

ORDER_TRANSITIONS = (
    {"trigger": "pay", "source": CREATED, "dest": COMPLETED},
    {"trigger": "expire", "source": CREATED, "dest": EXPIRED},
    {"trigger": "cancel", "source": CREATED, "dest": CANCELED},
    # A paid order without a shipment whose instrument allows it: DELETE reverses the payment.
    {"trigger": "reverse", "source": COMPLETED, "dest": CANCELED, "conditions": ["is_reversible"]},
    # Internal transitions (dest None): allowed only where listed, the state stays.
    {"trigger": "update", "source": CREATED, "dest": None},
    {"trigger": "ship", "source": COMPLETED, "dest": None},
    {"trigger": "refund", "source": COMPLETED, "dest": None},
)

DRAFT = "draft"
REFUND_STATES = (DRAFT, CREATED, COMPLETED, CANCELED)
REFUND_TRANSITIONS = (
    {"trigger": "return_money", "source": CREATED, "dest": COMPLETED},
    {"trigger": "cancel", "source": CREATED, "dest": CANCELED},
)


def _machine(states: tuple[str, ...], transitions: tuple[dict[str, Any], ...], initial: str, name: str) -> Machine:
    # One shared machine per kind of object, no model attached: records keep only ``state`` and
    # are fired through ``machine.events[trigger].trigger(record)`` (cheap, and thread-safe under
    # the state lock the engine holds).
    machine = Machine(model=None, states=list(states), initial=initial, auto_transitions=False, name=name)
    for transition in transitions:
        machine.add_transition(**transition)
    return machine


ORDER_MACHINE = _machine(ORDER_STATES, ORDER_TRANSITIONS, CREATED, "sandbox-order")
REFUND_MACHINE = _machine(REFUND_STATES, REFUND_TRANSITIONS, CREATED, "sandbox-refund")


def allowed(machine: Machine, record: Any, trigger: str) -> bool:
    """True when ``trigger`` has a transition from the record's state (conditions not evaluated)."""
    return trigger in machine.get_triggers(record.state)


def fire(machine: Machine, record: Any, trigger: str, action: str) -> None:
    """Fire ``trigger`` on ``record`` or raise 422 ``wrong_order_status`` and change nothing."""
    if not allowed(machine, record, trigger) or not machine.events[trigger].trigger(record):
        raise wrong_order_status(action, record.state)


def wrong_order_status(action: str, state: str) -> ApiError:
    return api_error(422, "wrong_order_status", f"{action} is not allowed for an order in status {state!r}")


def cancel_trigger(record: Any) -> str:
    """Which transition a DELETE is: a plain cancel before payment, a reversal of a refused paid
    order (§3.4), or nothing (the caller's ``fire`` then answers ``wrong_order_status``)."""
    return "reverse" if record.state == COMPLETED else "cancel"


def is_due_to_expire(record: Any, now: datetime) -> bool:
    if record.state != CREATED:
        return False
    expires = parse_datetime(record.data.get("expirationDate"))
    return expires is not None and expires <= now


# --- errors ------------------------------------------------------------------------------------

_ERROR_CLASSES: dict[int, type[ApiError]] = {
    400: InvalidRequestError, 401: AuthenticationError, 403: AuthenticationError,
    404: NotFoundError, 405: InvalidRequestError, 409: InvalidRequestError,
    422: InvalidRequestError, 429: RateLimitError,
}


def api_error(status: int, code: str, message: str, fields: list[dict[str, str]] | None = None,
              **kwargs: Any) -> ApiError:
    """The error InvoiceBox answers with; :mod:`.app` turns it into the error envelope."""
    cls = _ERROR_CLASSES.get(status, ServerError if status >= 500 else InvalidRequestError)
    return cls(message, status=status, code=code, fields=fields, **kwargs)


def field_problem(name: str, message: str, code: str = "wrong_value") -> dict[str, str]:
    return {"name": name, "code": code, "message": message}


def validation_error(fields: list[dict[str, str]], status: int = 422) -> ApiError:
    message = fields[0]["message"] + (f" (and {len(fields) - 1} more)" if len(fields) > 1 else "")
    return api_error(status, "validation", message, fields)


def not_found(what: str, ident: object) -> ApiError:
    return api_error(404, "not_found", f"{what} {ident} not found")


# --- order creation and update: the rule book's checks, answered as InvoiceBox answers -----------

# Required fields, lengths, enums and the basket's arithmetic are the rule book's
# (invoicebox_flow.rulebook: ORDER_REQUIRED, ITEM_REQUIRED, ORDER_LENGTHS, CURRENCIES, ...).
# Fields the server owns: present in responses, ignored when a shop sends them in an update.
SERVER_FIELDS = frozenset({"id", "orderContainerId", "status", "createdAt", "paidAt", "paymentUrl",
                           "subtype", "processingStatus", "fileIds", "merchantId", "merchantOrderId",
                           "shippingUnavailable"})


def require_object(payload: Any, what: str = "request body") -> Mapping[str, Any]:
    if not isinstance(payload, Mapping):
        raise api_error(400, "validation", f"{what} must be a JSON object")
    return payload


def refused(report: rulebook.Report, what: str) -> None:
    """Answer 422 for the rule book's first problem, every problem in ``fields``; nothing changes.

    The top-level code is the rule's (the documented one where the docs name one); each field's
    code is ``wrong_value``, as in the only real error body published (the SDK's mock)."""
    report.log_warnings(f"sandbox: {what}")
    if report.problems:
        first = report.problems[0]
        more = f" (and {len(report.problems) - 1} more)" if len(report.problems) > 1 else ""
        raise api_error(422, first.code, first.message + more,
                        [field_problem(p.field, p.message) for p in report.problems])


def check_new_order(payload: Any, *, merchant_id: str, now: datetime) -> None:
    """Everything create-order checks; raises with the rule book's codes (422), or 403 when the
    merchantId is not this account's."""
    payload = require_object(payload)
    report = rulebook.check_order(payload, now=now)
    missing = [p for p in report.problems if p.code == "validation"]
    if missing:
        refused(rulebook.Report(tuple(missing)), "create order")
    if payload["merchantId"] != merchant_id:
        raise api_error(403, "forbidden", "merchantId does not belong to this account",
                        [field_problem("merchantId", "unknown merchant", "forbidden")])
    refused(report, "create order")


def round_policy(order: Mapping[str, Any]) -> str:
    return str(rulebook.round_policy_of(order))


def merged_update(record: Any, changes: Any, *, merchant_id: str, now: datetime) -> dict[str, Any]:
    """The order data after a PUT, validated like a new order; raises and changes nothing."""
    changes = require_object(changes)
    if not allowed(ORDER_MACHINE, record, "update"):
        raise wrong_order_status("update", record.state)
    if "merchantId" in changes and changes["merchantId"] != merchant_id:
        raise api_error(403, "forbidden", "merchantId does not belong to this account")
    merged = dict(record.data)
    merged.update({k: v for k, v in changes.items() if k not in SERVER_FIELDS})
    refused(rulebook.check_order(merged, now=now, check_expiration="expirationDate" in changes), "update order")
    return merged


# --- payer, receipts and documents ----------------------------------------------------------------

PAYER_FIELDS = ("name", "email", "phone", "vatNumber", "taxRegistrationReasonCode")


def payer_variant(order: Mapping[str, Any]) -> str:
    """``legal`` for organisations and sole proprietors, else ``private`` (type missing too)."""
    customer = order.get("customer")
    return "legal" if isinstance(customer, Mapping) and customer.get("type") == "legal" else "private"


def contact_of(customer: Mapping[str, Any] | None) -> str | None:
    """Where receipts and documents go: the e-mail, else the phone."""
    if not isinstance(customer, Mapping):
        return None
    return customer.get("email") or customer.get("phone") or None


def locked_payer_fields(order: Mapping[str, Any]) -> frozenset[str]:
    """Payer fields the buyer may not change on the page (``invoiceSetting``, §3.1)."""
    setting = order.get("invoiceSetting")
    if not isinstance(setting, Mapping):
        return frozenset()
    if setting.get("customerLocked"):
        return frozenset(PAYER_FIELDS)
    fields = setting.get("customerLockedFields") or ()
    return frozenset(f for f in fields if isinstance(f, str))


def customer_after_payment(order: Mapping[str, Any], submitted: Mapping[str, str]) -> dict[str, Any]:
    """The customer as the buyer left it on the page: unlocked, non-empty fields replaced."""
    customer = dict(order.get("customer") or {})
    locked = locked_payer_fields(order)
    names = PAYER_FIELDS if payer_variant(order) == "legal" else PAYER_FIELDS[:3]
    for name in names:
        value = (submitted.get(name) or "").strip()
        if value and name not in locked:
            customer[name] = value
    return customer


# --- shipments and refunds: what is left per line ----------------------------------------------------


def money(value: Any) -> Decimal:
    return to_decimal(value).quantize(KOPECK, rounding=ROUND_HALF_UP)


def _ordered_by_sku(order: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Order lines summed per ``sku`` (the key InvoiceBox matches shipments and refunds by)."""
    lines: dict[str, dict[str, Any]] = {}
    for item in order.get("basketItems") or ():
        sku = str(item.get("sku"))
        entry = lines.setdefault(sku, {"line": item, "quantity": Decimal(0), "amount": Decimal(0), "vat": Decimal(0)})
        entry["quantity"] += to_decimal(item["quantity"])
        entry["amount"] += money(item["totalAmount"])
        entry["vat"] += money(item["totalVatAmount"])
    return lines


def _used_by_sku(batches: Sequence[Sequence[Mapping[str, Any]]]) -> dict[str, dict[str, Decimal]]:
    used: dict[str, dict[str, Decimal]] = {}
    for lines in batches:
        for item in lines:
            entry = used.setdefault(str(item.get("sku")), {"quantity": Decimal(0), "amount": Decimal(0), "vat": Decimal(0)})
            entry["quantity"] += to_decimal(item["quantity"])
            entry["amount"] += money(item["totalAmount"])
            entry["vat"] += money(item["totalVatAmount"])
    return used


def _zero() -> dict[str, Decimal]:
    return {"quantity": Decimal(0), "amount": Decimal(0), "vat": Decimal(0)}


def shipment_lines(record: Any, payload: Any, previous: Sequence[Mapping[str, Any]],
                   refunds: Sequence[Any] = ()) -> list[dict[str, Any]]:
    """The shipped lines; raises unless the order is paid, every line is a line of the order and the cumulative shipped quantity and
    amount stay within what was ordered and not refunded (a refunded line cannot be settled in
    full any more; the reference is silent here — inferred)."""
    payload = require_object(payload)
    items = payload.get("basketItems")
    if not isinstance(items, list) or not items:
        raise validation_error([field_problem("basketItems", "basketItems must be a non-empty list", "required")])
    if not allowed(ORDER_MACHINE, record, "ship"):
        raise wrong_order_status("shipment", record.state)
    ordered = _ordered_by_sku(record.data)
    used = _used_by_sku([s["basketItems"] for s in previous]
                        + [r.data["basketItems"] for r in counted_refunds(list(refunds))])
    lines: list[dict[str, Any]] = []
    problems: list[dict[str, str]] = []
    for index, item in enumerate(items):
        at = f"basketItems[{index}]"
        if not isinstance(item, Mapping) or str(item.get("sku")) not in ordered:
            problems.append(field_problem(f"{at}.sku", "not a line of this order"))
            continue
        try:
            quantity = to_decimal(item.get("quantity", ""), name=f"{at}.quantity")
        except ValidationError:
            quantity = Decimal(0)
        if quantity <= 0:
            problems.append(field_problem(f"{at}.quantity", "quantity must be a positive number"))
            continue
        # complete lines only: the rule book refuses a shipment line without its money (audit row 6)
        lines.append({str(k): v for k, v in item.items()})
    if problems:
        raise validation_error(problems)
    this = _used_by_sku([lines])
    for sku, wanted in this.items():
        done = used.get(sku, _zero())
        if done["quantity"] + wanted["quantity"] > ordered[sku]["quantity"] or \
                done["amount"] + wanted["amount"] > ordered[sku]["amount"]:
            # Undocumented code (the API reference names none for over-shipment).
            raise api_error(422, "wrong_shipment_amount",
                            f"shipment of {sku!r} exceeds what was ordered and not refunded",
                            [field_problem("basketItems", f"{sku}: ordered {ordered[sku]['quantity']}, "
                                           f"shipped or refunded before {done['quantity']}",
                                           "wrong_shipment_amount")])
    return lines


NEW_REFUND_STATUSES = rulebook.REFUND_STATUSES


def check_refund_request(payload: Any) -> Mapping[str, Any]:
    """The refund request on its own, before its order is looked up: the rule book's refund
    check without the per-line arithmetic (that needs the order's round policy: check_refund)."""
    body = require_object(payload)
    refused(rulebook.check_refund(body, round_policy=None), "refund")
    return body


def check_shipment_request(payload: Any) -> Mapping[str, Any]:
    """The shipment request on its own: the order id and complete basket lines (a line of only
    ``sku`` and ``quantity`` is refused, not filled in), unique SKUs."""
    body = require_object(payload)
    refused(rulebook.check_shipment(body), "shipment")
    return body


def counted_refunds(refunds: list[Any]) -> list[Any]:
    """Refunds that move money: drafts do not (they wait for a correction order, §3.9)."""
    return [r for r in refunds if r.state in (CREATED, COMPLETED)]


def check_refund(record: Any, payload: Mapping[str, Any], refunds: list[Any]) -> None:
    """Refund rules: only for a paid order, lines of the order, and per line and in total no more
    than what was paid minus what was refunded (error code ``wrong_refund_amount``, 422 — the
    docs name no code for this; it is the sandbox's own)."""
    if not allowed(ORDER_MACHINE, record, "refund"):
        raise wrong_order_status("refund", record.state)
    status = payload.get("status", CREATED)
    if status not in NEW_REFUND_STATUSES:
        raise validation_error([field_problem("status", "status must be 'created' or 'draft'")])
    try:
        validate_basket(payload["amount"], payload["vatAmount"], payload["basketItems"], round_policy(record.data))
    except BasketError as error:
        raise api_error(422, error.code, error.message, error.fields) from None
    ordered = _ordered_by_sku(record.data)
    problems = [field_problem(f"basketItems[{i}].sku", "not a line of this order")
                for i, item in enumerate(payload["basketItems"]) if str(item.get("sku")) not in ordered]
    if problems:
        raise validation_error(problems)
    used = _used_by_sku([r.data["basketItems"] for r in counted_refunds(refunds)])
    for sku, wanted in _used_by_sku([payload["basketItems"]]).items():
        done = used.get(sku, _zero())
        # Quantity and money are limited; VAT is not summed against the line's VAT because each
        # refund line rounds its own VAT to kopecks (3 × 16.67 > 50.00 for a 3 × 100.00 line).
        for key, label in (("quantity", "quantity"), ("amount", "amount")):
            if done[key] + wanted[key] > ordered[sku][key]:
                left = ordered[sku][key] - done[key]
                raise api_error(422, "wrong_refund_amount",
                                f"refund of {sku!r} exceeds what is left to refund ({label} left: {left})",
                                [field_problem("basketItems", f"{sku}: {label} left {left}", "wrong_refund_amount")])
    paid = money(record.data["amount"])
    refunded = sum((money(r.data["amount"]) for r in counted_refunds(refunds)), Decimal(0))
    if money(payload["amount"]) > paid - refunded:
        raise api_error(422, "wrong_refund_amount",
                        f"refund {payload['amount']} exceeds paid minus refunded ({paid - refunded})",
                        [field_problem("amount", f"at most {paid - refunded}", "wrong_refund_amount")])


def refundable_items(record: Any, refunds: list[Any]) -> list[dict[str, Any]]:
    """Lines still refundable, per ``sku``: the remaining quantity and money, with the remaining
    money also as ``availableAmount``/``availableVatAmount`` (MCP shape, §3.6)."""
    if record.state != COMPLETED:
        return []
    ordered = _ordered_by_sku(record.data)
    used = _used_by_sku([r.data["basketItems"] for r in counted_refunds(refunds)])
    items = []
    for sku, line in ordered.items():
        done = used.get(sku, _zero())
        amount_left = line["amount"] - done["amount"]
        if amount_left <= 0:
            continue
        item = dict(line["line"])
        vat_left = max(line["vat"] - done["vat"], Decimal("0.00"))
        item.update(quantity=max(line["quantity"] - done["quantity"], Decimal(0)), totalAmount=amount_left,
                    totalVatAmount=vat_left, availableAmount=amount_left, availableVatAmount=vat_left)
        items.append(item)
    return items
