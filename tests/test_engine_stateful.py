"""Random sequences of shop actions, buyer actions and notifications (duplicated, replayed late,
forged) against the sandbox and a SQLite store; the invariants are checked after every step."""

from __future__ import annotations

import itertools
from collections import Counter
from decimal import Decimal

import pytest
import requests
from helpers import FAST_RETRIES, course_lines, goods_lines, legal_customer, make_shop, private_customer
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from invoicebox_flow.client import InvoiceboxClient
from invoicebox_flow.errors import FlowError, InvalidRequestError
from invoicebox_flow.flows import State
from invoicebox_flow.sandbox import Buyer, Sandbox
from invoicebox_flow.signature import sign
from invoicebox_flow.store import Store

PAID_OR_LATER = {State.PAID, State.SHIPMENT_REQUESTED, State.SHIPPED, State.REFUND_REQUESTED,
                 State.PARTIALLY_REFUNDED, State.REFUNDED, State.SHIPPING_UNAVAILABLE}


@pytest.fixture(scope="module")
def shared_sandbox():
    with Sandbox(notification_retry_delays=FAST_RETRIES, rate_limit=100_000) as ib:
        yield ib


def test_random_lifecycles_keep_their_invariants(shared_sandbox, tmp_path_factory):
    counter = itertools.count()

    class Lifecycles(RuleBasedStateMachine):
        @initialize()
        def start(self):
            n = next(counter)
            self.ib = shared_sandbox
            self.store = Store(f"sqlite:///{tmp_path_factory.mktemp('stateful') / 'flow.db'}")
            self.client = InvoiceboxClient(self.ib.token, base_url=self.ib.url, timeout=(2, 5))
            self.shop, self.served = make_shop(self.client, self.store, self.ib)
            self.flow = self.shop.flow
            self.buyer = Buyer()
            self.prefix = f"H{n}-"
            self.orders: list[str] = []

        def teardown(self):
            self.ib.wait_idle()
            self.served.close()
            self.client.close()
            self.store.dispose()

        def _pick(self, data) -> str:
            return data.draw(st.sampled_from(self.orders))

        def _try(self, action):
            try:
                return action()
            except (FlowError, InvalidRequestError):
                return None  # refused: the invariants below check that nothing changed wrongly

        @rule(legal=st.booleans(), goods=st.booleans())
        def place(self, legal, goods):
            order_id = f"{self.prefix}{len(self.orders)}"
            customer = legal_customer() if legal else private_customer()
            self.flow.place(order_id, goods_lines() if goods else course_lines(), customer, description="Тест")
            self.orders.append(order_id)

        @precondition(lambda self: self.orders)
        @rule(data=st.data(), decline=st.booleans())
        def buyer_uses_the_page(self, data, decline):
            order_id = self._pick(data)
            view = self.flow.get(order_id)
            if view.state not in (State.PAYMENT_LINK_ISSUED, State.BUYER_REDIRECTED, State.AWAITING_PAYMENT,
                                  State.PAYMENT_DECLINED):
                return
            if view.state is State.PAYMENT_LINK_ISSUED:
                self.flow.redirect_buyer(order_id)
            if decline:
                self.buyer.decline(view.payment_url)
                self._try(lambda: self.flow.buyer_returned(order_id, success=False))
            else:
                self.buyer.pay(view.payment_url)
                self._try(lambda: self.flow.buyer_returned(order_id))
            self.ib.wait_idle()

        @precondition(lambda self: self.orders)
        @rule(data=st.data())
        def notification_replayed(self, data):
            view = self.flow.get(self._pick(data))
            if view.invoicebox_id and self.ib.order(view.invoicebox_id)["status"] == "completed":
                self.ib.redeliver(view.invoicebox_id)
                self.ib.wait_idle()

        @precondition(lambda self: self.orders)
        @rule(data=st.data(), forge=st.sampled_from(["wrong-key", "no-signature", "tampered"]))
        def forged_notification(self, data, forge):
            view = self.flow.get(self._pick(data))
            if not view.invoicebox_id:
                return
            body = self.ib.order_json_bytes(view.invoicebox_id) if hasattr(self.ib, "order_json_bytes") else None
            if body is None:
                import invoicebox_flow.jsonutil as j

                body = j.dumps_php(dict(self.ib.order(view.invoicebox_id), status="completed")).encode()
            headers = {"Content-Type": "application/json"}
            if forge == "wrong-key":
                headers["X-Signature"] = sign(body, "not-the-key")
            elif forge == "tampered":
                headers["X-Signature"] = sign(body, self.ib.notification_key)
                body = body.replace(b'"completed"', b'"completed" ')
            answer = requests.post(self.shop.notification_url, data=body, headers=headers, timeout=5)
            assert answer.status_code == 200
            assert answer.json() == {"status": "error", "code": "signature_error"}

        @precondition(lambda self: self.orders)
        @rule(data=st.data())
        def ship(self, data):
            self._try(lambda: self.flow.ship(self._pick(data)))

        @precondition(lambda self: self.orders)
        @rule(data=st.data(), everything=st.booleans())
        def refund(self, data, everything):
            order_id = self._pick(data)
            view = self.flow.get(order_id)
            lines = [ln for ln in view.lines if ln.refundable_quantity > 0]
            if everything or not lines:
                self._try(lambda: self.flow.refund(order_id))
            else:
                line = data.draw(st.sampled_from(lines))
                qty = data.draw(st.integers(1, int(line.quantity) + 1))  # sometimes more than is left
                self._try(lambda: self.flow.refund(order_id, {line.sku: qty}))

        @precondition(lambda self: self.orders)
        @rule(data=st.data())
        def cancel(self, data):
            self._try(lambda: self.flow.cancel(self._pick(data)))

        @invariant()
        def money_and_states_agree(self):
            if not hasattr(self, "flow"):
                return
            self.ib.wait_idle()
            for order_id in self.orders:
                view = self.flow.get(order_id)
                assert view.refunded_amount <= view.paid_amount
                for line in view.lines:
                    assert Decimal(0) <= line.refunded_amount <= line.total_amount
                if view.shipped:
                    assert view.paid_amount == view.amount
                if view.state in PAID_OR_LATER:
                    assert view.paid_amount == view.amount
                else:
                    assert view.paid_amount == 0
                facts = Counter((f.type, f.event) for f in view.facts)
                assert all(n == 1 for n in facts.values()), facts
                if view.invoicebox_id:
                    remote = Counter(r["type"] for r in self.ib.receipts(view.invoicebox_id))
                    assert remote == Counter(f.type for f in view.receipts)
                    remote_docs = Counter(d["kind"] for d in self.ib.documents(view.invoicebox_id))
                    assert remote_docs == Counter(f.type for f in view.documents)
                    paid_at_ib = self.ib.order(view.invoicebox_id)["status"] == "completed"
                    assert paid_at_ib == (view.state in PAID_OR_LATER)
                journal = self.flow.history(order_id)
                changes = [e for e in journal if e.from_state != e.to_state or e.outcome == "ok"]
                assert all(a.to_state == b.from_state for a, b in itertools.pairwise(changes))
                assert journal[-1].to_state == view.state.value
                assert len([e for e in journal if e.from_state != e.to_state]) <= view.version

    Lifecycles.TestCase.settings = settings(max_examples=12, stateful_step_count=12, deadline=None,
                                            suppress_health_check=list(HealthCheck))
    Lifecycles.TestCase().runTest()
