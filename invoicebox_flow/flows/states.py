"""The states of the shop's order lifecycle, with their names for people and what they mean.

An order lives through the three documented phases of its buyer variant — payment, shipment,
refund — plus the endings the diagrams do not draw (cancellation, expiry, a declined payment,
refusal with ``shipping_unavailable``). A :class:`StateSpec` says what a state *means* to the
engine, so that rules never list states by hand:

* ``paid`` — the buyer's money is at InvoiceBox for this order (a repeated payment notification
  is answered ``success``, another InvoiceBox order's ``order_already_paid``; a buyer coming back
  to the shop changes nothing);
* ``requested`` — a call to InvoiceBox is under way (a ``*_requested`` bookkeeping state);
* ``final`` — nothing more will happen to the order;
* ``refines`` — an integrator's state that refines a documented one (``packed`` refines
  ``paid``) and behaves as it does wherever the documented lifecycle is concerned.
"""

from __future__ import annotations

import enum
import re

import attrs

from .steps import Phase

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class State(enum.StrEnum):
    """The documented lifecycle's states. A ``str``: ``State.PAID == "paid"`` and
    ``f"{State.PAID}" == "paid"``; an integrator's own states are plain strings."""

    NEW = "new"  # in memory only, before the order is first stored
    ORDER_PLACED = "order_placed"
    INVOICE_REQUESTED = "invoice_requested"
    PAYMENT_LINK_ISSUED = "payment_link_issued"
    BUYER_REDIRECTED = "buyer_redirected"
    AWAITING_PAYMENT = "awaiting_payment"  # the buyer came back to the shop; the notification has not
    PAYMENT_DECLINED = "payment_declined"  # the buyer declined on the page; may still pay later
    PAID = "paid"
    SHIPPING_UNAVAILABLE = "shipping_unavailable"  # paid, but the shop refused it; must be refunded
    SHIPMENT_REQUESTED = "shipment_requested"
    PARTIALLY_SHIPPED = "partially_shipped"  # some lines shipped, some still to ship
    SHIPPED = "shipped"
    REFUND_REQUESTED = "refund_requested"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    CANCELED = "canceled"
    EXPIRED = "expired"


def plain(name: str) -> str:
    """A state name as stored: the value of a :class:`State` member, any other name as is."""
    return name.value if isinstance(name, State) else str(name)


def _check_name(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not _NAME.match(value):
        raise ValueError(f"a state name is lower_snake_case ASCII (it is stored and used in diagrams), not {value!r}")


@attrs.frozen
class StateSpec:
    """One state of a lifecycle: its name, its labels for people, and what it means."""

    name: str = attrs.field(converter=plain, validator=_check_name)
    ru: str
    en: str
    phase: Phase
    paid: bool = False
    requested: bool = False
    final: bool = False
    refines: str | None = None  # extension states: the documented state they refine

    def label(self, language: str = "ru") -> str:
        return self.ru if language == "ru" else self.en


_P, _SH, _RF = Phase.PAYMENT, Phase.SHIPMENT, Phase.REFUND

DOCUMENTED_STATES: tuple[StateSpec, ...] = (
    StateSpec(State.NEW, "новый", "new", _P),
    StateSpec(State.ORDER_PLACED, "оформлен", "placed", _P),
    StateSpec(State.INVOICE_REQUESTED, "счёт запрошен", "invoice requested", _P, requested=True),
    StateSpec(State.PAYMENT_LINK_ISSUED, "ссылка на оплату получена", "payment link issued", _P),
    StateSpec(State.BUYER_REDIRECTED, "покупатель перенаправлен", "buyer redirected", _P),
    StateSpec(State.AWAITING_PAYMENT, "ожидает оплаты", "awaiting payment", _P),
    StateSpec(State.PAYMENT_DECLINED, "оплата отклонена", "payment declined", _P),
    StateSpec(State.PAID, "оплачен", "paid", _P, paid=True),
    StateSpec(State.SHIPPING_UNAVAILABLE, "отгрузка невозможна", "shipping unavailable", _P, paid=True),
    StateSpec(State.SHIPMENT_REQUESTED, "отгрузка запрошена", "shipment requested", _SH, paid=True, requested=True),
    StateSpec(State.PARTIALLY_SHIPPED, "частично отгружен", "partially shipped", _SH, paid=True),
    StateSpec(State.SHIPPED, "отгружен", "shipped", _SH, paid=True),
    StateSpec(State.REFUND_REQUESTED, "возврат запрошен", "refund requested", _RF, paid=True, requested=True),
    StateSpec(State.PARTIALLY_REFUNDED, "частично возвращён", "partially refunded", _RF, paid=True),
    StateSpec(State.REFUNDED, "возвращён", "refunded", _RF, paid=True, final=True),
    StateSpec(State.CANCELED, "отменён", "canceled", _P, final=True),
    StateSpec(State.EXPIRED, "истёк", "expired", _P, final=True),
)





# Named groups the transitions are declared with (the engine never lists states: it reads the
# traits above, or the sources of a transition, from the definition).
#: Not paid yet, and InvoiceBox knows the order: a payment notification confirms from here.
UNPAID_AT_INVOICEBOX: tuple[str, ...] = tuple(
    s.value for s in (State.PAYMENT_LINK_ISSUED, State.BUYER_REDIRECTED, State.AWAITING_PAYMENT, State.PAYMENT_DECLINED))
#: Money can be returned from here.
REFUNDABLE: tuple[str, ...] = tuple(s.value for s in (
    State.PAID, State.PARTIALLY_SHIPPED, State.SHIPPED, State.PARTIALLY_REFUNDED, State.SHIPPING_UNAVAILABLE))
#: A shipment can start from here (what is left: not shipped and not refunded).
SHIPPABLE: tuple[str, ...] = tuple(s.value for s in (State.PAID, State.PARTIALLY_SHIPPED, State.PARTIALLY_REFUNDED))
#: Where a shipment ends: everything shipped (or refunded), or something left to ship.
SHIPMENT_OUTCOMES: tuple[str, ...] = (State.PARTIALLY_SHIPPED.value, State.SHIPPED.value)
