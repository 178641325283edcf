"""Helpers of the reconciliation tests: orders brought into a state through the real flow and the
sandbox's page, drift made by the sandbox's controls, and the shop's side of a database restore
(an outbox row deleted behind the store's back)."""

from __future__ import annotations

import sqlite3

from helpers import course_lines, goods_lines, pay, private_customer

from invoicebox_flow.engine import OrderFlow, OrderView
from invoicebox_flow.reconcile import ACTOR, Drift, SweepReport
from invoicebox_flow.sandbox import Buyer, Sandbox
from invoicebox_flow.store import Store


def placed(flow: OrderFlow, order_id: str, *, goods: bool = True, defer: bool = False) -> OrderView:
    return flow.place(order_id, goods_lines() if goods else course_lines(), private_customer(),
                      description=f"Заказ {order_id}", defer=defer)


def paid(flow: OrderFlow, buyer: Buyer, sandbox: Sandbox, order_id: str, *, goods: bool = True) -> OrderView:
    placed(flow, order_id, goods=goods)
    return pay(flow, buyer, sandbox, order_id)


def paid_unannounced(flow: OrderFlow, buyer: Buyer, sandbox: Sandbox, order_id: str) -> OrderView:
    """Paid at InvoiceBox; the notification lost for good (every retry failed)."""
    placed(flow, order_id)
    url = flow.redirect_buyer(order_id)
    sandbox.inject_notification_fault("drop")
    buyer.pay(url)
    flow.buyer_returned(order_id)
    sandbox.wait_idle()
    return flow.get(order_id)


def lose_outbox(store: Store, order_id: str) -> int:
    """What a database restore does to the shop's outbox: the order's open items are gone."""
    database = store.url.removeprefix("sqlite:///")
    with sqlite3.connect(database) as conn:
        return conn.execute("DELETE FROM outbox WHERE order_id = ? AND status IN ('pending', 'claimed')",
                            (order_id,)).rowcount


def kinds(report: SweepReport) -> dict[str, Drift]:
    """``{order id: kind}`` of a sweep that found one difference per order."""
    found: dict[str, Drift] = {}
    for finding in report.findings:
        assert finding.order_id not in found, f"{finding.order_id}: more than one difference: {report.findings}"
        found[finding.order_id] = finding.kind
    return found


def healed_by_reconcile(flow: OrderFlow, order_id: str) -> list[tuple[str, str, str]]:
    """``(trigger, from, to)`` of the journal entries the sweep made."""
    return [(e.trigger, e.from_state, e.to_state) for e in flow.history(order_id) if e.actor == ACTOR]
