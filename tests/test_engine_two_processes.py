"""Two processes, one SQLite file, the same orders: every conflicting action has exactly one winner."""

from __future__ import annotations

import multiprocessing as mp
from collections import Counter

from helpers import course_lines, private_customer

ORDERS = 12


def _contend(db_url: str, ib_url: str, token: str, merchant_id: str, key: str, order_ids: list[str], queue) -> None:
    from invoicebox_flow.client import InvoiceboxClient
    from invoicebox_flow.engine import OrderFlow
    from invoicebox_flow.errors import ConcurrentUpdateError, IllegalTransitionError
    from invoicebox_flow.store import Store

    store = Store(db_url)
    flow = OrderFlow(InvoiceboxClient(token, base_url=ib_url, timeout=(2, 10)), store, merchant_id=merchant_id,
                     notification_key=key)
    outcome = Counter()
    for phase in ("ship", "refund"):
        for order_id in order_ids:
            try:
                flow.ship(order_id) if phase == "ship" else flow.refund(order_id)
                outcome[f"{phase}:won"] += 1
            except (IllegalTransitionError, ConcurrentUpdateError) as exc:
                outcome[f"{phase}:lost:{type(exc).__name__}"] += 1
    store.dispose()
    queue.put(dict(outcome))


def test_two_processes_firing_the_same_actions(flow, store, sandbox, buyer, tmp_path):
    ids = [f"C-{i}" for i in range(ORDERS)]
    for order_id in ids:
        order = flow.place(order_id, course_lines(), private_customer(), description="x")
        buyer.pay(order.payment_url)
    sandbox.wait_idle()
    assert all(flow.get(i).state.value == "paid" for i in ids)

    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_contend, args=(store.url, sandbox.url, sandbox.token, sandbox.merchant_id,
                                                sandbox.notification_key, ids if n == 0 else ids[::-1], queue))
             for n in range(2)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0

    total = Counter()
    for r in results:
        total.update(r)
    assert total["ship:won"] == ORDERS and total["refund:won"] == ORDERS
    assert sum(v for k, v in total.items() if ":lost:" in k) == 2 * ORDERS  # each loser got a typed error
    sandbox.wait_idle()
    for order_id in ids:
        view = flow.get(order_id)
        assert view.state.value == "refunded" and view.refunded_amount == view.paid_amount
        assert len(sandbox.shipments(view.invoicebox_id)) == 1
        assert len(sandbox.refunds(view.invoicebox_id)) == 1
        triggers = [e.trigger for e in flow.history(order_id)]
        assert triggers.count("shipment_accepted") == 1 and triggers.count("refund_accepted") == 1
