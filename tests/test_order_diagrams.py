"""The diagram of a real order, from its journal: a documented order draws the documented
diagrams, an order that left them shows where; races are pinned with the sandbox's faults."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from helpers import course_lines, goods_lines, legal_customer, make_shop, packing_flow, private_customer

from invoicebox_flow.cli.app import main
from invoicebox_flow.diagrams import render_sequence
from invoicebox_flow.diagrams.order import story_of
from invoicebox_flow.diagrams.sequence import render_steps
from invoicebox_flow.flows import DOCUMENTED_FLOW, sequence

DELAY = 0.5  # the payment notification is held back this long: the buyer is surely back first


def documented_block(name: str) -> list[str]:
    """The ``rect`` … ``end`` lines of a documented diagram."""
    lines = render_sequence(sequence(name)).splitlines()
    return lines[next(i for i, ln in enumerate(lines) if ln.lstrip().startswith("rect ")):]


def pay_buyer_first(flow, buyer, sandbox, order_id):
    """Steps 4–10 with the buyer back before the notification (pinned by a delay fault)."""
    url = flow.redirect_buyer(order_id)
    sandbox.inject_notification_fault("delay", delay=DELAY)
    assert buyer.pay(url).startswith("http://shop.example/ok")  # no Buyer.open(): nothing depends on it
    flow.buyer_returned(order_id)
    sandbox.wait_idle()
    assert flow.get(order_id).state == "paid"


def test_a_documented_order_draws_the_documented_diagrams(flow, buyer, sandbox):
    flow.place("A-1", goods_lines(), private_customer(), description="книги")
    pay_buyer_first(flow, buyer, sandbox, "A-1")
    flow.ship("A-1")
    flow.claim_refund("A-1")
    flow.refundable_items("A-1")
    flow.refund("A-1", {"BOOK-1": 1})
    sandbox.wait_idle()

    story = story_of(flow.store, "A-1", DOCUMENTED_FLOW)
    assert story.documented, story.against_documented()
    names = [run.sequence.name for run in story.runs]
    assert names == ["private-payment", "private-shipment", "private-refund"]
    for run in story.runs:
        assert render_steps(run.sequence, run.steps()) == render_sequence(run.sequence)
    diagram = flow.sequence_diagram("A-1")
    assert diagram == story.diagram()
    lines = diagram.splitlines()
    assert lines[:6] == render_sequence(sequence("private-payment")).splitlines()[:6]  # header, participants
    at = 6
    for index, name in enumerate(names):
        if index:
            assert lines[at] == "    autonumber 1"  # each phase numbered from 1, as documented
            at += 1
        block = documented_block(name)
        assert lines[at:at + len(block)] == block
        at += len(block)
    assert at == len(lines)
    # with the sandbox attached, its events confirm the effects the journal implies
    confirmed = story_of(flow.store, "A-1", DOCUMENTED_FLOW, sandbox.inspect)
    assert confirmed.diagram() == diagram
    listing = confirmed.against_documented()
    assert 'Чек "полный расчёт"' in listing and "(confirmed at InvoiceBox)" in listing
    assert "order A-1: as documented" in listing


def test_a_notification_that_beat_the_buyer_is_marked(flow, buyer, sandbox):
    flow.place("A-2", course_lines(), private_customer(), description="курс")
    url = flow.redirect_buyer("A-2")
    buyer.pay(url)
    sandbox.wait_idle()  # the notification is in before the shop hears of the buyer
    assert flow.get("A-2").state == "paid"
    flow.buyer_returned("A-2")  # back to a paid order: nothing changes, nothing is journaled

    story = story_of(flow.store, "A-2", DOCUMENTED_FLOW)
    assert not story.documented
    early, gap = story.deviations
    assert "notification came before the buyer was back" in early.text and early.after == 9
    assert gap.text.startswith("step 7 not seen")
    lines = story.diagram().splitlines()
    assert "      ИнвойсБокс->>Покупатель: Перенаправление покупателя на сайт магазина" not in lines
    assert "      autonumber 8" in lines  # the receipt keeps its documented number
    listing = story.against_documented()
    assert re.search(r"^  -   7  ИнвойсБокс->>Покупатель: Перенаправление", listing, re.M)
    assert "! " in listing and "before the buyer was back" in listing


def test_a_declined_then_successful_payment_is_marked(flow, buyer, sandbox):
    flow.place("A-3", course_lines(), private_customer(), description="курс")
    url = flow.redirect_buyer("A-3")
    buyer.decline(url)
    flow.buyer_returned("A-3", success=False)
    sandbox.inject_notification_fault("delay", delay=DELAY)
    buyer.pay(url)
    flow.buyer_returned("A-3")
    sandbox.wait_idle()
    assert flow.get("A-3").state == "paid"

    story = story_of(flow.store, "A-3", DOCUMENTED_FLOW)
    assert len(story.runs) == 1
    note = "      Note over Магазин: decline_payment → оплата отклонена (вне схемы)"
    lines = story.diagram().splitlines()
    assert note in lines
    # apart from the note, the payment went as documented
    assert [ln for ln in lines if ln != note][6:] == documented_block("private-payment")
    [deviation] = story.deviations
    assert deviation.after == 4 and "decline_payment" in deviation.text
    assert "  +     decline_payment" in story.against_documented()


def test_an_extension_step_is_drawn_where_the_extended_sequence_puts_it(client, store, sandbox, buyer):
    shop, served = make_shop(client, store, sandbox, definition=packing_flow(), conditions={"in_stock": lambda v: True})
    try:
        flow = shop.flow
        flow.place("P-1", goods_lines(), legal_customer(), description="книги")
        pay_buyer_first(flow, buyer, sandbox, "P-1")
        flow.fire("P-1", "pack")
        flow.ship("P-1")
        sandbox.wait_idle()
        story = story_of(flow.store, "P-1", flow.definition)
        shipment = story.runs[1]
        assert shipment.sequence.name == "shop-legal-shipment"
        assert [s.text for s in shipment.steps()][:3] == [
            "Заказ собран и упакован", "Вызов метода отгрузки по заказу", "Предоставление отчётных документов"]
        assert "      Магазин->>Покупатель: Заказ собран и упакован" in story.diagram().splitlines()
        assert story.documented, story.against_documented()
    finally:
        served.close()


def test_cli_draws_an_order_from_the_store_alone(flow, buyer, sandbox, store):
    flow.place("A-4", course_lines(), private_customer(), description="курс")
    pay_buyer_first(flow, buyer, sandbox, "A-4")
    db = store.url
    runner = CliRunner()
    drawn = runner.invoke(main, ["orders", "diagram", "A-4", "--db", db])
    assert drawn.exit_code == 0, drawn.output
    assert drawn.output == flow.sequence_diagram("A-4")
    listed = runner.invoke(main, ["orders", "diagram", "A-4", "--db", db, "--against-documented",
                                  "--sandbox", sandbox.url])
    assert listed.exit_code == 0, listed.output
    assert listed.output.startswith("order A-4: as documented")
    missing = runner.invoke(main, ["orders", "diagram", "NOPE", "--db", db])
    assert missing.exit_code != 0 and "NOPE" in missing.output


@pytest.mark.slow  # mermaidx draws the picture
def test_cli_draws_an_order_as_svg_with_plain_text(flow, buyer, sandbox, store):
    pytest.importorskip("mermaidx")
    flow.place("A-5", course_lines(), private_customer(), description="курс")
    db = store.url
    drawn = CliRunner().invoke(main, ["orders", "diagram", "A-5", "--db", db, "--svg"])
    assert drawn.exit_code == 0, drawn.output
    assert drawn.output.lstrip().startswith("<svg") and "foreignObject" not in drawn.output
    assert "Создает заказ" in drawn.output
