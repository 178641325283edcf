"""What InvoiceBox shows.

Read from the sandbox: its orders, receipts and their sums, reporting documents and the buyer's
mail, shipments, refunds and returned money, the requests it received.
"""

from __future__ import annotations

import time
from collections import Counter
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pytest_bdd import then

from .. import vocabulary
from ..vocabulary import money
from .patterns import Texts

if TYPE_CHECKING:
    from ..world import InvoiceboxWorld

RECEIPT_COLUMNS = {"receipt": "receipt", "чек": "receipt", "amount": "amount", "сумма": "amount"}
LISTINGS = {"отгрузок": "shipments", "возвратов": "refunds", "отгрузка": "shipments", "возврат": "refunds",
            "отгрузки": "shipments", "возврата": "refunds",
            "shipments": "shipments", "refunds": "refunds", "shipment": "shipments", "refund": "refunds"}


def _receipts(world: InvoiceboxWorld, title: str | None = None) -> list[dict[str, Any]]:
    world.sandbox.wait_idle()
    receipts = world.sandbox.receipts(world.invoicebox_id())
    kind = None if title is None else vocabulary.receipt(title).value
    return [r for r in receipts if kind is None or r["type"] == kind]


def _documents(world: InvoiceboxWorld, *, refund: bool) -> list[dict[str, Any]]:
    world.sandbox.wait_idle()
    return [d for d in world.sandbox.documents(world.invoicebox_id()) if d["kind"].startswith("refund_") == refund]


def _listing(world: InvoiceboxWorld, what: str) -> list[dict[str, Any]]:
    world.sandbox.wait_idle()
    listing = getattr(world.sandbox, vocabulary.named(LISTINGS, what, "listing"))
    result: list[dict[str, Any]] = listing(world.invoicebox_id())
    return result


def _money_returned(world: InvoiceboxWorld) -> list[dict[str, Any]]:
    world.sandbox.wait_idle()
    return [e for e in world.sandbox.events(world.invoicebox_id()) if e["effect"] == "money_returned"]


@then(Texts(
    'ИнвойсБокс регистрирует в онлайн кассе чек "{title:Q}"',
    'InvoiceBox registers the "{title:Q}" receipt at the cash register',
))
def receipt_registered(invoicebox_world: InvoiceboxWorld, title: str) -> None:
    """One receipt of the kind, titled as documented, for the order's amount (a refund receipt:
    for what was refunded)."""
    [receipt] = _receipts(invoicebox_world, title)
    view = invoicebox_world.view()
    expected = view.refunded_amount if receipt["type"] == "refund" else view.amount
    assert Decimal(receipt["amount"]) == expected
    assert receipt["title"] == vocabulary.receipt(title).label


@then(Texts(
    'ИнвойсБокс предоставляет покупателю чек "{title:Q}"',
    'InvoiceBox gives the buyer the "{title:Q}" receipt',
))
def receipt_delivered(invoicebox_world: InvoiceboxWorld, title: str) -> None:
    """One mail to the buyer's address carries that receipt."""
    receipt = _receipts(invoicebox_world, title)[0]
    mails = [m for m in invoicebox_world.sandbox.mailbox(invoicebox_world.customer_contact())
             if receipt["id"] in m["refs"]]
    assert len(mails) == 1 and mails[0]["kind"] == "receipt"


@then(Texts('чек "{title:Q}" выдан на {amount:Amount}', 'the "{title:Q}" receipt is for {amount:Amount}'))
def receipt_amount(invoicebox_world: InvoiceboxWorld, title: str, amount: str) -> None:
    """The sum of the one receipt of that kind."""
    [receipt] = _receipts(invoicebox_world, title)
    assert Decimal(receipt["amount"]) == money(amount)


@then(Texts("чеки заказа:", "the order's receipts are:"))
def receipts_table(invoicebox_world: InvoiceboxWorld, datatable: list[list[str]]) -> None:
    """Every receipt InvoiceBox registered for the order, by kind (receipt/чек) and sum (amount/сумма), in any order."""
    rows = vocabulary.table_rows(datatable, RECEIPT_COLUMNS, "receipts")
    wanted = Counter((vocabulary.receipt(r["receipt"]).value, money(r["amount"])) for r in rows)
    got = Counter((r["type"], Decimal(r["amount"])) for r in _receipts(invoicebox_world))
    assert got == wanted, sorted(got.elements())


@then(Texts("ИнвойсБокс зарегистрировал {count:d} чек", "ИнвойсБокс зарегистрировал {count:d} чека",
            "ИнвойсБокс зарегистрировал {count:d} чеков", "InvoiceBox registered {count:d} receipt(s)"))
def receipts_count(invoicebox_world: InvoiceboxWorld, count: int) -> None:
    """How many receipts the order has at InvoiceBox."""
    assert len(_receipts(invoicebox_world)) == count


@then(Texts(
    "ИнвойсБокс не регистрирует чеков в онлайн кассе",
    "InvoiceBox registers no receipt at the cash register",
))
def no_receipts(invoicebox_world: InvoiceboxWorld) -> None:
    """No receipt at all for the order."""
    assert _receipts(invoicebox_world) == []


@then(Texts("ИнвойсБокс не отправляет покупателю документов", "InvoiceBox sends the buyer no documents"))
def no_documents(invoicebox_world: InvoiceboxWorld) -> None:
    """No reporting document for the order, and nothing in the buyer's mailbox."""
    world = invoicebox_world
    world.sandbox.wait_idle()
    assert world.sandbox.documents(world.invoicebox_id()) == []
    assert world.sandbox.mailbox(world.customer_contact()) == []


@then(Texts(
    "ИнвойсБокс не выдал ни чека, ни документов по возврату",
    "InvoiceBox issued no refund receipt and no refund documents",
))
def no_refund_paperwork(invoicebox_world: InvoiceboxWorld) -> None:
    """Neither a «возврат» receipt nor a refund document for the order: no money went back."""
    assert _receipts(invoicebox_world, "возврат") == []
    assert _documents(invoicebox_world, refund=True) == []


@then(Texts(
    "ИнвойсБокс предоставляет покупателю отчётные документы: {documents}",
    "InvoiceBox gives the buyer the reporting documents: {documents}",
))
def shipment_documents(invoicebox_world: InvoiceboxWorld, documents: str) -> None:
    """Exactly these documents («отчёт о переводе средств», «акт», «ТОРГ-12»), in one mail; the
    transfer report for the order's amount."""
    world = invoicebox_world
    issued = _documents(world, refund=False)
    kinds = vocabulary.document_kinds(documents)
    assert sorted(d["kind"] for d in issued) == sorted(kinds)
    mails = [m for m in world.sandbox.mailbox(world.customer_contact()) if m["kind"] == "documents"]
    assert len(mails) == 1 and set(mails[0]["refs"]) == {d["id"] for d in issued}
    report = next(d for d in issued if d["kind"] == "transfer_report")
    assert Decimal(report["amount"]) == world.view().amount


@then(Texts(
    "ИнвойсБокс предоставляет покупателю отчётные документы по возврату: {documents}",
    "InvoiceBox gives the buyer the refund documents: {documents}",
))
def refund_documents(invoicebox_world: InvoiceboxWorld, documents: str) -> None:
    """The refund's documents of these kinds, in one mail."""
    world = invoicebox_world
    issued = _documents(world, refund=True)
    assert {d["kind"] for d in issued} == vocabulary.document_kinds(documents, refund=True)
    mails = [m for m in world.sandbox.mailbox(world.customer_contact())
             if m["kind"] == "documents" and set(m["refs"]) == {d["id"] for d in issued}]
    assert len(mails) == 1


@then(Texts(
    "ИнвойсБокс осуществляет возврат денежных средств на всю сумму заказа",
    "InvoiceBox returns the whole amount of the order",
))
def money_returned_in_full(invoicebox_world: InvoiceboxWorld) -> None:
    """The money returned adds up to the order's amount; every refund is completed."""
    world = invoicebox_world
    assert sum(Decimal(e["detail"]["amount"]) for e in _money_returned(world)) == world.view().amount
    assert all(r["status"] == "completed" for r in world.sandbox.refunds(world.invoicebox_id()))


@then(Texts(
    "ИнвойсБокс провёл {count:d} возврата денежных средств на {amount:Amount}",
    "InvoiceBox made {count:d} money returns totalling {amount:Amount}",
))
def money_returned_times(invoicebox_world: InvoiceboxWorld, count: int, amount: str) -> None:
    """How many times InvoiceBox returned money, and how much in all."""
    returned = _money_returned(invoicebox_world)
    assert len(returned) == count
    assert sum(Decimal(e["detail"]["amount"]) for e in returned) == money(amount)


@then(Texts("к каждому возврату ИнвойсБокс выдал {what}", "InvoiceBox issued {what} for every refund"))
def every_refund_has_paperwork(invoicebox_world: InvoiceboxWorld, what: str) -> None:
    """«чек "возврат"» / «документы по возврату» (a "refund" receipt / refund documents): one per refund, for its sum."""
    world = invoicebox_world
    refunds = {r["id"]: Decimal(r["amount"]) for r in _listing(world, "refunds")}
    if what in ('чек "возврат"', 'a "refund" receipt'):
        papers = _receipts(world, "возврат")
    else:
        papers = [d for d in _documents(world, refund=True) if d["kind"] == "refund_transfer_report"]
    assert {p["refundId"]: Decimal(p["amount"]) for p in papers} == refunds
    assert len(papers) == len(refunds)


@then(Texts("к каждой отгрузке ИнвойсБокс выдал {what}", "InvoiceBox issued {what} for every shipment"))
def every_shipment_has_paperwork(invoicebox_world: InvoiceboxWorld, what: str) -> None:
    """«чек "полный расчёт"» / «отчётные документы» (a "full settlement" receipt / reporting
    documents): one per shipment, for the sum of its lines."""
    world = invoicebox_world
    shipments = {s["id"]: sum((Decimal(i["totalAmount"]) for i in s["basketItems"]), Decimal(0))
                 for s in _listing(world, "shipments")}
    if what in ('чек "полный расчёт"', 'a "full settlement" receipt'):
        papers = _receipts(world, "полный расчёт")
    else:
        papers = [d for d in _documents(world, refund=False) if d["kind"] == "transfer_report"]
    assert {p["shipmentId"]: Decimal(p["amount"]) for p in papers} == shipments
    assert len(papers) == len(shipments)


@then(Texts(
    'в ИнвойсБокс отгружено {quantity:d} шт. "{sku:Q}" и ничего больше',
    'InvoiceBox has {quantity:d} of "{sku:Q}" shipped and nothing else',
))
def shipped_only(invoicebox_world: InvoiceboxWorld, quantity: int, sku: str) -> None:
    """One shipment at InvoiceBox, of exactly that line and quantity."""
    [shipment] = _listing(invoicebox_world, "shipments")
    assert {i["sku"]: Decimal(i["quantity"]) for i in shipment["basketItems"]} == {sku: quantity}


@then(Texts("в ИнвойсБокс отгружено:", "InvoiceBox has shipped:"))
def shipped_lines(invoicebox_world: InvoiceboxWorld, datatable: list[list[str]]) -> None:
    """What all the order's shipments at InvoiceBox add up to, per sku/артикул and quantity/количество."""
    rows = vocabulary.table_rows(datatable, vocabulary.BASKET_COLUMNS, "shipped lines")
    shipped: dict[str, Decimal] = {}
    for shipment in _listing(invoicebox_world, "shipments"):
        for item in shipment["basketItems"]:
            shipped[item["sku"]] = shipped.get(item["sku"], Decimal(0)) + Decimal(item["quantity"])
    assert shipped == {r["sku"]: Decimal(r["quantity"].replace(",", ".")) for r in rows}, shipped


@then(Texts("в ИнвойсБокс нет {what} по заказу", "InvoiceBox has no {what} for the order"))
def nothing_at_invoicebox(invoicebox_world: InvoiceboxWorld, what: str) -> None:
    """No «отгрузок» / «возвратов» (shipments / refunds)."""
    assert _listing(invoicebox_world, what) == []


@then(Texts("в ИнвойсБокс {count:d} {what} по заказу", "InvoiceBox has {count:d} {what} for the order"))
def count_at_invoicebox(invoicebox_world: InvoiceboxWorld, count: int, what: str) -> None:
    """How many «отгрузка» / «возврат» (shipments / refunds) the order has."""
    assert len(_listing(invoicebox_world, what)) == count


@then(Texts(
    "в журнале заказа записана отклонённая {what}",
    "в журнале заказа записан отклонённый {what}",
    "the order's journal records a refused {what}",
))
def refused_call_journaled(invoicebox_world: InvoiceboxWorld, what: str) -> None:
    """The refused call's outcome in the journal, with InvoiceBox's error: «отгрузка», «возврат»,
    «запрос создания заказа» (shipment, refund, order creation)."""
    triggers = {"отгрузка": "shipment_failed", "возврат": "refund_failed", "запрос создания заказа": "invoice_failed",
                "shipment": "shipment_failed", "refund": "refund_failed", "order creation": "invoice_failed"}
    trigger = vocabulary.named(triggers, what, "refused call")
    entries = [j for j in invoicebox_world.journal() if j.trigger == trigger]
    assert len(entries) == 1 and entries[0].outcome == "failed" and entries[0].detail.get("error")


@then(Texts(
    'в ИнвойсБокс у заказа описание "{description:Q}"',
    'the order\'s description at InvoiceBox is "{description:Q}"',
))
def remote_description(invoicebox_world: InvoiceboxWorld, description: str) -> None:
    """InvoiceBox's copy of the order."""
    assert invoicebox_world.sandbox.order(invoicebox_world.invoicebox_id())["description"] == description


@then(Texts('в ИнвойсБокс заказ в статусе "{status:Q}"', 'the order\'s status at InvoiceBox is "{status:Q}"'))
def remote_status(invoicebox_world: InvoiceboxWorld, status: str) -> None:
    """InvoiceBox's status: created, completed, expired, canceled."""
    assert invoicebox_world.sandbox.order(invoicebox_world.invoicebox_id())["status"] == status


@then(Texts("в ИнвойсБокс нет ни одного заказа", "InvoiceBox has no order at all"))
def no_remote_orders(invoicebox_world: InvoiceboxWorld) -> None:
    """The sandbox knows no order (of this scenario: it is reset per scenario)."""
    assert invoicebox_world.sandbox.orders() == []


@then(Texts("в ИнвойсБокс {count:d} заказов", "InvoiceBox has {count:d} orders"))
def remote_order_count(invoicebox_world: InvoiceboxWorld, count: int) -> None:
    """How many orders the sandbox knows in this scenario."""
    assert len(invoicebox_world.sandbox.orders()) == count


@then(Texts(
    "в ИнвойсБокс ровно {count:d} заказ с номером заказа магазина",
    "InvoiceBox has exactly {count:d} order with the shop's order number",
))
def remote_orders_with_number(invoicebox_world: InvoiceboxWorld, count: int) -> None:
    """Orders with the shop's ``merchantOrderId``; the shop holds the first one's id."""
    view = invoicebox_world.view()
    found = [o for o in invoicebox_world.sandbox.orders() if o["merchantOrderId"] == view.order_id]
    assert len(found) == count
    assert found[0]["id"] == view.invoicebox_id


@then(Texts(
    "в ИнвойсБокс пришло {count:d} запрос на создание заказа",
    "InvoiceBox received {count:d} order creation request(s)",
))
def create_requests(invoicebox_world: InvoiceboxWorld, count: int) -> None:
    """``create_order`` requests in the sandbox's log."""
    def creates() -> list[dict[str, Any]]:
        return [r for r in invoicebox_world.sandbox.requests() if r.get("endpoint") == "create_order"]

    # A slow request is logged when its answer is finally sent, after the client gave up on it;
    # any resend by the client would have been logged before that (the client is synchronous).
    deadline = time.monotonic() + 10.0
    while not creates() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(creates()) == count, creates()


@then(Texts("ИнвойсБокс ответил 429 хотя бы на один запрос", "InvoiceBox answered 429 at least once"))
def some_429(invoicebox_world: InvoiceboxWorld) -> None:
    """The client saw a 429, and the sandbox's log has one."""
    assert invoicebox_world.rate_limited > 0
    assert any(r["status"] == 429 for r in invoicebox_world.sandbox.requests())


@then(Texts("ИнвойсБокс не ответил 429 ни на один запрос", "InvoiceBox never answered 429"))
def no_429(invoicebox_world: InvoiceboxWorld) -> None:
    """Requests were made and none was answered 429."""
    statuses = [r["status"] for r in invoicebox_world.sandbox.requests()]
    assert statuses and 429 not in statuses


@then(Texts("у всех {count:d} заказов есть ссылка на оплату", "all {count:d} orders have a payment link"))
def all_have_links(invoicebox_world: InvoiceboxWorld, count: int) -> None:
    """Every order of the scenario: "ссылка на оплату получена", with its link."""
    views = [invoicebox_world.view(label) for label in invoicebox_world.orders]
    assert len(views) == count
    assert all(v.state == "payment_link_issued" and v.payment_url for v in views)
