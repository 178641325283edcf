"""One background thread that runs what InvoiceBox does after answering: receipts, documents,
money returns and notification deliveries, including retries due later.

A single thread keeps the documented order of effects (receipt registered, receipt delivered,
then the notification) without further coordination. Tasks run in order of their due time,
then of submission. :meth:`BackgroundWorker.wait_idle` lets tests wait for all of it.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class BackgroundWorker:
    def __init__(self, name: str = "invoicebox-sandbox-worker") -> None:
        self._queue: list[tuple[float, int, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._generation = 0
        self._running = False
        self._stopped = False
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, task: Callable[[], None], delay: float = 0.0) -> None:
        """Run ``task`` on the worker thread after ``delay`` seconds (real time)."""
        with self._cond:
            if self._stopped:
                return
            heapq.heappush(self._queue, (time.monotonic() + max(delay, 0.0), next(self._order),
                                         self._generation, task))
            self._cond.notify_all()

    @property
    def generation(self) -> int:
        """Changes on :meth:`clear`; a task that outlives a reset can tell it is stale."""
        with self._cond:
            return self._generation

    def clear(self) -> None:
        """Forget every queued task (a task already running finishes)."""
        with self._cond:
            self._queue.clear()
            self._generation += 1
            self._cond.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Block until nothing runs and nothing queued falls due within ``timeout`` seconds.

        Tasks due later than that (a long real-life retry schedule) do not count. Returns False
        when work was still going on when the timeout passed.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                busy = self._running or (self._queue and self._queue[0][0] <= deadline)
                if not busy:
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))

    def stop(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._stopped = True
            self._queue.clear()
            self._cond.notify_all()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and (not self._queue or self._queue[0][0] > time.monotonic()):
                    wait = self._queue[0][0] - time.monotonic() if self._queue else None
                    self._cond.wait(wait)
                if self._stopped:
                    return
                _, _, generation, task = heapq.heappop(self._queue)
                if generation != self._generation:
                    continue
                self._running = True
            try:
                task()
            except Exception:  # a failing task must not stop the worker; show why it failed
                log.exception("sandbox background task failed")
            finally:
                with self._cond:
                    self._running = False
                    self._cond.notify_all()
