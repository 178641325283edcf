"""The documented lifecycle of each buyer variant, built from the six documented sequences.

The documented transitions are declared on the steps of :mod:`.sequences`; this module adds the
paths real orders take that the diagrams do not draw, and builds the two lifecycles of
:data:`DOCUMENTED_FLOW`.

Calls to InvoiceBox are split in two transitions: the *request* (``invoice_requested``,
``shipment_requested``, ``refund_requested``) is committed before the call, so that two workers
cannot both make it, and the *outcome* (accepted → next state, refused → back to where it came
from) is committed after. A crash in between leaves the order in a ``*_requested`` state that
reconciliation resolves by looking the object up at InvoiceBox.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from ..protocol import CREATE_ORDER, CREATE_REFUND, CREATE_SHIPMENT
from .definition import FlowDefinition, Lifecycle
from .sequences import sequences_of
from .states import DOCUMENTED_STATES, REFUNDABLE, SHIPMENT_OUTCOMES, SHIPPABLE, UNPAID_AT_INVOICEBOX, StateSpec
from .states import State as ST
from .steps import RESUME, CallRole, OneOf, Origin, Phase, Sequence, Transition, Variant
from .triggers import Trigger as TR

_P, _SH, _RF = Phase.PAYMENT, Phase.SHIPMENT, Phase.REFUND
# A canceled refund leaves the order where it was without it: partially refunded while other
# refunds stand, else the state the first refund was requested from.
REFUND_CANCEL_OUTCOMES = (ST.PARTIALLY_REFUNDED, *(s for s in REFUNDABLE if s != ST.PARTIALLY_REFUNDED))


def _undrawn(trigger: str, sources: object, dest: object, phase: Phase, description: str, **kwargs: object) -> Transition:
    return Transition(trigger, sources, dest, phase=phase, origin=Origin.UNDRAWN,  # type: ignore[arg-type]
                      description=description, **kwargs)  # type: ignore[arg-type]


#: The paths real orders take that the documented diagrams do not draw.
UNDRAWN: tuple[Transition, ...] = (
    _undrawn(TR.INVOICE_FAILED, ST.INVOICE_REQUESTED, RESUME, _P,
             "create order was refused; the order can be corrected and requested again",
             call=CREATE_ORDER, role=CallRole.REFUSED),
    _undrawn(TR.BUYER_RETURNED, (ST.PAYMENT_LINK_ISSUED, ST.BUYER_REDIRECTED, ST.PAYMENT_DECLINED), ST.AWAITING_PAYMENT,
             _P, "the buyer came back to successUrl; the payment notification is still to come"),
    _undrawn(TR.DECLINE_PAYMENT, (ST.PAYMENT_LINK_ISSUED, ST.BUYER_REDIRECTED, ST.AWAITING_PAYMENT), ST.PAYMENT_DECLINED,
             _P, "the buyer declined on the payment page and came back to failUrl"),
    _undrawn(TR.REFUSE_SHIPPING, UNPAID_AT_INVOICEBOX, ST.SHIPPING_UNAVAILABLE, _P,
             "paid, but the shop answered shipping_unavailable; it must refund"),
    _undrawn(TR.UPDATE, UNPAID_AT_INVOICEBOX, None, _P, "the shop updates the unpaid order"),
    _undrawn(TR.CANCEL, (ST.ORDER_PLACED, *UNPAID_AT_INVOICEBOX, ST.SHIPPING_UNAVAILABLE), ST.CANCELED, _P,
             "the shop cancels the unpaid order, or reverses a payment it refused"),
    _undrawn(TR.EXPIRE, UNPAID_AT_INVOICEBOX, ST.EXPIRED, _P, "InvoiceBox reports the order expired unpaid"),
    _undrawn(TR.SHIPMENT_FAILED, ST.SHIPMENT_REQUESTED, RESUME, _SH,
             "create shipment was refused; back to the state before the request",
             call=CREATE_SHIPMENT, role=CallRole.REFUSED),
    _undrawn(TR.SHIPMENT_OBSERVED, SHIPPABLE, OneOf(SHIPMENT_OUTCOMES), _SH,
             "InvoiceBox registered a shipment the shop did not request (an online service it ships itself)"),
    _undrawn(TR.REFUND_FAILED, ST.REFUND_REQUESTED, RESUME, _RF,
             "create refund was refused; back to the state before the request",
             call=CREATE_REFUND, role=CallRole.REFUSED),
    _undrawn(TR.REFUND_CANCELED, (ST.PARTIALLY_REFUNDED, ST.REFUNDED), OneOf(REFUND_CANCEL_OUTCOMES, back=True), _RF,
             "InvoiceBox canceled a refund (the money was not returned): back to where the order was without it"),
)
# Each undrawn path sits right after the documented step it is an alternative to, so that the
# lifecycle reads in the order an order lives it.
_AFTER: dict[str, str] = {TR.INVOICE_FAILED: TR.ISSUE_PAYMENT_LINK, TR.BUYER_RETURNED: TR.REDIRECT_BUYER,
          TR.DECLINE_PAYMENT: TR.BUYER_RETURNED, TR.REFUSE_SHIPPING: TR.CONFIRM_PAYMENT, TR.UPDATE: TR.REFUSE_SHIPPING,
          TR.CANCEL: TR.UPDATE, TR.EXPIRE: TR.CANCEL, TR.SHIPMENT_FAILED: TR.SHIPMENT_ACCEPTED,
          TR.SHIPMENT_OBSERVED: TR.SHIPMENT_FAILED, TR.REFUND_FAILED: TR.REFUND_ACCEPTED,
          TR.REFUND_CANCELED: TR.REFUND_FAILED}


def documented_transitions(sequences: Iterable[Sequence]) -> list[Transition]:
    """The transitions the steps of ``sequences`` declare, with their phase, sequence and step."""
    out = []
    for seq in sequences:
        for step in seq.steps:
            for move in step.moves:
                out.append(attrs.evolve(move, phase=seq.phase, sequence=seq.name, step=step.number,
                                        origin=Origin.DOCUMENTED))
    return out


def build_lifecycle(variant: Variant, sequences: Iterable[Sequence], *, flow: str = "invoicebox",
                    undrawn: Iterable[Transition] = UNDRAWN,
                    states: Iterable[StateSpec] = DOCUMENTED_STATES) -> Lifecycle:
    """A lifecycle from documented sequences (their steps' transitions) and undrawn paths.

    This is how the library's own lifecycles are built; a test (or InvoiceBox documenting one
    more step) can build one from other sequences the same way."""
    sequences = tuple(sequences)
    transitions = documented_transitions(sequences)
    for extra in undrawn:
        after = _AFTER.get(extra.trigger)
        at = max((i for i, tr in enumerate(transitions) if tr.trigger == after), default=len(transitions) - 1)
        transitions.insert(at + 1, extra)
    used = {s for tr in transitions for s in tr.sources} | {d for tr in transitions
                                                             for d in _destinations_named(tr)}
    specs = tuple(s for s in states if s.name in used or s.name == ST.NEW.value)
    return Lifecycle(variant, flow, sequences, specs, tuple(transitions), base=tuple(transitions))


def _destinations_named(tr: Transition) -> tuple[str, ...]:
    dest = tr.dest
    if isinstance(dest, str):
        return (dest,)
    states = getattr(dest, "states", None)
    return tuple(states) if states else ()


def documented_flow(name: str = "invoicebox") -> FlowDefinition:
    """The documented lifecycles of both buyer variants, as InvoiceBox draws them."""
    return FlowDefinition(name, private=build_lifecycle(Variant.PRIVATE, sequences_of(Variant.PRIVATE), flow=name),
                          legal=build_lifecycle(Variant.LEGAL, sequences_of(Variant.LEGAL), flow=name))


#: The flow every shop starts from: the six documented sequences and their undrawn paths.
DOCUMENTED_FLOW: FlowDefinition = documented_flow()

FINAL_STATES = frozenset(s.name for s in DOCUMENTED_STATES if s.final)
__all__ = ["DOCUMENTED_FLOW", "FINAL_STATES", "REFUNDABLE", "UNDRAWN", "build_lifecycle", "documented_flow",
           "documented_transitions"]
