"""Thousands of orders on both sides, made quickly for the reconciliation sweep at scale.

InvoiceBox's side is made with the sandbox's own operations in process (the same code its HTTP
API runs, without the rate limit: 5,000 orders through the API would take 25 minutes at 100
requests per 30 s); the shop's side is written to the store in one transaction, as the engine leaves such orders.
Drift is then made with the sandbox's drift controls, and on the shop's side as a database
restore leaves it (an order waiting in ``shipment_requested`` whose outbox item is gone).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import attrs
from helpers import goods_lines, private_customer
from sqlalchemy import insert

from invoicebox_flow.engine.document import OrderDocument, lines_of
from invoicebox_flow.engine.payment import order_request
from invoicebox_flow.flows import State
from invoicebox_flow.reconcile import Drift
from invoicebox_flow.sandbox import Sandbox
from invoicebox_flow.store import Store, schema, utcnow

_NO_URLS = {"notification_url": None, "success_url": None, "fail_url": None, "return_url": None}

# The drift made in every 200 orders (3 %), by kind: which orders, and what the sweep should say.
DRIFT_EVERY_200 = {7: Drift.MISSED_PAYMENT, 41: Drift.CLOSED_AT_INVOICEBOX, 73: Drift.UNSEEN_SHIPMENT,
                   107: Drift.UNKNOWN_REFUND, 139: Drift.LOST_INTENT, 171: Drift.AMOUNT_MISMATCH}


def order_id(n: int) -> str:
    return f"S-{n:05d}"


def expected_drift(count: int) -> dict[str, Drift]:
    out = {}
    for n in range(count):
        kind = DRIFT_EVERY_200.get(n % 200)
        if kind is not None:
            out[order_id(n)] = kind
    return out


def _template(merchant_id: str) -> OrderDocument:
    request = order_request(merchant_id, "TEMPLATE", goods_lines(), private_customer(), description="Заказ",
                            expires_at=None, lifetime=timedelta(days=3), currency="RUB", urls=_NO_URLS,
                            order_fields={})
    payload = request.to_json()  # checked by the rule book once; every order is this one under its own id
    return OrderDocument(request=payload, currency="RUB", amount=payload["amount"], vat_amount=payload["vatAmount"],
                         lines=lines_of(payload["basketItems"]))


def make_orders(sandbox: Sandbox, store: Store, count: int) -> dict[str, Drift]:
    """``count`` orders, a tenth unpaid, the rest paid; 3 % of them drifted. Returns the drift."""
    engine: Any = sandbox._engine  # the sandbox's operations, in process
    drift = expected_drift(count)
    template = _template(sandbox.merchant_id)
    orders, journal = [], []
    # Keep the setup linear: nothing falls due while it runs, and the page's order is the one just made.
    # (A sandbox made with unique_merchant_order_id=False does not look for a duplicate id.)
    catch_up, by_container = engine.backoffice.catch_up, engine.state.order_by_container
    engine.backoffice.catch_up = lambda: None
    try:
        for n in range(count):
            number = order_id(n)
            kind = drift.get(number)
            doc = attrs.evolve(template, request={**template.request, "merchantOrderId": number,
                                                  "description": f"Заказ {number}"})
            made = engine.orders.create_order(dict(doc.request))
            record = engine.state.orders[made["id"]]
            engine.state.order_by_container = lambda container, record=record: record
            unpaid = kind in (Drift.CLOSED_AT_INVOICEBOX, Drift.AMOUNT_MISMATCH, Drift.MISSED_PAYMENT) or (
                kind is None and n % 10 == 0)
            if not unpaid or kind is Drift.MISSED_PAYMENT:
                engine.pay(made["orderContainerId"], {})
            state = State.PAYMENT_LINK_ISSUED if unpaid else State.PAID
            if kind is Drift.LOST_INTENT:  # the shop asked for a shipment; the restore lost the outbox item
                state = State.SHIPMENT_REQUESTED
                doc = attrs.evolve(doc, resume_state=State.PAID.value)
            if state is not State.PAYMENT_LINK_ISSUED:
                doc = attrs.evolve(doc, paid_amount=doc.amount)
            doc = attrs.evolve(doc, payment_url=made["paymentUrl"], order_container_id=made["orderContainerId"])
            stamp = utcnow()
            orders.append(dict(id=number, merchant_order_id=number, variant="private", state=state.value, version=1,
                               invoicebox_id=made["id"], data=doc.to_json(), created_at=stamp, updated_at=stamp))
            journal.append(dict(order_id=number, at=stamp, trigger="place", from_state="new", to_state=state.value,
                                actor="bulk", outcome="ok", request_id=None, detail={}))
    finally:
        engine.backoffice.catch_up = catch_up
        engine.state.order_by_container = by_container
    with store._write() as conn:  # one transaction for them all, as a restore writes them
        conn.execute(insert(schema.orders), orders)
        conn.execute(insert(schema.journal), journal)
    for number, kind in drift.items():
        made_id = next(o["invoicebox_id"] for o in orders if o["id"] == number)
        if kind is Drift.CLOSED_AT_INVOICEBOX:
            (sandbox.drift_cancel_order if int(number[2:]) % 400 < 200 else sandbox.drift_expire_order)(made_id)
        elif kind is Drift.UNSEEN_SHIPMENT:
            sandbox.drift_shipment(made_id)
        elif kind is Drift.UNKNOWN_REFUND:
            sandbox.drift_refund(made_id)
        elif kind is Drift.AMOUNT_MISMATCH:
            sandbox.drift_change_amount(made_id, "1.00")
    sandbox.wait_idle(timeout=120)
    return drift
