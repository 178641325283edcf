"""Every trigger in every state of every machine, generated from the definitions.

A state or transition added to ``flows/lifecycle.py`` is covered here without touching this
file: the table is the cross product of the machine's states and events.
"""

from __future__ import annotations

import pytest

from invoicebox_flow import engine
from invoicebox_flow.engine import Condition
from invoicebox_flow.errors import IllegalTransitionError
from invoicebox_flow.flows import DOCUMENTED_FLOW, SEQUENCES, State, Variant, lifecycle_machine, phase_machine
from invoicebox_flow.flows.machines import phase_transitions


def lifecycle(variant: Variant):
    return DOCUMENTED_FLOW.lifecycle(variant)


def next_state(variant: Variant, state: str, trigger: str, *, target: str | None = None, nothing_left: bool = False,
               order_id: str = "?") -> str:
    """The engine's firing, with the order's "nothing_left" fact given instead of read from an order."""
    conditions = {"something_to_ship": Condition(lambda view: not nothing_left, "nothing left to ship")}
    return engine.next_state(lifecycle(variant), state, trigger, target=target, order_id=order_id,
                             conditions=conditions, view=lambda: None)


def _dynamic(variant: Variant, trigger: str) -> list[str]:
    lc = lifecycle(variant)
    return sorted({d for tr in lc.transitions_of(trigger) if lc.is_dynamic(tr) for d in lc.destinations(tr)})


def _expected(variant: Variant, state: str, trigger: str, target: str | None, nothing_left: bool) -> str | None:
    """What the definition says: the destination, or None for "refused"."""
    lc = lifecycle(variant)
    tr = lc.transition(trigger, state)
    if tr is None or (tr.guard == "something_to_ship" and nothing_left):
        return None
    if lc.is_dynamic(tr):
        return target if target in lc.destinations(tr) else None
    return tr.dest if tr.dest else state


def _cases():
    for variant in Variant:
        machine = lifecycle_machine(lifecycle(variant))
        for state in machine.states:
            for trigger in machine.events:
                targets = _dynamic(variant, trigger) or [None]
                for target in targets:
                    for nothing_left in (False, True) if trigger == "request_shipment" else (False,):
                        yield pytest.param(variant, state, trigger, target, nothing_left,
                                           id=f"{variant.value}-{state}-{trigger}-{target or ''}-{'nothing_left' if nothing_left else ''}")


@pytest.mark.parametrize(("variant", "state", "trigger", "target", "nothing_left"), list(_cases()))
def test_every_trigger_in_every_state(variant, state, trigger, target, nothing_left):
    expected = _expected(variant, state, trigger, target, nothing_left)
    if expected is None:
        with pytest.raises(IllegalTransitionError) as err:
            next_state(variant, state, trigger, target=target, nothing_left=nothing_left, order_id="T-1")
        assert err.value.state == state and err.value.action == trigger
        assert trigger not in err.value.allowed or nothing_left or target is not None
    else:
        assert next_state(variant, state, trigger, target=target, nothing_left=nothing_left) == expected


@pytest.mark.parametrize("variant", list(Variant))
def test_unknown_trigger_is_refused_with_the_allowed_ones(variant):
    with pytest.raises(IllegalTransitionError) as err:
        next_state(variant, State.PAID.value, "teleport", order_id="T-2")
    assert "request_shipment" in err.value.allowed and "cancel" not in err.value.allowed


def test_send_documents_exists_for_legal_buyers_only():
    assert "send_documents" in lifecycle_machine(lifecycle(Variant.LEGAL)).events
    assert "send_documents" not in lifecycle_machine(lifecycle(Variant.PRIVATE)).events
    with pytest.raises(IllegalTransitionError):
        next_state(Variant.PRIVATE, State.SHIPPED.value, "send_documents")


# --- the rules of issue and documentation, stated independently of the table -------------


@pytest.mark.parametrize("variant", list(Variant))
@pytest.mark.parametrize("state", [State.ORDER_PLACED, State.PAYMENT_LINK_ISSUED, State.BUYER_REDIRECTED,
                                   State.AWAITING_PAYMENT, State.PAYMENT_DECLINED, State.CANCELED, State.EXPIRED])
def test_shipment_needs_a_paid_order(variant, state):
    with pytest.raises(IllegalTransitionError):
        next_state(variant, state.value, "request_shipment")


@pytest.mark.parametrize("variant", list(Variant))
@pytest.mark.parametrize("action", ["update", "cancel"])
@pytest.mark.parametrize("state", [State.PAID, State.SHIPPED, State.PARTIALLY_REFUNDED, State.REFUNDED])
def test_update_and_cancel_need_an_unpaid_order(variant, action, state):
    with pytest.raises(IllegalTransitionError):
        next_state(variant, state.value, action)


@pytest.mark.parametrize("variant", list(Variant))
def test_a_paid_order_cannot_be_paid_twice(variant):
    for state in (State.PAID, State.SHIPPED, State.PARTIALLY_REFUNDED, State.REFUNDED, State.SHIPMENT_REQUESTED):
        with pytest.raises(IllegalTransitionError):
            next_state(variant, state.value, "confirm_payment")


@pytest.mark.parametrize("variant", list(Variant))
def test_shipping_when_nothing_is_left_is_refused_even_where_the_state_would_allow_it(variant):
    assert next_state(variant, State.PARTIALLY_REFUNDED.value, "request_shipment") == State.SHIPMENT_REQUESTED.value
    with pytest.raises(IllegalTransitionError, match="nothing left to ship"):
        next_state(variant, State.PARTIALLY_REFUNDED.value, "request_shipment", nothing_left=True)


@pytest.mark.parametrize("variant", list(Variant))
def test_final_states_allow_nothing_but_documents(variant):
    machine = lifecycle_machine(lifecycle(variant))
    for state in (State.CANCELED, State.EXPIRED):
        for trigger in machine.events:
            with pytest.raises(IllegalTransitionError):
                next_state(variant, state.value, trigger, target=State.PAID.value)


def test_happy_path_private_walks_the_documented_order():
    v, state = Variant.PRIVATE, State.NEW.value
    for trigger, target in [("place", None), ("request_invoice", None), ("issue_payment_link", None),
                            ("redirect_buyer", None), ("buyer_returned", None), ("confirm_payment", None),
                            ("request_shipment", None), ("shipment_accepted", State.PARTIALLY_SHIPPED.value),
                            ("request_shipment", None), ("shipment_accepted", State.SHIPPED.value), ("claim_refund", None),
                            ("list_refundable", None), ("request_refund", None),
                            ("refund_accepted", State.PARTIALLY_REFUNDED.value), ("request_refund", None),
                            ("refund_accepted", State.REFUNDED.value)]:
        state = next_state(v, state, trigger, target=target)
    assert state == State.REFUNDED.value


@pytest.mark.parametrize("seq", SEQUENCES, ids=lambda s: s.name)
def test_each_documented_sequence_has_its_own_machine_with_its_phase_only(seq):
    lc = lifecycle(seq.variant)
    machine = phase_machine(lc, seq.phase)
    phase_triggers = {tr.trigger for tr in phase_transitions(lc, seq.phase)}
    assert set(machine.events) == phase_triggers
    for step in seq.steps:
        for trigger in step.triggers:
            assert trigger in machine.events, f"{seq.name} step {step.number}: {trigger} has no transition"
