"""The sandbox's InvoiceBox: every operation of the API, the payment page and the inspection
API, as plain method calls on :class:`SandboxEngine`.

Each operation takes the state lock, lets time catch up (orders past ``expirationDate``
expire), asks :mod:`.rules` whether it is allowed, stores the result and queues what InvoiceBox
does afterwards (receipts, documents, returned money, notifications) on the background worker.
The HTTP layers (:mod:`.app`, :mod:`.payment_page`, :mod:`.inspection_api`) only translate.
"""

from __future__ import annotations

import copy
import hmac
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

import attrs

from ..flows import Effect
from . import rules
from .clock import SandboxClock, format_atom
from .effects import FULL_SETTLEMENT, PREPAYMENT_FULL, REFUND, Effects
from .faults import FaultBoard
from .invoice_view import InvoiceView
from .listing import ListQuery, apply_query
from .notifier import RESPONSE_DEADLINE, Notifier
from .rules import ORDER_MACHINE, REFUND_MACHINE, api_error, fire, not_found
from .state import OrderRecord, RefundRecord, SandboxState
from .throttle import AccountThrottle
from .worker import BackgroundWorker

# Compressed for tests: 10 retries within about 6 s. The real service spreads its 10 retries
# over 24 hours (spacing undocumented); REALISTIC_RETRY_DELAYS is a plausible such schedule.
DEFAULT_RETRY_DELAYS = (0.05, 0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0, 1.0, 1.0)
REALISTIC_RETRY_DELAYS = (60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0, 10800.0, 14400.0, 21600.0, 25200.0)
DEFAULT_SHOP_NAME = "Тестовый магазин"


@attrs.define
class SandboxSettings:
    token: str = attrs.field(repr=False)
    notification_key: str = attrs.field(repr=False)
    merchant_id: str
    notification_url: str | None = None
    rate_limit: int = 100
    rate_window: float = 30.0
    unique_merchant_order_id: bool = True
    notification_retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS
    notification_timeout: float = RESPONSE_DEADLINE
    user_id: str = attrs.Factory(lambda: str(uuid.uuid4()))
    shop_name: str = DEFAULT_SHOP_NAME  # the shop as its payment page names it
    shipping_control: bool = False  # «Контроль отгрузки на платёжной странице»: the payer waits for the shop


@attrs.frozen
class Listed:
    """A page of a list endpoint and its list-level ``metaData``."""

    items: list[dict[str, Any]]
    meta: dict[str, int]


AUTH_OK, AUTH_MISSING, AUTH_WRONG = "ok", "missing", "wrong"


class SandboxEngine:
    def __init__(self, settings: SandboxSettings) -> None:
        self.settings = settings
        self.base_url = ""  # known once the server is bound; payment URLs are built from it
        self.state = SandboxState()
        self.clock = SandboxClock()
        self.faults = FaultBoard()
        self.throttle = AccountThrottle(settings.rate_limit, settings.rate_window)
        self.worker = BackgroundWorker()
        self.effects = Effects(self.state, self.clock)
        self.notifier = Notifier(state=self.state, worker=self.worker, faults=self.faults, clock=self.clock,
                                 notification_key=settings.notification_key,
                                 retry_delays=tuple(settings.notification_retry_delays),
                                 timeout=settings.notification_timeout, on_final_code=self._merchant_refused)
        self._stopping = threading.Event()

    def __repr__(self) -> str:
        return f"SandboxEngine(base_url={self.base_url!r}, merchant_id={self.settings.merchant_id!r})"

    # --- plumbing ----------------------------------------------------------------------------------

    def authenticate(self, authorization: str | None) -> str:
        """``ok``, ``missing`` (no Authorization header) or ``wrong``."""
        if not authorization or not authorization.strip():
            return AUTH_MISSING
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return AUTH_WRONG
        same = hmac.compare_digest(token.strip().encode("utf-8"), self.settings.token.encode("utf-8"))
        return AUTH_OK if same else AUTH_WRONG

    def sleep(self, seconds: float) -> None:
        """Wait (for injected slowness), cut short when the sandbox stops."""
        self._stopping.wait(seconds)

    def stop(self) -> None:
        self._stopping.set()
        self.worker.stop()

    def _now(self) -> str:
        return format_atom(self.clock.now())

    def _catch_up(self) -> None:
        """Expire every unpaid order whose ``expirationDate`` has passed on the sandbox clock."""
        now = self.clock.now()
        for record in self.state.orders.values():
            if rules.is_due_to_expire(record, now):
                fire(ORDER_MACHINE, record, "expire", "expiry")

    def _order(self, order_id: Any) -> OrderRecord:
        record = self.state.order(order_id) if isinstance(order_id, str) else None
        if record is None:
            raise not_found("order", order_id)
        return record

    def _in_background(self, task: Callable[[], None]) -> None:
        """Run ``task`` on the worker under the state lock, unless the sandbox was reset meanwhile."""
        generation = self.worker.generation

        def run() -> None:
            with self.state.lock:
                if self.worker.generation == generation:
                    task()

        self.worker.submit(run)

    # --- API: authentication ---------------------------------------------------------------------

    def check_auth(self, auth: str) -> dict[str, Any]:
        # With no token at all InvoiceBox answers 200 for an anonymous user (userId null).
        return {"userId": self.settings.user_id if auth == AUTH_OK else None, "profile": None, "accessToken": None}

    # --- API: orders -----------------------------------------------------------------------------

    def create_order(self, payload: Any) -> dict[str, Any]:
        with self.state.lock:
            self._catch_up()
            rules.check_new_order(payload, merchant_id=self.settings.merchant_id, now=self.clock.now())
            if self.settings.unique_merchant_order_id and self.state.order_by_merchant_order_id(payload["merchantOrderId"]):
                raise api_error(422, "merchant_order_id_duplicate",
                                f"merchantOrderId {payload['merchantOrderId']!r} is already used",
                                [rules.field_problem("merchantOrderId", "already used", "merchant_order_id_duplicate")])
            order_id = str(uuid.uuid4())
            container_id = payload.get("orderContainerId") or str(uuid.uuid4())
            data = {"id": order_id, **copy.deepcopy(dict(payload))}
            data.update({
                "orderContainerId": container_id, "languageId": payload.get("languageId", "ru"),
                "subtype": "order", "processingStatus": "", "processable": payload.get("processable", True),
                "fileIds": [], "createdAt": self._now(),
                "paymentUrl": f"{self.base_url}/pay/order/{container_id}",
            })
            data.pop("status", None)
            data.pop("paidAt", None)
            record = OrderRecord(data)
            self.state.orders[order_id] = record
            return record.to_json()

    def find_orders(self, query: ListQuery) -> Listed:
        with self.state.lock:
            self._catch_up()
            items, meta = apply_query(query, [r.to_json() for r in self.state.orders.values()])
            return Listed(items, meta)

    def get_order(self, order_id: str) -> dict[str, Any]:
        with self.state.lock:
            self._catch_up()
            return self._order(order_id).to_json()

    def update_order(self, order_id: str, payload: Any) -> dict[str, Any]:
        with self.state.lock:
            self._catch_up()
            record = self._order(order_id)
            merged = rules.merged_update(record, payload, merchant_id=self.settings.merchant_id, now=self.clock.now())
            fire(ORDER_MACHINE, record, "update", "update")
            record.data = merged
            return record.to_json()

    def cancel_order(self, order_id: str) -> dict[str, Any]:
        with self.state.lock:
            self._catch_up()
            record = self._order(order_id)
            trigger = rules.cancel_trigger(record)
            fire(ORDER_MACHINE, record, trigger, "cancel")
            if trigger == "reverse":
                order = record.to_json()
                self._in_background(lambda: self._reverse_payment(order))
            return record.to_json()

    def _reverse_payment(self, order: dict[str, Any]) -> None:
        """A refused paid order canceled by the shop: all money back; a private payer, who got a
        «предоплата 100%» receipt, gets the matching «возврат» receipt."""
        self.effects.return_money(order["id"], order["amount"], reason="reversal")
        if rules.payer_variant(order) == "private":
            self.effects.issue_receipt(order, REFUND, order["basketItems"])

    # --- API: shipments --------------------------------------------------------------------------

    def create_shipment(self, payload: Any) -> dict[str, Any]:
        with self.state.lock:
            self._catch_up()
            payload = rules.check_shipment_request(payload)
            record = self._order(payload["orderId"])
            lines = rules.shipment_lines(record, payload, self.state.shipments_of(record),
                                         self.state.refunds_of(record))
            fire(ORDER_MACHINE, record, "ship", "shipment")
            shipment_id = self.state.next_shipment_id()
            shipment = {
                "id": shipment_id, **copy.deepcopy(dict(payload)), "merchantId": self.settings.merchant_id,
                "orderId": record.id, "basketItems": lines, "status": "completed",
                "amount": sum((rules.money(l["totalAmount"]) for l in lines), Decimal("0.00")),
                "vatAmount": sum((rules.money(l["totalVatAmount"]) for l in lines), Decimal("0.00")),
                "createdAt": self._now(),
            }
            self.state.shipments[shipment_id] = shipment
            record.shipment_ids.append(shipment_id)
            order = record.to_json()
            self._in_background(lambda: self._after_shipment(order, copy.deepcopy(lines), shipment_id))
            return copy.deepcopy(shipment)

    def _after_shipment(self, order: dict[str, Any], lines: list[dict[str, Any]], shipment_id: int) -> None:
        if rules.payer_variant(order) == "private":
            self.effects.issue_receipt(order, FULL_SETTLEMENT, lines, shipmentId=shipment_id)
        else:
            self.effects.issue_documents(order, lines, refund=False, shipmentId=shipment_id)

    def list_shipments(self, query: ListQuery) -> Listed:
        with self.state.lock:
            items, meta = apply_query(query, copy.deepcopy(list(self.state.shipments.values())))
            return Listed(items, meta)

    # --- API: refunds ----------------------------------------------------------------------------

    def refundable_items(self, order_id: str) -> Listed:
        with self.state.lock:
            self._catch_up()
            record = self._order(order_id)
            items = rules.refundable_items(record, self.state.refunds_of(record))
            return Listed(items, {"totalCount": len(items), "pageSize": max(len(items), 1), "page": 1})

    def create_refund(self, payload: Any) -> dict[str, Any]:
        with self.state.lock:
            self._catch_up()
            payload = rules.check_refund_request(payload)
            record = self._order(payload["parentId"])
            if self.state.refund_by_merchant_order_id(payload["merchantOrderId"]):
                # Always enforced for refunds: it is what prevents a double refund (§7.1).
                raise api_error(422, "merchant_order_id_duplicate",
                                f"refund merchantOrderId {payload['merchantOrderId']!r} is already used",
                                [rules.field_problem("merchantOrderId", "already used", "merchant_order_id_duplicate")])
            rules.check_refund(record, payload, self.state.refunds_of(record))
            fire(ORDER_MACHINE, record, "refund", "refund")
            refund_id = str(uuid.uuid4())
            data = {"id": refund_id, **copy.deepcopy(dict(payload)), "parentId": record.id,
                    "merchantId": self.settings.merchant_id, "currencyId": record.data.get("currencyId"),
                    "createdAt": self._now()}
            data.pop("status", None)
            refund = RefundRecord(data, state=payload.get("status", rules.CREATED))
            self.state.refunds[refund_id] = refund
            record.refund_ids.append(refund_id)
            if refund.state == rules.CREATED:
                order = record.to_json()
                self._in_background(lambda: self._return_money(order, refund))
            return refund.to_json()

    def _return_money(self, order: dict[str, Any], refund: RefundRecord) -> None:
        fire(REFUND_MACHINE, refund, "return_money", "money return")
        self.effects.return_money(order["id"], refund.data["amount"], refundId=refund.id)
        lines = refund.data["basketItems"]
        if rules.payer_variant(order) == "private":
            self.effects.issue_receipt(order, REFUND, lines, refundId=refund.id)
        else:
            self.effects.issue_documents(order, lines, refund=True, refundId=refund.id)

    def list_refunds(self, query: ListQuery) -> Listed:
        with self.state.lock:
            items, meta = apply_query(query, [r.to_json() for r in self.state.refunds.values()])
            return Listed(items, meta)

    # --- the payment page ------------------------------------------------------------------------

    def _invoice_record(self, container_id: str) -> OrderRecord:
        record = self.state.order_by_container(container_id)
        if record is None:
            raise not_found("invoice", container_id)
        return record

    def show_invoice(self, container_id: str, *, record_view: bool = True) -> InvoiceView:
        """The invoice behind a payment page; viewing a payable one is a page interaction
        (``record_view=False``: the page only shows where the payer stands)."""
        with self.state.lock:
            self._catch_up()
            record = self._invoice_record(container_id)
            if record_view and record.state == rules.CREATED:
                self.state.add_event(record.id, Effect.PAGE_INTERACTION.value, None, {"action": "view"})
            return self._view(record)

    def _view(self, record: OrderRecord) -> InvoiceView:
        return InvoiceView.of(record, shop_name=self.settings.shop_name, shipping_control=self.settings.shipping_control,
                              attempts=self.state.notifications)

    def pay(self, container_id: str, payer_fields: Mapping[str, str]) -> str:
        """The buyer pays: the order is completed now; receipt and notification follow in the
        background. Returns where the buyer is redirected.

        Under «Контроль отгрузки на платёжной странице» (``shipping_control``) the buyer waits
        while the notification is delivered, and is sent to the page's result, which tells the
        shop's answer and then sends the buyer on to the shop (:attr:`InvoiceView.shop_url`).
        """
        with self.state.lock:
            self._catch_up()
            record = self._invoice_record(container_id)
            customer = rules.customer_after_payment(record.data, payer_fields)
            fire(ORDER_MACHINE, record, "pay", "payment")
            record.data["customer"] = customer
            record.data["paidAt"] = self._now()
            self.state.add_event(record.id, Effect.PAYMENT.value, None, {"amount": record.data["amount"]})
            order = record.to_json()
            url = record.data.get("notificationUrl") or self.settings.notification_url
            notification = self.notifier.build(order, url, order_id=record.id) if url else None
            record.payment_notification = notification
            if notification is None or not self.settings.shipping_control:
                location = record.data.get("successUrl") or f"{self.base_url}/pay/done/{container_id}"
                self.state.add_event(record.id, Effect.REDIRECT_TO_SHOP.value, None, {"location": location})
                self._in_background(lambda: self._after_payment(order, notification))
                return location
        # Outside the lock: the shop may well call the API before it answers.
        self.notifier.deliver_now(notification)
        with self.state.lock:
            result = f"{self.base_url}/pay/order/{container_id}/result"
            shop_url = self._view(record).shop_url
            self.state.add_event(record.id, Effect.REDIRECT_TO_SHOP.value, None, {"location": shop_url or result})
            self._in_background(lambda: self._after_payment(order, None))
            return result

    def _after_payment(self, order: dict[str, Any], notification: Any) -> None:
        if rules.payer_variant(order) == "private":
            self.effects.issue_receipt(order, PREPAYMENT_FULL, order["basketItems"])
        if notification is not None:
            self.notifier.dispatch(notification)

    def decline(self, container_id: str) -> str:
        """The buyer declines: the order stays payable; returns where the buyer is redirected."""
        with self.state.lock:
            self._catch_up()
            record = self._invoice_record(container_id)
            if record.state != rules.CREATED:
                raise rules.wrong_order_status("decline", record.state)
            self.state.add_event(record.id, Effect.PAGE_INTERACTION.value, None, {"action": "decline"})
            return record.data.get("failUrl") or f"{self.base_url}/pay/declined/{container_id}"

    def choose_bank_transfer(self, container_id: str) -> dict[str, Any]:
        """A legal payer chooses to pay the invoice by bank transfer: the order stays payable
        (``created``) while the money is on its way; the page says the invoice is issued.

        Page-side stand-in: when the money arrives is the sandbox's bank-transfer model's to say.
        """
        with self.state.lock:
            self._catch_up()
            record = self._invoice_record(container_id)
            if record.state != rules.CREATED or rules.payer_variant(record.data) != "legal":
                raise rules.wrong_order_status("bank transfer", record.state)
            record.bank_transfer_requested = True
            self.state.add_event(record.id, Effect.PAGE_INTERACTION.value, None, {"action": "bank_transfer"})
            return record.to_json()

    def _merchant_refused(self, order_id: str | None, code: str) -> None:
        """The shop answered a notification with a final error code; ``shipping_unavailable``
        marks the order so that a DELETE may reverse it (§3.4)."""
        if code != "shipping_unavailable" or order_id is None:
            return
        with self.state.lock:
            record = self.state.order(order_id)
            if record is not None:
                record.shipping_unavailable = True
                record.data["shippingUnavailable"] = True

    # --- inspection ------------------------------------------------------------------------------

    def snapshot(self, kind: str, order_id: str | None = None, address: str | None = None) -> list[dict[str, Any]]:
        """Copies of stored objects of one kind, optionally of one order (or one mail address)."""
        with self.state.lock:
            self._catch_up()
            items: Iterable[dict[str, Any]] = {
                "orders": lambda: [r.to_json() for r in self.state.orders.values()],
                "refunds": lambda: [r.to_json() for r in self.state.refunds.values()],
                "shipments": lambda: list(self.state.shipments.values()),
                "receipts": lambda: self.state.receipts,
                "documents": lambda: self.state.documents,
                "mailbox": lambda: self.state.mailbox,
                "notifications": lambda: self.state.notifications,
                "events": lambda: self.state.events,
                "requests": lambda: self.state.requests,
            }[kind]()
            key = {"orders": "id", "refunds": "parentId"}.get(kind, "orderId")
            return copy.deepcopy([item for item in items
                                  if (order_id is None or item.get(key) == order_id)
                                  and (address is None or item.get("to") == address)])

    def log_request(self, entry: dict[str, Any]) -> None:
        with self.state.lock:
            self.state.requests.append(entry)

    def advance_clock(self, seconds: float) -> str:
        with self.state.lock:
            now = self.clock.advance(seconds)
            self._catch_up()
            return format_atom(now)

    def redeliver(self, order_id: str) -> None:
        with self.state.lock:
            record = self._order(order_id)
            notification = record.payment_notification
            if notification is None:
                raise api_error(422, "wrong_order_status", "this order has no payment notification to deliver")
        self.notifier.redeliver(notification)

    def send_test_notification(self, url: str | None) -> dict[str, Any]:
        url = url or self.settings.notification_url
        if not url:
            raise api_error(422, "validation", "no notification URL: pass one or start the sandbox with one")
        return self.notifier.send_now(self.notifier.test_notification(url, self.settings.merchant_id))

    def reset(self) -> None:
        """Forget every object, event, fault and queued task; the clock goes back to real time.
        Credentials and settings stay."""
        with self.state.lock:
            self.worker.clear()
            self.state.clear()
            self.faults.clear()
            self.clock.reset()
            self.throttle.reset()
            self.notifier.forget_held()

    def wait_idle(self, timeout: float) -> bool:
        return self.worker.wait_idle(timeout)
