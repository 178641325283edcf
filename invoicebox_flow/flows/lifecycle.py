"""The shop's order lifecycle: states, transitions and the `transitions` machines built from them.

An order lives through the three documented phases of its buyer variant — payment, shipment,
refund — plus the endings the diagrams do not draw (cancellation, expiry, a declined payment,
refusal with ``shipping_unavailable``). Each :class:`Transition` names the documented step it
carries out (``sequence`` + ``step``) or says it is an undrawn path (``sequence=None``).

Calls to InvoiceBox are split in two transitions: the *request* (``invoice_requested``,
``shipment_requested``, ``refund_requested``) is committed before the call, so that two workers
cannot both make it, and the *outcome* (accepted → next state, failed → back to where it came
from, recorded in ``resume_state``) is committed after. A crash in between leaves the order in a
``*_requested`` state that reconciliation resolves by looking the object up at InvoiceBox.

Machines are built once per variant and per documented sequence, with ``model=None`` and
``auto_transitions=False``; orders are plain objects with a ``state`` attribute fired through
``machine.events[name].trigger(order)`` (see docs on why: one machine per order costs ~77 KiB).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

import attrs
from transitions import Machine

from .sequences import SEQUENCES, sequence
from .steps import Phase, Sequence, Step, Variant


class State(str, enum.Enum):
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
    SHIPPED = "shipped"
    REFUND_REQUESTED = "refund_requested"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    CANCELED = "canceled"
    EXPIRED = "expired"


FINAL_STATES = frozenset({State.REFUNDED, State.CANCELED, State.EXPIRED})

# States in which the order is not paid yet and InvoiceBox knows it.
UNPAID_AT_INVOICEBOX = (State.PAYMENT_LINK_ISSUED, State.BUYER_REDIRECTED, State.AWAITING_PAYMENT, State.PAYMENT_DECLINED)
# States from which money can be returned.
REFUNDABLE = (State.PAID, State.SHIPPED, State.PARTIALLY_REFUNDED, State.SHIPPING_UNAVAILABLE)
# States a shipment can start from (a partially refunded order may still ship what is left;
# the engine checks that it was not shipped already).
SHIPPABLE = (State.PAID, State.PARTIALLY_REFUNDED)


@attrs.frozen
class Transition:
    trigger: str
    sources: tuple[State, ...]
    dest: State | None  # None: internal transition, the state stays
    phase: Phase
    sequence_phase: Phase | None = None  # the documented sequence it belongs to (None: not drawn)
    step: int | None = None  # the number of the documented step it carries out or observes
    condition: str | None = None  # a model method name; the engine checks it and names it in errors
    variants: tuple[Variant, ...] = (Variant.PRIVATE, Variant.LEGAL)
    description: str = ""

    def step_in(self, variant: Variant) -> Step | None:
        if self.sequence_phase is None or self.step is None:
            return None
        return sequence(f"{variant.value}-{self.sequence_phase.value}").step(self.step)


def _t(trigger: str, sources: Iterable[State] | State, dest: State | None, phase: Phase, *,
       drawn: bool = True, step: int | None = None, **kwargs) -> Transition:
    if isinstance(sources, State):
        sources = (sources,)
    return Transition(trigger, tuple(sources), dest, phase, phase if drawn and step else None, step, **kwargs)


P, SH, RF = Phase.PAYMENT, Phase.SHIPMENT, Phase.REFUND
ST = State

TRANSITIONS: tuple[Transition, ...] = (
    # --- payment (documented steps 1, 2, 3, 4 and the notification) ---------------------------
    _t("place", ST.NEW, ST.ORDER_PLACED, P, step=1, description="the buyer places an order in the shop"),
    _t("request_invoice", ST.ORDER_PLACED, ST.INVOICE_REQUESTED, P, step=2,
       description="the shop calls create order"),
    _t("issue_payment_link", ST.INVOICE_REQUESTED, ST.PAYMENT_LINK_ISSUED, P, step=3,
       description="InvoiceBox answered with the order id and payment link"),
    _t("invoice_failed", ST.INVOICE_REQUESTED, ST.ORDER_PLACED, P, drawn=False,
       description="create order was refused; the order can be corrected and requested again"),
    _t("redirect_buyer", ST.PAYMENT_LINK_ISSUED, ST.BUYER_REDIRECTED, P, step=4,
       description="the shop sends the buyer to the payment page"),
    _t("buyer_returned", (ST.PAYMENT_LINK_ISSUED, ST.BUYER_REDIRECTED, ST.PAYMENT_DECLINED), ST.AWAITING_PAYMENT, P,
       drawn=False,
       description="the buyer came back to successUrl; the payment notification is still to come"),
    _t("decline_payment", (ST.PAYMENT_LINK_ISSUED, ST.BUYER_REDIRECTED, ST.AWAITING_PAYMENT), ST.PAYMENT_DECLINED, P,
       drawn=False, description="the buyer declined on the payment page and came back to failUrl"),
    _t("confirm_payment", UNPAID_AT_INVOICEBOX, ST.PAID, P, step=None,
       description="a signed notification says the order is completed"),
    _t("refuse_shipping", UNPAID_AT_INVOICEBOX, ST.SHIPPING_UNAVAILABLE, P, drawn=False,
       description="paid, but the shop answered shipping_unavailable; it must refund"),
    _t("update", UNPAID_AT_INVOICEBOX, None, P, drawn=False, description="the shop updates the unpaid order"),
    _t("cancel", (ST.ORDER_PLACED,) + UNPAID_AT_INVOICEBOX + (ST.SHIPPING_UNAVAILABLE,), ST.CANCELED, P,
       drawn=False, description="the shop cancels the unpaid order, or reverses a payment it refused"),
    _t("expire", UNPAID_AT_INVOICEBOX, ST.EXPIRED, P, drawn=False,
       description="InvoiceBox reports the order expired unpaid"),
    # --- shipment ----------------------------------------------------------------------------
    _t("request_shipment", SHIPPABLE, ST.SHIPMENT_REQUESTED, SH, step=1, condition="not_shipped",
       description="the shop calls create shipment"),
    _t("shipment_accepted", ST.SHIPMENT_REQUESTED, ST.SHIPPED, SH, step=1,
       description="InvoiceBox registered the shipment"),
    _t("shipment_failed", ST.SHIPMENT_REQUESTED, None, SH, drawn=False,
       description="create shipment was refused; back to the state before the request"),
    _t("send_documents", ST.SHIPPED, None, SH, step=3, variants=(Variant.LEGAL,),
       description="the shop sends the buyer its own reporting documents for the shipment"),
    # --- refund ------------------------------------------------------------------------------
    _t("claim_refund", REFUNDABLE, None, RF, step=1, description="the buyer asks the shop for a refund"),
    _t("list_refundable", REFUNDABLE, None, RF, step=2, description="the shop reads the refundable lines"),
    _t("request_refund", REFUNDABLE, ST.REFUND_REQUESTED, RF, step=3, description="the shop calls create refund"),
    _t("refund_accepted", ST.REFUND_REQUESTED, None, RF, step=3,
       description="InvoiceBox registered the refund: partially refunded, or refunded when nothing is left"),
    _t("refund_failed", ST.REFUND_REQUESTED, None, RF, drawn=False,
       description="create refund was refused; back to the state before the request"),
    _t("send_documents", (ST.PARTIALLY_REFUNDED, ST.REFUNDED), None, RF, step=6, variants=(Variant.LEGAL,),
       description="the shop sends the buyer its own reporting documents for the refund"),
)

# Transitions whose destination is decided at run time (the engine passes it explicitly):
# the outcome of a call returns to ``resume_state``; a refund ends partially or fully refunded.
DYNAMIC_DESTINATIONS: dict[str, tuple[State, ...]] = {
    "shipment_failed": SHIPPABLE,
    "refund_failed": REFUNDABLE,
    "refund_accepted": (ST.PARTIALLY_REFUNDED, ST.REFUNDED),
}
# The notification is the last step of the payment sequence: its number differs by variant.
_NOTIFICATION_STEP = {Variant.PRIVATE: 10, Variant.LEGAL: 8}


def transitions_for(variant: Variant) -> tuple[Transition, ...]:
    """The lifecycle transitions of one buyer variant, with every step number resolved."""
    out = []
    for tr in TRANSITIONS:
        if variant not in tr.variants:
            continue
        if tr.trigger == "confirm_payment":
            tr = attrs.evolve(tr, sequence_phase=Phase.PAYMENT, step=_NOTIFICATION_STEP[variant])
        out.append(tr)
    return tuple(out)


def expand(tr: Transition) -> list[dict]:
    """`transitions` transition dicts for one lifecycle transition.

    Dynamic destinations become one machine transition per possible destination, guarded by
    ``target_is_<state>`` so the engine chooses which one fires.
    """
    sources = [s.value for s in tr.sources]
    if tr.trigger in DYNAMIC_DESTINATIONS:
        return [
            {"trigger": tr.trigger, "source": sources, "dest": dest.value, "conditions": [f"target_is_{dest.value}"]}
            for dest in DYNAMIC_DESTINATIONS[tr.trigger]
        ]
    item = {"trigger": tr.trigger, "source": sources, "dest": tr.dest.value if tr.dest else None}
    if tr.condition:
        item["conditions"] = [tr.condition]
    return [item]


def states_of(transitions: Iterable[Transition]) -> list[str]:
    seen: dict[str, None] = {}
    for tr in transitions:
        for s in tr.sources:
            seen[s.value] = None
        for dest in DYNAMIC_DESTINATIONS.get(tr.trigger, (tr.dest,) if tr.dest else ()):
            seen[dest.value] = None
    return [s.value for s in State if s.value in seen]


def build_machine(transitions: Iterable[Transition], initial: str, name: str) -> Machine:
    """One shared machine for many orders: no model attached, no auto transitions."""
    transitions = tuple(transitions)
    machine = Machine(
        model=None,
        states=states_of(transitions),
        initial=initial,
        auto_transitions=False,
        send_event=False,
        name=name,
    )
    for tr in transitions:
        for item in expand(tr):
            machine.add_transition(**item)
    return machine


def lifecycle_machine(variant: Variant) -> Machine:
    """The whole order lifecycle of a buyer variant: payment, shipment and refund phases."""
    return _LIFECYCLES[variant]


def sequence_transitions(seq: Sequence) -> tuple[Transition, ...]:
    """Transitions of the lifecycle that belong to one documented sequence's phase."""
    return tuple(tr for tr in transitions_for(seq.variant) if tr.phase is seq.phase)


def sequence_machine(seq: Sequence) -> Machine:
    """The machine of one documented sequence (a phase of the lifecycle, with its undrawn paths)."""
    return _PHASE_MACHINES[seq.name]


def _phase_initial(seq: Sequence) -> str:
    return {Phase.PAYMENT: State.NEW, Phase.SHIPMENT: State.PAID, Phase.REFUND: State.PAID}[seq.phase].value


_LIFECYCLES: dict[Variant, Machine] = {
    v: build_machine(transitions_for(v), State.NEW.value, f"{v.value}-lifecycle") for v in Variant
}
_PHASE_MACHINES: dict[str, Machine] = {
    seq.name: build_machine(sequence_transitions(seq), _phase_initial(seq), seq.name) for seq in SEQUENCES
}


def allowed_triggers(variant: Variant, state: str) -> list[str]:
    """Triggers with a transition from ``state`` (conditions not evaluated)."""
    return sorted({tr.trigger for tr in transitions_for(variant) if any(s.value == state for s in tr.sources)})
