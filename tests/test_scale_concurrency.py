"""Scale-out under faults: several processes, one database, one InvoiceBox, many orders.

Each process (``multiprocessing`` spawn, as separate hosts would be) runs, against the same
database and the same sandbox:

* an outbox :class:`~invoicebox_flow.worker.Worker` in a thread,
* the shop's notification endpoint (:func:`~invoicebox_flow.webhook.make_wsgi_app`) in a thread,
* a driver that takes its share of the orders through their whole lifecycle with the public
  engine API — half of them with deferred calls (the outbox), half inline — and calls
  ``resume`` itself for an order whose call has been waiting a while.

Every order is notified at *another* process's endpoint, so payments are applied by a process
that did not create the order. Before about 10 % of its calls to InvoiceBox a driver injects a
fault for that endpoint at the sandbox (5xx before or after the work, a timeout before or after
the work, 429, a dropped connection), and before about 30 % of the payments a notification
fault (delivered twice, held back and delivered after the next one, delayed). Faults are global
at the sandbox: whichever process calls that endpoint next meets it.

At the end every order must be in the state its plan leads to, and :func:`consistency_problems`
must find nothing: exactly one InvoiceBox order per shop order, one shipment per shipped order,
each receipt and document exactly once per event, refunds never above the payment and equal to
what the store recorded, a complete journal whose chain of allowed transitions ends in the
stored state, an empty outbox. The PostgreSQL variant drives 1,000 orders from 4 processes;
the SQLite variant fewer orders from 2 processes.
"""

from __future__ import annotations

import itertools
import logging
import os
import queue
import random
import threading
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal

import attrs
import pytest
from db_fixtures import postgres_schema, sqlite_url
from helpers import course_lines, goods_lines, legal_customer, private_customer

from invoicebox_flow.flows import State, Variant
from invoicebox_flow.sandbox import Sandbox

# each starts several processes for minutes: one xdist worker runs these in turn, beside the light tests
pytestmark = pytest.mark.xdist_group("heavy")

# --- sizes and timings ---------------------------------------------------------------------

PG_PROCESSES, PG_ORDERS = 4, 1000
SQLITE_PROCESSES, SQLITE_ORDERS = 2, 160
FAULT_SHARE = 0.10  # of the drivers' calls to InvoiceBox
NOTIFICATION_FAULT_SHARE = 0.30  # of the payments
READ_TIMEOUT = 1.0  # the clients' read timeout ...
SLOW_DELAY = 1.4  # ... which an injected "slow" answer exceeds ...
RETRY_CAP = 2.0  # ... and the outbox retries later than that, when the slow work has landed
WAIT_POLL = 0.25  # how often a driver looks at an order that waits for a worker or a notification
LEASE_SECONDS = 60.0  # longer than any one call with its retries: nobody dies in this test
NOTIFICATION_RETRIES = (0.05, 0.1, 0.2, 0.3, 0.5, 0.5, 1.0, 1.0, 1.0, 1.0)
DRIVE_DEADLINE = 240.0  # seconds a driver keeps trying before it reports what is unfinished

WRITE_FAULTS = ("server_error", "server_error_after_commit", "slow", "slow_after_commit", "rate_limit", "drop",
                "drop_after_commit")
READ_FAULTS = ("server_error", "slow", "rate_limit", "drop")
NOTIFICATION_FAULTS = ("duplicate", "reorder", "delay")
# the endpoint each driver action calls, and the look-up that reconciles it
ENDPOINTS = {"place": ("create_order", "find_orders"), "ship": ("create_shipment", "list_shipments"),
             "refund": ("create_refund", "list_refunds"), "cancel": ("cancel_order", "get_order"),
             "refundable": ("refundable_items", None)}

REQUESTED = {State.INVOICE_REQUESTED, State.SHIPMENT_REQUESTED, State.REFUND_REQUESTED}
PAID_STATES = {State.PAID, State.SHIPMENT_REQUESTED, State.SHIPPED, State.REFUND_REQUESTED,
               State.PARTIALLY_REFUNDED, State.REFUNDED}


# --- what each order goes through ----------------------------------------------------------

# plan -> (final state, weight)
PLANS = {
    "refund_in_two": (State.REFUNDED, 30),  # pay, ship, refund one unit, then the rest
    "partial_refund": (State.PARTIALLY_REFUNDED, 15),  # pay, ship, refund one unit
    "ship": (State.SHIPPED, 20),
    "refund_unshipped": (State.REFUNDED, 15),  # pay, refund everything without shipping
    "cancel": (State.CANCELED, 10),  # cancel before payment
    "decline": (State.PAYMENT_DECLINED, 10),  # the buyer declines on the payment page
}
CUSTOMERS = ("private", "company", "sole_proprietor")
BASKETS = {"course": "COURSE-PY-90", "goods": "BOOK-1"}  # basket -> the sku a partial refund takes one of


@attrs.frozen
class OrderPlan:
    order_id: str
    plan: str
    customer: str
    basket: str
    defer: bool
    notify_via: int  # the process whose endpoint receives this order's notifications

    @property
    def final(self) -> State:
        return PLANS[self.plan][0]

    @property
    def variant(self) -> Variant:
        return Variant.PRIVATE if self.customer == "private" else Variant.LEGAL


def make_plans(count: int, processes: int, seed: int, prefix: str) -> list[list[OrderPlan]]:
    """``count`` orders dealt to ``processes`` drivers; each notified via another process."""
    rng = random.Random(seed)
    names, weights = list(PLANS), [w for _, w in PLANS.values()]
    shares: list[list[OrderPlan]] = [[] for _ in range(processes)]
    for n in range(count):
        owner = n % processes
        shares[owner].append(OrderPlan(
            order_id=f"{prefix}-{n:04d}", plan=rng.choices(names, weights)[0], customer=rng.choice(CUSTOMERS),
            basket=rng.choice(list(BASKETS)), defer=rng.random() < 0.5,
            notify_via=(owner + 1 + rng.randrange(max(processes - 1, 1))) % processes if processes > 1 else 0))
    return shares


def customer_of(kind: str):
    if kind == "private":
        return private_customer()
    return legal_customer(sole_proprietor=kind == "sole_proprietor")


def lines_of(basket: str):
    return course_lines() if basket == "course" else goods_lines()


# --- one process: worker, endpoint, driver -------------------------------------------------


@attrs.frozen
class Settings:
    """What a process needs to reach the database and the sandbox (picklable)."""

    db_url: str
    ib_url: str
    token: str = attrs.field(repr=False)
    notification_key: str = attrs.field(repr=False)
    merchant_id: str
    fault_share: float = FAULT_SHARE
    notification_fault_share: float = NOTIFICATION_FAULT_SHARE
    deadline: float = DRIVE_DEADLINE


def build_flow(settings: Settings, store, worker_id: str, *, read_timeout: float = READ_TIMEOUT,
               retry_cap: float = RETRY_CAP, lease_seconds: float = LEASE_SECONDS):
    """An engine with its own client (a requests session is not shared between threads)."""
    from invoicebox_flow.client import InvoiceboxClient
    from invoicebox_flow.engine import OrderFlow

    client = InvoiceboxClient(settings.token, base_url=settings.ib_url, timeout=(2.0, read_timeout),
                              max_read_retries=6, backoff_base=0.02, backoff_max=0.3, retry_after_max=1.5,
                              rate_limit=None)
    return OrderFlow(client, store, merchant_id=settings.merchant_id, notification_key=settings.notification_key,
                     success_url="http://shop.example/ok", fail_url="http://shop.example/fail",
                     retry_cap_seconds=retry_cap, lease_seconds=lease_seconds, worker_id=worker_id)


class Endpoint:
    """The shop's notification endpoint over HTTP on loopback, in a thread."""

    def __init__(self, flow) -> None:
        from werkzeug.serving import WSGIRequestHandler, make_server

        from invoicebox_flow.webhook import make_wsgi_app

        class Quiet(WSGIRequestHandler):  # thousands of deliveries: no access log line for each
            def log_request(self, *args, **kwargs) -> None:
                pass

        self.server = make_server("127.0.0.1", 0, make_wsgi_app(flow), threaded=True, request_handler=Quiet)
        self.url = f"http://127.0.0.1:{self.server.server_port}/invoicebox/notification"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class WorkerThread:
    """A worker in a thread; if the worker loop ever raises, that is recorded and it restarts."""

    def __init__(self, flow) -> None:
        from invoicebox_flow.worker import Worker

        self.worker = Worker(flow, batch=3)
        self.crashes: list[str] = []
        self.processed = 0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.worker.stopping.is_set():
            try:
                self.processed += self.worker.run(poll_interval=0.05)
            except Exception:  # noqa: BLE001 — reported to the test, which fails on it
                self.crashes.append(traceback.format_exc(limit=5))
                time.sleep(0.1)

    def stop(self) -> None:
        self.worker.stopping.set()
        self.thread.join(30)


class Driver:
    """Takes orders through their plans with the engine's public API, one step at a time,
    round after round, tolerating (and counting) every typed failure on the way."""

    def __init__(self, settings: Settings, flow, ib, urls: list[str], plans: list[OrderPlan], seed: int, *,
                 resume_after: float | None = 1.5) -> None:
        from invoicebox_flow.sandbox import Buyer

        self.settings = settings
        self.flow = flow
        self.ib = ib  # the sandbox's inspection client (faults are injected through it)
        self.urls = urls
        self.plans = {p.order_id: p for p in plans}
        self.rng = random.Random(seed)
        self.buyer = Buyer()
        self.memo: dict[str, dict] = defaultdict(dict)
        self.next_look: dict[str, float] = {}
        self.stats: Counter = Counter()
        self.unexpected: list[str] = []
        self.resume_after = resume_after  # None: leave every outbox item to the workers

    # faults ---------------------------------------------------------------------------------

    def maybe_fault(self, action: str) -> None:
        self.stats["calls"] += 1
        if self.rng.random() >= self.settings.fault_share:
            return
        write, lookup = ENDPOINTS[action]
        if action in ("refundable",) or (lookup and self.rng.random() < 0.2):
            endpoint, kinds = (lookup or write), READ_FAULTS
        else:
            endpoint, kinds = write, WRITE_FAULTS
        kind = self.rng.choice(kinds)
        self.ib.inject_fault(endpoint, kind, delay=SLOW_DELAY if kind.startswith("slow") else None)
        self.stats["faults"] += 1
        self.stats[f"fault:{endpoint}:{kind}"] += 1

    def maybe_notification_fault(self) -> None:
        if self.rng.random() < self.settings.notification_fault_share:
            kind = self.rng.choice(NOTIFICATION_FAULTS)
            self.ib.inject_notification_fault(kind, delay=0.3 if kind == "delay" else None)
            self.stats[f"notification-fault:{kind}"] += 1

    # the rounds -----------------------------------------------------------------------------

    def run(self) -> dict:
        from invoicebox_flow.errors import InvoiceboxFlowError, OrderNotFoundError

        pending = dict(self.plans)
        deadline = time.monotonic() + self.settings.deadline
        while pending and time.monotonic() < deadline:
            progressed = False
            for order_id, plan in list(pending.items()):
                if self.next_look.get(order_id, 0.0) > time.monotonic():
                    continue
                try:
                    try:
                        view = self.flow.get(order_id)
                    except OrderNotFoundError:
                        self.place(plan)
                        progressed = True
                        continue
                    if view.state is plan.final:
                        del pending[order_id]
                        continue
                    if self.step(plan, view):
                        progressed = True
                    else:
                        self.next_look[order_id] = time.monotonic() + WAIT_POLL
                except InvoiceboxFlowError as exc:
                    self.stats[f"error:{type(exc).__name__}"] += 1
                    progressed = True
                except Exception as exc:  # noqa: BLE001 — the test fails on these, with their text
                    self.stats[f"unexpected:{type(exc).__name__}"] += 1
                    self.unexpected.append(f"{order_id}: {traceback.format_exc(limit=6)}")
            if not progressed:
                time.sleep(0.05)
        unfinished = {}
        for order_id in pending:
            try:
                unfinished[order_id] = self.flow.get(order_id).state.value
            except InvoiceboxFlowError as exc:
                unfinished[order_id] = f"{type(exc).__name__}: {exc}"
        return {"stats": dict(self.stats), "unfinished": unfinished, "unexpected": self.unexpected[:20]}

    def place(self, plan: OrderPlan) -> None:
        self.maybe_fault("place")
        self.flow.place(plan.order_id, lines_of(plan.basket), customer_of(plan.customer),
                        description=f"Заказ {plan.order_id}", defer=plan.defer,
                        notification_url=self.urls[plan.notify_via])

    def step(self, plan: OrderPlan, view) -> bool:
        """One step towards the plan's final state; False when the order is waiting."""
        from invoicebox_flow.errors import InvalidRequestError

        flow, order_id, memo, state = self.flow, plan.order_id, self.memo[plan.order_id], view.state
        if memo.get("state") != state:
            memo["state"], memo["since"] = state, time.monotonic()
        if state in REQUESTED:  # a worker has it; help if it has been waiting a while
            if self.resume_after is not None and time.monotonic() - memo["since"] > self.resume_after:
                memo["since"] = time.monotonic()
                self.stats["resume"] += 1
                return bool(flow.resume(order_id))
            return False
        if state is State.ORDER_PLACED:  # after a refused create call: ask again
            self.maybe_fault("place")
            flow.request_invoice(order_id, defer=plan.defer)
        elif state is State.PAYMENT_LINK_ISSUED:
            if plan.plan == "cancel":
                self.maybe_fault("cancel")
                try:
                    flow.cancel(order_id)
                except InvalidRequestError:
                    # InvoiceBox refused the DELETE: an earlier one whose answer was lost went
                    # through. Catch up with what InvoiceBox knows, as the engine documents.
                    self.stats["sync"] += 1
                    flow.sync(order_id)
            else:
                flow.redirect_buyer(order_id)
        elif state in (State.BUYER_REDIRECTED, State.AWAITING_PAYMENT):
            if not memo.get("at_page"):
                if plan.plan == "decline":
                    self.buyer.decline(view.payment_url)
                else:
                    self.maybe_notification_fault()
                    self.buyer.pay(view.payment_url)
                memo["at_page"] = True
            elif memo.get("returned"):
                return False  # the notification is on its way
            flow.buyer_returned(order_id, success=plan.plan != "decline")
            memo["returned"] = True
        elif state is State.PAID:
            if plan.plan == "refund_unshipped":
                self.maybe_fault("refund")
                flow.refund(order_id, defer=plan.defer)
            else:
                self.maybe_fault("ship")
                flow.ship(order_id, defer=plan.defer)
        elif state is State.SHIPPED:
            if not memo.get("claimed"):
                flow.claim_refund(order_id, reason="не подошло")
                self.maybe_fault("refundable")
                flow.refundable_items(order_id)
                memo["claimed"] = True
            self.maybe_fault("refund")
            flow.refund(order_id, {BASKETS[plan.basket]: 1}, defer=plan.defer)
        elif state is State.PARTIALLY_REFUNDED:
            self.maybe_fault("refund")
            flow.refund(order_id, defer=plan.defer)
        else:
            raise AssertionError(f"{order_id} ({plan.plan}) reached {state.value}, which its plan never visits")
        return True


def quiet_logging() -> None:
    """Thousands of expected failures log a warning each; a process shows only errors."""
    logging.basicConfig(level=logging.ERROR, format="%(processName)s %(name)s: %(message)s")


def run_process(index: int, settings: Settings, plans: list[OrderPlan], inbox, reports, stop) -> None:
    """One process: worker and endpoint up, then drive its orders, keep serving until told."""
    from invoicebox_flow.sandbox import SandboxInspector
    from invoicebox_flow.store import Store

    quiet_logging()
    store = Store(settings.db_url)
    worker = WorkerThread(build_flow(settings, store, f"worker{index}-{os.getpid()}"))
    endpoint = Endpoint(build_flow(settings, store, f"webhook{index}-{os.getpid()}"))
    reports.put(("ready", index, endpoint.url))
    urls = inbox.get(timeout=120)
    inspector = SandboxInspector(settings.ib_url)
    driver = Driver(settings, build_flow(settings, store, f"driver{index}-{os.getpid()}"), inspector, urls, plans,
                    seed=index)
    try:
        report = driver.run()
    except Exception:  # noqa: BLE001
        report = {"stats": dict(driver.stats), "unfinished": {}, "unexpected": [traceback.format_exc()]}
    reports.put(("driven", index, report))
    stop.wait(300)
    worker.stop()
    endpoint.close()
    inspector.close()
    store.dispose()
    reports.put(("stopped", index, {"worker_crashes": worker.crashes, "worker_processed": worker.processed}))


# --- the whole run -------------------------------------------------------------------------


def release_held_notifications(ib: Sandbox, url: str) -> None:
    """A ``reorder`` fault holds a notification until the next one is sent; the monitoring test
    notification is a next one, so the last held payment is not held for ever."""
    ib.send_test_notification(url=url)


def next_report(results, procs, timeout: float):
    """The next message from the processes; fails at once, naming it, when one has died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return results.get(timeout=0.5)
        except queue.Empty:
            if any(p.exitcode not in (None, 0) for p in procs):
                raise AssertionError(
                    f"a process died before reporting: exit codes {[p.exitcode for p in procs]}") from None
    raise AssertionError(f"no report from the processes within {timeout} s")


def run_scale(db_url: str, processes: int, orders: int, *, seed: int) -> dict:
    """Start the processes, let them drive ``orders`` orders, and return what they reported."""
    import multiprocessing as mp

    from invoicebox_flow.store import Store

    prefix = f"SC{seed}"
    shares = make_plans(orders, processes, seed, prefix)
    expected = {p.order_id: p for share in shares for p in share}
    Store(db_url).schema_version()  # the schema exists before the processes race to use it
    with Sandbox(rate_limit=1_000_000, notification_retry_delays=NOTIFICATION_RETRIES) as ib:
        settings = Settings(db_url=db_url, ib_url=ib.url, token=ib.token, notification_key=ib.notification_key,
                            merchant_id=ib.merchant_id)
        ctx = mp.get_context("spawn")
        results, stop = ctx.Queue(), ctx.Event()
        inboxes = [ctx.Queue() for _ in range(processes)]
        procs = [ctx.Process(target=run_process, args=(i, settings, shares[i], inboxes[i], results, stop), daemon=True)
                 for i in range(processes)]
        for p in procs:
            p.start()
        reports: dict[str, dict[int, object]] = defaultdict(dict)
        try:
            urls = [""] * processes
            for _ in range(processes):
                _, index, url = next_report(results, procs, timeout=120)
                urls[index] = url
            for inbox in inboxes:
                inbox.put(urls)
            started = time.monotonic()
            while len(reports["driven"]) < processes:
                try:
                    kind, index, report = results.get(timeout=0.5)
                    reports[kind][index] = report
                except queue.Empty:
                    release_held_notifications(ib, urls[0])
                if not all(p.is_alive() for p in procs) and len(reports["driven"]) < processes:
                    raise AssertionError(f"a process died: exit codes {[p.exitcode for p in procs]}")
            driven = time.monotonic() - started
            release_held_notifications(ib, urls[0])
            ib.wait_idle(timeout=30)
            stop.set()
            while len(reports["stopped"]) < processes:
                kind, index, report = next_report(results, procs, timeout=60)
                reports[kind][index] = report
        finally:
            stop.set()
            for p in procs:
                p.join(30)
                if p.is_alive():
                    p.kill()
        sandbox_view = SandboxSnapshot.take(ib)
    store = Store(db_url)
    checking = time.monotonic()
    try:
        problems = consistency_problems(store, sandbox_view, {oid: p.final for oid, p in expected.items()},
                                        variants={oid: p.variant for oid, p in expected.items()})
    finally:
        store.dispose()
    timings = {"drive": round(driven, 1), "check": round(time.monotonic() - checking, 1)}
    print(f"{orders} orders, {processes} processes: {timings}")
    return {"reports": reports, "problems": problems, "sandbox": sandbox_view, "expected": expected,
            "timings": timings}


# --- consistency: the store against itself and against InvoiceBox --------------------------


@attrs.frozen
class SandboxSnapshot:
    """Everything InvoiceBox holds at the end, grouped by InvoiceBox order id."""

    orders: list[dict]
    shipments: dict[str, list[dict]]
    refunds: dict[str, list[dict]]
    receipts: dict[str, list[dict]]
    documents: dict[str, list[dict]]
    notifications: list[dict]
    requests: list[dict]

    @classmethod
    def take(cls, ib) -> SandboxSnapshot:
        def by(items: Iterable[dict], key: str) -> dict[str, list[dict]]:
            grouped: dict[str, list[dict]] = defaultdict(list)
            for item in items:
                grouped[str(item[key])].append(item)
            return grouped

        return cls(orders=ib.orders(), shipments=by(ib.shipments(), "orderId"), refunds=by(ib.refunds(), "parentId"),
                   receipts=by(ib.receipts(), "orderId"), documents=by(ib.documents(), "orderId"),
                   notifications=ib.notifications(), requests=ib.requests())


def _document_kinds(lines: Iterable, refund: bool) -> list[str]:
    """The documents InvoiceBox issues for an organisation: the transfer report, plus an act
    for services and/or a TORG-12 for goods (reference §5.8)."""
    types = {line.type for line in lines}
    kinds = ["transfer_report"] + (["act"] if types - {"commodity"} else []) + (["torg12"] if "commodity" in types else [])
    return [("refund_" if refund else "") + k for k in kinds]


def journal_problems(record, journal) -> list[str]:
    """The journal is append-only and complete: its transitions (everything but failed attempts,
    which change nothing) form one chain of allowed steps from ``new`` to the stored state, one
    per version."""
    from invoicebox_flow.engine import BUILT_IN_CONDITIONS, Condition, next_state
    from invoicebox_flow.errors import IllegalTransitionError
    from invoicebox_flow.flows import DOCUMENTED_FLOW

    # the journal says what happened; whether a guard held then is not what is checked here
    held = {name: Condition(lambda view: True, "") for name in BUILT_IN_CONDITIONS}
    lifecycle = DOCUMENTED_FLOW.lifecycle(record.variant)

    problems = []
    seqs = [e.seq for e in journal]
    if seqs != sorted(seqs) or len(set(seqs)) != len(seqs):
        problems.append("journal sequence numbers are not increasing")
    moves = [e for e in journal if not (e.outcome == "failed" and e.from_state == e.to_state)]
    if not moves or moves[0].trigger != "place" or moves[0].from_state != State.NEW.value:
        return [*problems, "the journal does not start with place from new"]
    for before, entry in itertools.pairwise(moves):
        if entry.from_state != before.to_state:
            problems.append(f"journal gap: {before.trigger}→{before.to_state}, then {entry.trigger} from {entry.from_state}")
    for entry in moves[1:]:
        try:
            reached = next_state(lifecycle, entry.from_state, entry.trigger, target=entry.to_state, conditions=held,
                                 view=lambda: None)
        except IllegalTransitionError as exc:
            problems.append(f"journal holds a transition the lifecycle does not allow: {exc}")
            continue
        if reached != entry.to_state:
            problems.append(f"journal: {entry.trigger} from {entry.from_state} leads to {reached}, not {entry.to_state}")
    if moves[-1].to_state != record.state:
        problems.append(f"journal ends in {moves[-1].to_state}, the order is {record.state}")
    if len(moves) != record.version:
        problems.append(f"{len(moves)} transitions journaled for version {record.version}")
    return problems


def consistency_problems(store, ib: SandboxSnapshot, expected: Mapping[str, State], *,
                         variants: Mapping[str, Variant]) -> list[str]:
    """Every way the store and InvoiceBox could disagree, or the store with itself; empty when
    all is well. Each problem names its order."""
    from invoicebox_flow.engine import OrderView

    problems: list[str] = []
    per_merchant_order = Counter(o["merchantOrderId"] for o in ib.orders)
    for order_id, final in sorted(expected.items()):
        record = store.get(order_id)
        view = OrderView.of(record)
        def say(text: str, order_id: str = order_id) -> None:
            problems.append(f"{order_id}: {text}")

        if view.state is not final:
            say(f"ended {view.state.value}, expected {final.value}")
        if view.variant is not variants[order_id]:
            say(f"variant {view.variant.value}, expected {variants[order_id].value}")
        problems.extend(f"{order_id}: {p}" for p in journal_problems(record, store.journal(order_id)))
        confirmations = [e for e in store.journal(order_id) if e.trigger == "confirm_payment"]

        # InvoiceBox: one order per merchantOrderId, in the matching status
        if per_merchant_order[order_id] != 1:
            say(f"{per_merchant_order[order_id]} InvoiceBox orders carry this merchantOrderId")
        remote = next((o for o in ib.orders if o["id"] == view.invoicebox_id), None)
        if remote is None:
            say(f"InvoiceBox has no order {view.invoicebox_id}")
            continue
        paid = view.state in PAID_STATES
        wanted_status = "completed" if paid else {State.CANCELED: "canceled"}.get(view.state, "created")
        if remote["status"] != wanted_status:
            say(f"InvoiceBox says {remote['status']}, the store {view.state.value}")
        if paid != (len(confirmations) == 1) or (paid and confirmations[0].actor != "invoicebox-notification"):
            say(f"payment confirmed {len(confirmations)} times ({[e.actor for e in confirmations]})")
        if paid and view.paid_amount != view.amount:
            say(f"paid {view.paid_amount} of {view.amount}")

        # shipments: one per shipped order, the one the store recorded
        shipments = ib.shipments.get(view.invoicebox_id, [])
        stored_shipments = [str(s["id"]) for s in record.data.get("shipments", [])]
        if sorted(str(s["id"]) for s in shipments) != sorted(stored_shipments) or len(shipments) != int(view.shipped):
            say(f"InvoiceBox shipments {[s['id'] for s in shipments]}, store {stored_shipments}, shipped={view.shipped}")

        # refunds: never above the payment; exactly those the store recorded
        refunds = ib.refunds.get(view.invoicebox_id, [])
        refunded = sum((Decimal(str(r["amount"])) for r in refunds), Decimal("0.00"))
        if refunded > view.paid_amount or view.refunded_amount > view.paid_amount:
            say(f"refunded {refunded} (store {view.refunded_amount}) of {view.paid_amount} paid")
        if refunded != view.refunded_amount:
            say(f"InvoiceBox refunded {refunded}, the store says {view.refunded_amount}")
        if sorted(r["id"] for r in refunds) != sorted(r.id for r in view.refunds):
            say(f"InvoiceBox refunds {sorted(r['merchantOrderId'] for r in refunds)}, "
                f"store {sorted(r.merchant_order_id for r in view.refunds)}")

        # receipts (private) and documents (legal): exactly once per event, as the store recorded
        receipts = sorted((r["type"], str(r.get("shipmentId") or r.get("refundId") or "")) for r in
                          ib.receipts.get(view.invoicebox_id, []))
        documents = sorted((d["kind"], str(d.get("shipmentId") or d.get("refundId") or "")) for d in
                           ib.documents.get(view.invoicebox_id, []))
        if view.variant is Variant.PRIVATE:
            want = ([("prepayment_full", "")] if paid else []) + [("full_settlement", s) for s in stored_shipments]
            want += [("refund", r.id) for r in view.refunds]
            want_documents: list = []
        else:
            want = []
            want_documents = [(k, s) for s in stored_shipments for k in _document_kinds(view.lines, refund=False)]
            want_documents += [(k, r.id) for r in view.refunds
                               for k in _document_kinds([ln for ln in view.lines if ln.sku in
                                                         {part.sku for part in r.lines}], refund=True)]
        if receipts != sorted(want):
            say(f"receipts at InvoiceBox {receipts}, expected {sorted(want)}")
        if documents != sorted(want_documents):
            say(f"documents at InvoiceBox {documents}, expected {sorted(want_documents)}")
        stored_facts = sorted(f.type for f in view.facts)
        if stored_facts != sorted([k for k, _ in receipts] + [k for k, _ in documents]):
            say(f"the store's receipts and documents {stored_facts} differ from InvoiceBox's")

    for status in ("pending", "claimed", "dead"):
        left = store.outbox(status=status)
        if left:
            problems.append(f"{len(left)} outbox items {status}: {[(i.order_id, i.action) for i in left[:10]]}")
    return problems


def summarise(run: dict) -> str:
    stats: Counter = Counter()
    for report in run["reports"]["driven"].values():
        stats.update(report["stats"])
    return ", ".join(f"{k}={v}" for k, v in sorted(stats.items())) + f"; seconds {run['timings']}"


def check_run(run: dict, orders: int) -> None:
    print(summarise(run))
    reports = run["reports"]
    unexpected = [u for r in reports["driven"].values() for u in r["unexpected"]]
    unfinished = {k: v for r in reports["driven"].values() for k, v in r["unfinished"].items()}
    crashes = [c for r in reports["stopped"].values() for c in r["worker_crashes"]]
    assert not unexpected, "\n".join(unexpected[:5])
    assert not crashes, "\n".join(crashes[:5])
    assert not unfinished, f"{len(unfinished)} orders unfinished: {dict(list(unfinished.items())[:20])}"
    assert not run["problems"], f"{len(run['problems'])} problems:\n" + "\n".join(run["problems"][:30])

    # the run really was hostile: faults were injected and met, notifications doubled
    stats: Counter = Counter()
    for report in reports["driven"].values():
        stats.update(report["stats"])
    assert stats["faults"] >= 0.05 * stats["calls"], summarise(run)
    api = [r for r in run["sandbox"].requests if r["path"].startswith(("/v3/", "/l3/"))]
    failed = [r for r in api if r["status"] is None or r["status"] >= 429]
    assert len(failed) >= stats["faults"] // 3, f"{len(failed)} failed requests of {len(api)}; {summarise(run)}"
    deliveries = Counter(n["notificationId"] for n in run["sandbox"].notifications if n["kind"] == "payment")
    assert any(count > 1 for count in deliveries.values()), f"no notification was delivered twice; {summarise(run)}"
    assert len(run["expected"]) == orders
    plans = Counter(p.plan for p in run["expected"].values())
    assert set(plans) == set(PLANS), plans
    assert {p.variant for p in run["expected"].values()} == set(Variant)


@pytest.mark.timeout(900)
def test_processes_drive_orders_on_one_sqlite_file(tmp_path):
    run = run_scale(sqlite_url(tmp_path), SQLITE_PROCESSES, SQLITE_ORDERS, seed=11)
    check_run(run, SQLITE_ORDERS)


@pytest.mark.slow  # about 2.5 minutes on 2 cores
@pytest.mark.postgres
@pytest.mark.timeout(900)
def test_processes_drive_a_thousand_orders_on_postgresql():
    with postgres_schema() as url:
        run = run_scale(url, PG_PROCESSES, PG_ORDERS, seed=7)
    check_run(run, PG_ORDERS)
