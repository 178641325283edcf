"""The flow definition is a value: integrators extend it without forking, misuse is refused when
it is built, the documented diagrams never change, and a new documented step is one edit."""

from __future__ import annotations

import attrs
import pytest
from helpers import packing_flow

from invoicebox_flow.diagrams import generate, render_sequence
from invoicebox_flow.errors import DefinitionError
from invoicebox_flow.flows import (
    BUYER,
    DOCUMENTED_FLOW,
    INVOICEBOX,
    SEQUENCES,
    SHOP,
    Arrow,
    Message,
    Phase,
    State,
    StateSpec,
    Step,
    StepKind,
    Transition,
    Variant,
    build_lifecycle,
    extended_sequence,
    lifecycle_machine,
    sequences_of,
)
from invoicebox_flow.store import JournalEntry
from invoicebox_flow.tracing import journal_steps

# --- what an extension builds ------------------------------------------------------------------


@pytest.mark.parametrize("variant", list(Variant))
def test_an_inserted_state_sits_between_its_documented_neighbours(variant):
    lc = packing_flow().lifecycle(variant)
    # what InvoiceBox may do by itself (a shipment it makes) stays observable from paid
    assert lc.allowed("paid") == sorted({"claim_refund", "list_refundable", "pack", "request_refund",
                                         "shipment_observed"})
    assert "request_shipment" in lc.allowed("packed") and "request_refund" in lc.allowed("packed")
    assert lc.sources_of("request_shipment") == ("packed", "partially_shipped", "partially_refunded")
    # a refused shipment goes back to where it was requested from: now packed
    assert "packed" in lc.destinations(lc.transition("shipment_failed", "shipment_requested"))
    assert lc.state("packed").paid and lc.state("packed").refines == "paid"
    assert "send_documents" in lc.allowed("delivered") or variant is Variant.PRIVATE
    assert "confirm_delivery" in lifecycle_machine(lc).events


def test_extension_states_carry_labels_in_both_languages():
    lc = packing_flow().private
    assert (lc.state("packed").ru, lc.state("packed").en) == ("упакован", "packed")
    assert packing_flow().state_names[-2:] == ("packed", "delivered")


def test_extension_messages_appear_in_the_flows_own_sequence_diagram():
    shipment = extended_sequence(packing_flow().private, Phase.SHIPMENT)
    assert shipment.name == "shop-private-shipment"
    texts = [(s.number, s.sender, s.receiver, s.text) for s in shipment.steps]
    assert texts[0] == (1, SHOP, BUYER, "Заказ собран и упакован")
    assert texts[1][3] == "Вызов метода отгрузки по заказу"
    assert texts[-1] == (5, "Служба доставки", BUYER, "Заказ доставлен")
    assert "Служба доставки" in shipment.participants
    drawn = render_sequence(shipment)
    assert "      Магазин->>Покупатель: Заказ собран и упакован" in drawn


def test_the_six_documented_diagrams_are_unchanged_by_an_extension():
    documented = generate()
    extended = generate(packing_flow())
    for seq in SEQUENCES:
        page = f"diagrams/{seq.name}.md"
        assert extended[page] == documented[page]
    assert "diagrams/shop-private-shipment.md" in extended and "diagrams/shop-legal-lifecycle.md" in extended
    assert "packed" in extended["diagrams/shop-private-lifecycle.md"]
    assert "pack [in_stock] (шаг магазина)" in extended["diagrams/shop-private-lifecycle.md"]


def test_the_documented_flow_is_documented():
    assert DOCUMENTED_FLOW.documented and not packing_flow().documented
    for lc in DOCUMENTED_FLOW:
        assert [s.name for s in lc.sequences] == [s.name for s in sequences_of(lc.variant)]


# --- misuse is refused when the definition is built ----------------------------------------------


def test_removing_a_documented_step_is_refused():
    lc = DOCUMENTED_FLOW.private
    with pytest.raises(DefinitionError, match=r"documented step 'redirect_buyer' \(private-payment step 4\) "
                                              "cannot be removed"):
        attrs.evolve(lc, transitions=tuple(tr for tr in lc.transitions if tr.trigger != "redirect_buyer"))


def test_moving_a_documented_step_earlier_is_refused():
    lc = DOCUMENTED_FLOW.private
    early = tuple(attrs.evolve(tr, sources=("order_placed",)) if tr.trigger == "request_shipment" else tr
                  for tr in lc.transitions)
    with pytest.raises(DefinitionError, match="cannot start from 'order_placed'"):
        attrs.evolve(lc, transitions=early)


def test_an_unreachable_state_is_refused():
    lc = DOCUMENTED_FLOW.legal
    orphan = StateSpec("archived", "в архиве", "archived", Phase.REFUND, refines="refunded")
    with pytest.raises(DefinitionError, match="archived cannot be reached from 'new'"):
        attrs.evolve(lc, states=(*lc.states, orphan))


def test_a_duplicate_trigger_is_refused():
    with pytest.raises(DefinitionError, match="'request_refund' is declared twice from state 'paid'"):
        DOCUMENTED_FLOW.insert_state("held", ru="удержан", en="held", after="paid", enter="request_refund")
    flow = packing_flow()
    with pytest.raises(DefinitionError, match="'pack' is declared twice"):
        flow.add_transition("pack", "paid", "packed")


def test_an_extension_that_skips_documented_steps_is_refused():
    with pytest.raises(DefinitionError, match="would move between documented states"):
        packing_flow().add_transition("hand_over", "packed", "shipped")


def test_inserting_before_a_step_that_cannot_follow_is_refused():
    with pytest.raises(DefinitionError, match="cancel cannot fire from 'paid'"):
        DOCUMENTED_FLOW.insert_state("held", ru="удержан", en="held", after="paid", enter="hold", before="cancel")


@pytest.mark.parametrize(("name", "reason"), [("Packed", "lower_snake_case"), ("pa-cked", "lower_snake_case")])
def test_names_are_checked(name, reason):
    with pytest.raises(ValueError, match=reason):
        DOCUMENTED_FLOW.insert_state(name, ru="x", en="x", after="paid", enter="go")


def test_an_unknown_anchor_is_refused_with_the_known_states():
    with pytest.raises(KeyError, match="has no state 'payed'; known: new, order_placed"):
        DOCUMENTED_FLOW.insert_state("x", ru="x", en="x", after="payed", enter="go")


def test_a_message_mermaid_cannot_draw_is_refused():
    with pytest.raises(DefinitionError, match="cannot be drawn"):
        DOCUMENTED_FLOW.insert_state("x", ru="x", en="x", after="paid", enter="go", message=Message("end", BUYER, "t"))


# --- a new documented step is one edit -------------------------------------------------------


def test_a_new_documented_step_is_one_edit_to_its_sequence():
    """Suppose InvoiceBox documented a shipment notification as step 4 of the private shipment:
    the step, with the transition it declares, is the only thing written."""
    shipment = next(s for s in sequences_of(Variant.PRIVATE) if s.phase is Phase.SHIPMENT)
    notified = Step(4, INVOICEBOX, SHOP, Arrow.SYNC, "Уведомление об отгрузке", StepKind.SHOP_OBSERVATION,
                    moves=(Transition("shipment_notified", State.SHIPPED, None,
                                      description="InvoiceBox says the shipment is registered"),))
    longer = attrs.evolve(shipment, steps=(*shipment.steps, notified))
    sequences = [longer if s is shipment else s for s in sequences_of(Variant.PRIVATE)]
    lc = build_lifecycle(Variant.PRIVATE, sequences)

    tr = lc.transition("shipment_notified", "shipped")
    assert (tr.phase, tr.sequence, tr.step) == (Phase.SHIPMENT, "private-shipment", 4)
    assert "shipment_notified" in lifecycle_machine(lc).events
    assert render_sequence(longer).splitlines()[-2] == "      ИнвойсБокс->>Магазин: Уведомление об отгрузке"
    # the trace recognises it as the documented step it is
    entry = JournalEntry(order_id="o", trigger="shipment_notified", from_state="shipped", to_state="shipped",
                         actor="invoicebox")
    [(seq, step, _)] = journal_steps(lc, [entry])
    assert (seq.name, step.number) == ("private-shipment", 4)
    assert lc.base == lc.transitions  # part of the documented lifecycle, not an extension
