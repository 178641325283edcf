"""``invoicebox-flow demo``: every documented sequence, run for real against a local sandbox.

Four orders go through the shop's :class:`~invoicebox_flow.engine.OrderFlow` — a private buyer
paying for services, an organisation's order of services (an act) and a sole proprietor's
order of goods (TORG-12), each through the payment page, the signed notification, shipment,
a partial and then the final refund; and one order canceled before payment. Everything talks
HTTP on loopback: the client to the :class:`~invoicebox_flow.sandbox.Sandbox`, the simulated
:class:`~invoicebox_flow.sandbox.Buyer` to the payment page and back to the shop, the sandbox's
webhook to the shop's notification endpoint.

Nothing printed is typed twice: each progress line is a traced message
(:func:`invoicebox_flow.tracing.collect` reads the store's journal and the sandbox's events)
drawn with the documented step it is. The verdict compares the recorded diagram of every run
with the documented one (:func:`invoicebox_flow.diagrams.render_sequence`), and the receipts
and documents InvoiceBox issued with what the documented steps promise.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import attrs
import requests
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from . import tracing
from .client import InvoiceboxClient
from .diagrams import render_sequence
from .engine import OrderFlow, OrderView
from .errors import FlowError, InvoiceboxFlowError, TransportError, ValidationError
from .flows import SEQUENCES, Effect, Phase, Sequence, State, Variant, sequences_of
from .flows.steps import Step
from .models import BasketItem, LegalCustomer, PrivateCustomer, basket_line
from .sandbox import Buyer, Sandbox
from .serving import LoopbackServer
from .store import Store
from .trace import Trace, TracedMessage
from .webhook import make_wsgi_app

__all__ = ["DEMO_RETRY_DELAYS", "DemoOrder", "demo_orders", "run_demo"]

DEFAULT_DB = "sqlite:///invoicebox-flow.db"
# Ten compressed retries: the real schedule spreads them over a day (reference §8.3).
DEMO_RETRY_DELAYS = (0.02, 0.05, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1)
NOTIFICATION_PATH = "/invoicebox/notification"
RETURN_PATH = "/shop/return/"

Echo = Callable[[str], Any]


# --- what the demo runs -----------------------------------------------------------------------


@attrs.frozen
class DemoOrder:
    """One order of the demo and how the documentation says it ends."""

    order_id: str
    label: str
    customer: PrivateCustomer | LegalCustomer
    lines: tuple[BasketItem, ...]
    description: str
    # ``{sku: quantity}`` of the first, partial refund; None: the order is canceled before payment.
    partial_refund: Mapping[str, int] | None
    # Kinds of the reporting documents InvoiceBox issues on shipment (legal buyers, reference §5.8).
    documents: tuple[str, ...] = ()

    @property
    def variant(self) -> Variant:
        return Variant.LEGAL if isinstance(self.customer, LegalCustomer) else Variant.PRIVATE

    @property
    def canceled(self) -> bool:
        return self.partial_refund is None

    @property
    def final_state(self) -> State:
        return State.CANCELED if self.canceled else State.REFUNDED

    def expected_runs(self) -> dict[str, int]:
        """How many times each documented sequence of the variant runs to its end."""
        if self.canceled:
            return {}
        return {seq.name: 2 if seq.phase is Phase.REFUND else 1 for seq in sequences_of(self.variant)}

    def expected_receipts(self) -> list[str]:
        """Receipt types the documented steps register, once per run (empty for organisations)."""
        return sorted(step.receipt for seq in sequences_of(self.variant)
                      for _ in range(self.expected_runs().get(seq.name, 0))
                      for step in seq.steps if step.effect is Effect.RECEIPT_REGISTERED and step.receipt)

    def expected_documents(self) -> list[str]:
        """The shipment's documents, then the same kinds for each of the two refunds."""
        if self.canceled:
            return []
        refunds = self.expected_runs()[f"{self.variant.value}-{Phase.REFUND.value}"]
        return sorted(list(self.documents) + [f"refund_{kind}" for kind in self.documents] * refunds)


# A company (10-digit INN with KPP) and a sole proprietor (12-digit INN, no KPP); checksums valid.
_COMPANY = dict(name="ООО «Вектор»", vat_number="7812345675", tax_registration_reason_code="781201001",
                registration_address="191186, Санкт-Петербург, Невский пр., 1", email="buh@vector.example")
_SOLE_PROPRIETOR = dict(name="ИП Иванов Иван Иванович", vat_number="781234567870", email="ip@ivanov.example")


def demo_orders(run_id: str) -> list[DemoOrder]:
    """The demo's four orders; ``run_id`` keeps their ids unique in a store shared by runs."""
    course = basket_line(sku="COURSE-PY-90", name="Онлайн-курс «Python для аналитиков», доступ 90 дней",
                         unit_price="1200.00", quantity=2, vat_code="RUS_VAT20", type="service")
    audit = basket_line(sku="AUDIT-1", name="Аудит интернет-магазина", unit_price="15000.00", quantity=1,
                        vat_code="RUS_VAT20", type="service")
    support = basket_line(sku="SUPPORT-M", name="Сопровождение, месяц", unit_price="5000.00", quantity=2,
                          vat_code="RUS_VAT20", type="service")
    books = basket_line(sku="BOOK-1", name="Книга «Python»", unit_price="990.00", quantity=3, vat_code="RUS_VAT10",
                        type="commodity")
    mug = basket_line(sku="MUG-1", name="Кружка", unit_price="450.50", quantity=1, vat_code="RUS_VAT20",
                      type="commodity")
    anna = PrivateCustomer(name="Анна Смирнова", phone="79215550101", email="anna@example.org")
    return [
        DemoOrder(f"DEMO-{run_id}-P", "private buyer, services", anna, (course,), "Онлайн-курс", {"COURSE-PY-90": 1}),
        DemoOrder(f"DEMO-{run_id}-LS", "organisation, services", LegalCustomer(**_COMPANY), (audit, support),
                  "Аудит и сопровождение", {"SUPPORT-M": 1}, documents=("act", "transfer_report")),
        DemoOrder(f"DEMO-{run_id}-LG", "sole proprietor, goods", LegalCustomer(**_SOLE_PROPRIETOR), (books, mug),
                  "Книги и кружка", {"BOOK-1": 1}, documents=("torg12", "transfer_report")),
        DemoOrder(f"DEMO-{run_id}-C", "private buyer, canceled", anna, (books,), "Книги (отменён)", None),
    ]


def _run_id() -> str:
    return f"{datetime.now(timezone.utc):%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:4]}"


# --- the shop's web side: notification endpoint and return page ------------------------------


class _ShopServer:
    """The shop's HTTP endpoints on a free loopback port: InvoiceBox's notifications and the page
    the buyer comes back to from the payment page (it records ``buyer_returned``)."""

    def __init__(self) -> None:
        self._flow: OrderFlow | None = None
        self._notifications: Any = None
        self._server = LoopbackServer(self._app, name="invoicebox-flow-demo-shop", start=False)
        self.url = self._server.url

    @property
    def notification_url(self) -> str:
        return self.url + NOTIFICATION_PATH

    def return_url(self, order_id: str) -> str:
        return f"{self.url}{RETURN_PATH}{order_id}"

    def serve(self, flow: OrderFlow) -> None:
        """Start answering; the flow needs our URL first, hence the two steps."""
        self._flow = flow
        self._notifications = make_wsgi_app(flow, path=NOTIFICATION_PATH)
        self._server.start()

    def close(self) -> None:
        self._server.close()

    def _app(self, environ: dict, start_response: Callable) -> list[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(RETURN_PATH) and self._flow is not None:
            return self._buyer_returned(path[len(RETURN_PATH):], start_response)
        return self._notifications(environ, start_response)

    def _buyer_returned(self, order_id: str, start_response: Callable) -> list[bytes]:
        assert self._flow is not None
        try:
            self._flow.buyer_returned(order_id)  # adapts to a notification that came first
            start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
            return ["Спасибо за оплату!".encode()]
        except InvoiceboxFlowError as exc:
            start_response("409 Conflict", [("Content-Type", "text/plain; charset=utf-8")])
            return [str(exc).encode()]


# --- progress: one line per documented step, as it is observed --------------------------------


def step_line(seq: Sequence, step: Step) -> str:
    """``[private-payment  8/10] ИнвойсБокс → Онлайн касса: Чек "предоплата 100%"``."""
    return f"[{seq.name:<15} {step.number:>2}/{len(seq.steps)}] {step.sender} → {step.receiver}: {step.text}"


class _Progress:
    """Prints the documented steps an order went through since it last looked."""

    def __init__(self, echo: Echo, store: Store, sandbox: Sandbox):
        self.echo = echo
        self.store = store
        self.sandbox = sandbox
        self._printed: set[tuple[str, int, float, str]] = set()

    def observe(self, order_id: str) -> None:
        _sandbox_call(self.sandbox.wait_idle)  # receipts, documents and the webhook are done by now
        trace = Trace()
        tracing.collect(trace, self.store, self.sandbox.inspect, order_id)
        for message in trace.messages(order_ref=order_id):
            key = (message.sequence, message.step, message.at, message.source)
            if key in self._printed:
                continue
            self._printed.add(key)
            seq = _sequence(message.sequence)
            self.echo("  " + step_line(seq, seq.step(message.step)))


def _sequence(name: str) -> Sequence:
    return next(seq for seq in SEQUENCES if seq.name == name)


# --- running one order ------------------------------------------------------------------------


def _sandbox_call(call: Callable[..., Any], *args: Any) -> Any:
    """The sandbox's inspection API and the buyer speak plain HTTP: their failures become ours."""
    try:
        return call(*args)
    except requests.RequestException as exc:
        raise TransportError(f"the local sandbox did not answer: {type(exc).__name__}: {exc}") from exc
    except TimeoutError as exc:
        raise TransportError(f"the local sandbox stayed busy: {exc}", timeout=True) from exc


def _pay(flow: OrderFlow, buyer: Buyer, order: DemoOrder, progress: _Progress) -> None:
    """Payment steps 4–10: to the payment page, pay, back to the shop, the notification."""
    payment_url = flow.redirect_buyer(order.order_id)
    _sandbox_call(buyer.open, payment_url)
    location = _sandbox_call(buyer.pay, payment_url)
    back = _sandbox_call(buyer.session.get, location)  # the buyer follows the redirect to the shop
    if back.status_code != 200:
        raise FlowError(f"order {order.order_id}: the shop's return page answered HTTP {back.status_code}: "
                        f"{back.text[:200]}")
    progress.observe(order.order_id)
    state = flow.get(order.order_id).state
    if state is not State.PAID:
        raise FlowError(f"order {order.order_id}: still {state.value} after the payment notification")


def _refund(flow: OrderFlow, order: DemoOrder, items: Mapping[str, int] | None, progress: _Progress) -> None:
    """Refund steps 1–3 (and, for organisations, the shop's own documents, step 6)."""
    flow.claim_refund(order.order_id, reason="покупатель передумал")
    flow.refundable_items(order.order_id)
    flow.refund(order.order_id, items)
    progress.observe(order.order_id)  # money returned, receipt or documents: InvoiceBox's steps
    if order.variant is Variant.LEGAL:
        flow.send_documents(order.order_id)
        progress.observe(order.order_id)


def _run_order(flow: OrderFlow, buyer: Buyer, shop: _ShopServer, order: DemoOrder, progress: _Progress,
               echo: Echo) -> None:
    lines = ", ".join(f"{line.name} × {line.quantity}" for line in order.lines)
    echo(f"order {order.order_id} — {order.label}: {lines}")
    flow.place(order.order_id, list(order.lines), order.customer, description=order.description,
               success_url=shop.return_url(order.order_id))
    progress.observe(order.order_id)
    if order.canceled:
        flow.cancel(order.order_id)
        echo(f"  canceled before payment: {flow.get(order.order_id).state.value}")
        return
    _pay(flow, buyer, order, progress)
    flow.ship(order.order_id)
    progress.observe(order.order_id)
    if order.variant is Variant.LEGAL:
        flow.send_documents(order.order_id)
        progress.observe(order.order_id)
    _refund(flow, order, order.partial_refund, progress)
    _refund(flow, order, None, progress)  # whatever is left


# --- the verdict ------------------------------------------------------------------------------


@attrs.frozen
class _Check:
    ok: bool
    text: str


def _runs_of(trace: Trace, seq: Sequence, order_id: str) -> list[list[TracedMessage]]:
    return [run for run in trace.runs(seq.name) if run[0].order_ref == order_id]


def _sequence_checks(trace: Trace, orders: list[DemoOrder]) -> list[_Check]:
    """Each documented sequence ran in full, as often as planned, and drew the documented diagram."""
    checks = []
    for seq in SEQUENCES:
        documented = render_sequence(seq)
        planned = [(o, o.expected_runs().get(seq.name, 0)) for o in orders if o.expected_runs().get(seq.name)]
        problems, equal = [], 0
        for order, count in planned:
            runs = _runs_of(trace, seq, order.order_id)
            if len(runs) != count:
                problems.append(f"{order.order_id} ran it {len(runs)}×, not {count}×")
            for run in runs:
                if trace.render(seq, run) == documented:
                    equal += 1
                else:
                    steps = ",".join(str(m.step) for m in run)
                    problems.append(f"{order.order_id} ran steps {steps}")
        ok = bool(planned) and not problems
        text = f"{seq.name:<16} {seq.title}: {equal} run(s) equal the documented diagram"
        checks.append(_Check(ok, text + ("" if ok else " — " + "; ".join(problems or ["never ran"]))))
    return checks


def _canceled_checks(trace: Trace, order: DemoOrder, remote: Mapping[str, Any]) -> list[_Check]:
    """Canceled before payment: the payment sequence stopped after the payment link (step 3)."""
    seq = next(s for s in sequences_of(order.variant) if s.phase is Phase.PAYMENT)
    steps = [m.step for m in trace.messages(order_ref=order.order_id)]
    wanted = [step.number for step in seq.steps if step.number <= 3]
    others = {m.sequence for m in trace.messages(order_ref=order.order_id)} - {seq.name}
    return [_Check(steps == wanted and not others and remote.get("status") == "canceled",
                   f"{order.order_id}: {seq.name} steps {steps} then canceled "
                   f"(InvoiceBox says {remote.get('status')!r})")]


@attrs.frozen
class _Outcome:
    order: DemoOrder
    view: OrderView
    receipts: list[str]
    documents: list[str]
    notifications: int

    def checks(self) -> list[_Check]:
        o, v = self.order, self.view
        out = [_Check(v.state is o.final_state, f"{o.order_id}: {v.state.value} (expected {o.final_state.value})"),
               _Check(self.receipts == o.expected_receipts()
                      and sorted(f.type for f in v.receipts) == self.receipts,
                      f"{o.order_id}: receipts {_counted(self.receipts)} (expected {_counted(o.expected_receipts())})"),
               _Check(self.documents == o.expected_documents()
                      and sorted(f.type for f in v.documents) == self.documents,
                      f"{o.order_id}: documents {_counted(self.documents)} "
                      f"(expected {_counted(o.expected_documents())})"),
               _Check(self.notifications == (0 if o.canceled else 1),
                      f"{o.order_id}: {self.notifications} payment notification(s) delivered")]
        if not o.canceled:
            out.append(_Check(v.refunded_amount == v.paid_amount == v.amount,
                              f"{o.order_id}: paid {v.paid_amount}, refunded {v.refunded_amount} of {v.amount}"))
        return out


def _outcome(flow: OrderFlow, sandbox: Sandbox, order: DemoOrder) -> tuple[_Outcome, Mapping[str, Any]]:
    view = flow.get(order.order_id)
    ib_id = view.invoicebox_id or ""
    receipts = sorted(r["type"] for r in _sandbox_call(sandbox.receipts, ib_id))
    documents = sorted(d["kind"] for d in _sandbox_call(sandbox.documents, ib_id))
    delivered = sum(1 for n in _sandbox_call(sandbox.notifications, ib_id) if n.get("delivered"))
    remote = _sandbox_call(sandbox.order, ib_id) if ib_id else {}
    return _Outcome(order, view, receipts, documents, delivered), remote


def _counted(items: list[str]) -> str:
    if not items:
        return "none"
    return ", ".join(name if n == 1 else f"{name} ×{n}" for name, n in Counter(items).items())


def _summary_table(outcomes: list[_Outcome]) -> list[str]:
    header = ("order", "buyer", "state", "amount", "refunded", "receipts", "documents", "notified")
    rows = [(o.order.order_id, o.order.variant.value, o.view.state.value, str(o.view.amount),
             str(o.view.refunded_amount), _counted(o.receipts), _counted(o.documents), str(o.notifications))
            for o in outcomes]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    right = {3, 4, 7}  # numbers

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return [line(header), "  ".join("-" * w for w in widths), *(line(r) for r in rows)]


# --- the whole demo ---------------------------------------------------------------------------


@contextmanager
def _store(db_url: str) -> Iterator[Store]:
    """The store at ``db_url``; a URL that cannot be opened is one clear typed error."""
    try:
        store = Store(db_url)
        store.counts()  # creates the tables, or fails now rather than half-way through the demo
    except (SQLAlchemyError, ImportError) as exc:  # ImportError: the URL's database driver is not installed
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValidationError(f"cannot open the store {_masked(db_url)}: {reason}", code="store") from None
    try:
        yield store
    finally:
        store.dispose()


def _masked(db_url: str) -> str:
    """The URL for messages, its password hidden."""
    try:
        return make_url(db_url).render_as_string(hide_password=True)
    except SQLAlchemyError:
        return "(an unreadable URL)"


def run_demo(db_url: str = DEFAULT_DB, trace_dir: Path = Path("demo-diagrams"), echo: Echo = print) -> bool:
    """Run every documented sequence against a fresh local sandbox; True if all ended as documented.

    Orders are stored at ``db_url`` (new ids on every run, so runs can share a store); the
    recorded sequence diagrams are written to ``trace_dir``.
    """
    started = time.monotonic()
    run_id = _run_id()
    orders = demo_orders(run_id)
    trace_dir = Path(trace_dir)
    with ExitStack() as stack:
        store = stack.enter_context(_store(db_url))
        trace_dir.mkdir(parents=True, exist_ok=True)  # an unusable folder fails now, not after the run
        sandbox = stack.enter_context(Sandbox(notification_retry_delays=DEMO_RETRY_DELAYS))
        shop = _ShopServer()
        stack.callback(shop.close)
        client = stack.enter_context(InvoiceboxClient(sandbox.token, base_url=sandbox.url, timeout=(2.0, 10.0),
                                                      backoff_base=0.01))
        flow = OrderFlow(client, store, merchant_id=sandbox.merchant_id, notification_key=sandbox.notification_key,
                         notification_url=shop.notification_url)
        shop.serve(flow)
        buyer = Buyer()
        stack.callback(buyer.session.close)

        echo(f"invoicebox-flow demo {run_id}")
        echo(f"  InvoiceBox sandbox   {sandbox.url}")
        echo(f"  shop notifications   {shop.notification_url}")
        echo(f"  store                {store.url}")
        echo("")
        progress = _Progress(echo, store, sandbox)
        for order in orders:
            _run_order(flow, buyer, shop, order, progress, echo)

        trace = Trace()
        for order in orders:
            tracing.collect(trace, store, sandbox.inspect, order.order_id)
        outcomes, checks = [], _sequence_checks(trace, orders)
        for order in orders:
            outcome, remote = _outcome(flow, sandbox, order)
            outcomes.append(outcome)
            checks += outcome.checks()
            if order.canceled:
                checks += _canceled_checks(trace, order, remote)

    echo("")
    for row in _summary_table(outcomes):
        echo(row)
    echo("")
    for check in checks:
        echo(f"{'ok  ' if check.ok else 'FAIL'} {check.text}")
    written = trace.write(trace_dir)
    ok = all(check.ok for check in checks)
    echo("")
    echo(f"wrote {len(written)} recorded sequence diagrams of this run to {trace_dir}/ ({trace_dir.resolve()})")
    verdict = "every documented sequence ended as documented" if ok else "some sequences did NOT end as documented"
    echo(f"{verdict} ({time.monotonic() - started:.1f} s)")
    return ok
