"""``invoicebox-flow worker``: performs the InvoiceBox calls that orders recorded in the outbox.

Transitions that need InvoiceBox record their call in the same transaction as the state change
(``OrderFlow.place/ship/refund(..., defer=True)``, or any call whose outcome was unknown). Any
number of workers, on any hosts, claim due items with a lease (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, the database write lock on SQLite), make the call, and record the outcome with the
state change in one transaction. Delivery is at least once; a retried call first looks the object
up at InvoiceBox, so each effect happens once. A worker killed mid-call loses its lease; another
worker takes the item over after ``lease_seconds``.
"""

from __future__ import annotations

import logging
import signal
import threading
import time

from .engine import OrderFlow

log = logging.getLogger("invoicebox_flow.worker")


class Worker:
    def __init__(self, flow: OrderFlow, *, batch: int = 10):
        self.flow = flow
        self.batch = batch
        self.stopping = threading.Event()

    def run_once(self) -> int:
        """Claim and process what is due now; returns how many items were claimed."""
        return len(self.flow.resume(limit=self.batch, report_claimed=True))

    def run(self, *, once: bool = False, poll_interval: float = 1.0, idle_exit_after: float | None = None) -> int:
        """Loop until SIGTERM/SIGINT (or, with ``once``, until nothing is due)."""
        self._install_signal_handlers()
        processed, idle_since = 0, time.monotonic()
        while not self.stopping.is_set():
            try:
                claimed = self.run_once()
            except Exception:  # noqa: BLE001 — a database restart must not end the worker
                log.exception("outbox poll failed; retrying in %.1f s", poll_interval)
                self.stopping.wait(poll_interval)
                continue
            processed += claimed
            if claimed:
                idle_since = time.monotonic()
                continue
            if once or (idle_exit_after is not None and time.monotonic() - idle_since >= idle_exit_after):
                break
            self.stopping.wait(poll_interval)
        return processed

    def _install_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stopping.set())
