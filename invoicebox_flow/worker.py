"""``invoicebox-flow worker``: performs the InvoiceBox calls that orders recorded in the outbox,
and hands the lifecycle events to the shop's handlers.

Transitions that need InvoiceBox record their call in the same transaction as the state change
(``OrderFlow.place/ship/refund(..., defer=True)``, or any call whose outcome was unknown). Any
number of workers, on any hosts, claim due items with a lease (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, the database write lock on SQLite), make the call, and record the outcome with the
state change in one transaction. Delivery is at least once; a retried call first looks the object
up at InvoiceBox, so each effect happens once. A worker killed mid-call loses its lease; another
worker takes the item over after ``lease_seconds``.

The shop's event handlers (``flow.handlers``, see :mod:`invoicebox_flow.engine.delivery`) each
get a lane of their own: a thread that fans the feed out into that handler's deliveries, claims
the due ones and calls the handler. A slow or failing handler therefore holds up neither the
outbox nor any other handler. The worker must know the handlers by the same names as the
processes that commit the events: build it from the shop's own ``OrderFlow``, or start
``invoicebox-flow worker --handlers MODULE:ATTR``.

The worker logs (logger ``invoicebox_flow.worker``) its start with the backlog it found, one
INFO line per item — the order, the transition the call's outcome fired and the outcome —, a
summary every ``summary_every`` seconds while it works and one when it stops. A failed call is
logged by the engine (WARNING, with the reason) and stays in the outbox for a later retry;
deliveries are logged by ``invoicebox_flow.events`` (a line each, a warning per failure, an
error when one is parked dead).

With ``reconcile_every`` it also sweeps the books every that many seconds (the first sweep at
start), healing the safe drift (:meth:`OrderFlow.reconcile`); each difference that needs a person
is a WARNING line.
"""

from __future__ import annotations

import logging
import signal
import threading
import time

import attrs

from .engine import DeliveryTally, OrderFlow, OrderView
from .store import PENDING

log = logging.getLogger("invoicebox_flow.worker")


@attrs.define
class Tally:
    """Items a worker claimed: done (the outcome is stored) and failed (left for a retry)."""

    done: int = 0
    failed: int = 0

    @property
    def claimed(self) -> int:
        return self.done + self.failed

    def __str__(self) -> str:
        return f"{self.done} done, {self.failed} failed"


class Worker:
    """Claims due outbox items of ``flow`` in batches of ``batch`` and performs their calls; runs
    the deliveries of each of ``flow.handlers`` in batches of ``batch`` too."""

    def __init__(self, flow: OrderFlow, *, batch: int = 10, summary_every: float = 60.0,
                 reconcile_every: float | None = None) -> None:
        self.flow = flow
        self.reconcile_every = reconcile_every
        self._next_sweep = time.monotonic()
        self.batch = batch
        self.summary_every = summary_every
        self.stopping = threading.Event()
        self.total = Tally()
        self.delivered = DeliveryTally()
        self._period = Tally()
        self._period_started = time.monotonic()
        self._delivery_lock = threading.Lock()
        self._delivered_at = 0.0  # when a lane last had work (monotonic)

    def pending(self) -> int | None:
        """Items waiting in the outbox now (due or not, for any worker); None if the store could
        not say (the loop retries the store; this count is only information)."""
        try:
            return len(self.flow.store.outbox(status=PENDING))
        except Exception:
            log.warning("could not count the pending outbox items", exc_info=log.isEnabledFor(logging.DEBUG))
            return None

    def run_once(self) -> int:
        """Claim and process what is due now — outbox items, then each handler's deliveries;
        returns how many were claimed."""
        return self._outbox_once() + self.deliver_once()

    def deliver_once(self, handler: str | None = None) -> int:
        """Run one batch of due deliveries for ``handler`` (every handler when None); returns
        how many were claimed."""
        names = [handler] if handler is not None else list(self.flow.handlers.names)
        claimed = 0
        for name in names:
            tally = self.flow.deliveries.run_once(name, limit=self.batch)
            with self._delivery_lock:
                self.delivered.add(tally)
                if tally.claimed:
                    self._delivered_at = time.monotonic()
            claimed += tally.claimed
        return claimed

    def _outbox_once(self) -> int:
        results = self.flow.resume(limit=self.batch, report_claimed=True)
        for view in results:
            for tally in (self.total, self._period):
                if view is None:
                    tally.failed += 1
                else:
                    tally.done += 1
            self.on_item(view)
        return len(results)

    def on_item(self, view: OrderView | None) -> None:
        """One claimed item is finished: ``view`` is its order after the outcome was stored, or
        None when the call failed (the engine logged why; the item waits for a retry)."""
        if not log.isEnabledFor(logging.INFO):
            return  # the journal read below is only for this line
        if view is None:
            log.info("call failed; it stays in the outbox and will be retried")
            return
        entries = self.flow.store.journal(view.order_id)
        last = entries[-1] if entries else None
        if last is None:
            log.info("%s: now %s", view.order_id, view.state)
            return
        request = f", X-Request-Id {last.request_id}" if last.request_id else ""
        log.info("%s: %s, %s -> %s (%s%s)", view.order_id, last.trigger, last.from_state, last.to_state,
                 last.outcome, request)

    def on_idle(self) -> None:
        """A poll found nothing due (the backlog, if any, is worked off)."""

    def run(self, *, once: bool = False, poll_interval: float = 1.0, idle_exit_after: float | None = None) -> int:
        """Loop until SIGTERM/SIGINT (or, with ``once``, until nothing is due); returns the items
        and deliveries claimed. Each handler's deliveries run in a lane (thread) of their own,
        except with ``once``, where everything runs in turn in this thread."""
        self._install_signal_handlers()
        if log.isEnabledFor(logging.INFO):
            pending = self.pending()
            handlers = f"; handlers: {', '.join(self.flow.handlers.names)}" if len(self.flow.handlers) else ""
            log.info("worker %s started on %s: %s item(s) pending, batches of %d, polling every %g s%s",
                     self.flow.worker_id, self.flow.store.url, "?" if pending is None else pending, self.batch,
                     poll_interval, handlers)
        claimed_before = self.total.claimed + self.delivered.claimed
        finished = threading.Event()  # this run's end (``stopping`` is the request to end it)
        lanes = [] if once else [self._start_lane(name, poll_interval, finished) for name in self.flow.handlers.names]
        idle_since = time.monotonic()
        while not self.stopping.is_set():
            try:
                claimed = self.run_once() if once else self._outbox_once()
            except Exception:
                log.exception("outbox poll failed; retrying in %.1f s", poll_interval)
                self.stopping.wait(poll_interval)
                continue
            self._maybe_summarise()
            self._maybe_reconcile()
            if claimed:
                idle_since = time.monotonic()
                continue
            self.on_idle()
            idle_since = max(idle_since, self._delivered_at)
            if once or (idle_exit_after is not None and time.monotonic() - idle_since >= idle_exit_after):
                break
            self.stopping.wait(poll_interval)
        finished.set()  # the lanes finish the delivery in hand and stop
        for lane in lanes:
            lane.join()
        log.info("worker %s stopped: %s%s", self.flow.worker_id, self.total, self._events_summary())
        return self.total.claimed + self.delivered.claimed - claimed_before

    def _start_lane(self, handler: str, poll_interval: float, finished: threading.Event) -> threading.Thread:
        def lane() -> None:
            while not (finished.is_set() or self.stopping.is_set()):
                try:
                    claimed = self.deliver_once(handler)
                except Exception:
                    log.exception("deliveries to %s failed; retrying in %.1f s", handler, poll_interval)
                    claimed = 0
                if not claimed:
                    finished.wait(poll_interval)

        thread = threading.Thread(target=lane, name=f"deliveries:{handler}", daemon=True)
        thread.start()
        return thread

    def _maybe_summarise(self) -> None:
        now = time.monotonic()
        if now - self._period_started < self.summary_every:
            return
        if self._period.claimed:
            log.info("last %.0f s: %s; since start: %s%s", now - self._period_started, self._period, self.total,
                     self._events_summary())
        self._period, self._period_started = Tally(), now

    def _maybe_reconcile(self) -> None:
        if self.reconcile_every is None or time.monotonic() < self._next_sweep:
            return
        self._next_sweep = time.monotonic() + self.reconcile_every
        try:
            report = self.flow.reconcile(heal=True)
        except Exception:
            log.exception("reconciliation sweep failed; the next in %g s", self.reconcile_every)
            return
        log.info("reconciliation sweep %d: %d order(s), %d difference(s), %d healed", report.sweep_id,
                 report.orders, len(report.findings), len(report.healed))
        for finding in report.needs_human:
            log.warning("order %s needs a person: %s (%s)", finding.order_id, finding.kind, finding.kind.meaning)

    def _events_summary(self) -> str:
        return f"; events: {self.delivered}" if len(self.flow.handlers) else ""

    def _install_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stopping.set())
