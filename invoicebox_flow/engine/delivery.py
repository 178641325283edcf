"""Handing committed events to the shop's handlers: at least once per (event, handler), never
again once the handler's success is recorded.

Deliveries are rows of the store (:mod:`invoicebox_flow.store.deliveries`), one per (event,
handler). A worker fans the feed out into them from each handler's position, claims the due ones
of one handler with a lease, calls the handler and records the outcome:

* it returned → ``done``; that delivery is never handed out again;
* it raised → pending again after a backoff (``Handlers.retry_delay``), or ``dead`` after
  ``Handlers.max_attempts`` tries — listed and revived with ``invoicebox-flow events list|retry``;
* the worker died → the lease runs out and another worker claims it.

**What is guaranteed.** No event is lost: it is written with its state change, and a
delivery is only ever ``done`` after its handler returned. A handler may be called *again*
for an event it handled when the process dies between the handler's return and the record of
its success (or the record itself fails): pass ``event.id`` to whatever the handler changes
(an idempotency key, a unique column) so the second call changes nothing. A handler subscribed
``transactional=True`` runs inside the very transaction that records its success and writes
through the connection it is given: for changes to the store's own database that is
exactly once.

With ``OrderFlow(inline_handlers=True)`` the committing process queues the deliveries already
claimed, in the commit's transaction, and runs them right after the commit; one that fails (or
a process that dies) leaves them to a worker, as above.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

import attrs

from ..flows import FlowDefinition
from ..store import CLAIMED, Delivery, DeliveryClaim, DeliveryLeaseLostError, EventDraft, Store, StoredEvent
from .events import OrderEvent, event_of
from .handlers import Handlers, Subscription

log = logging.getLogger("invoicebox_flow.events")

FAN_OUT_BATCH = 500  # events read per fan-out transaction


class DeliverySettings(Protocol):
    """What deliveries read from the shop's settings at each use (an :class:`OrderFlow` is one)."""

    store: Store
    worker_id: str
    handlers: Handlers
    inline_handlers: bool


@attrs.define
class DeliveryTally:
    """Deliveries one pass handled: done, to be retried, dead, and taken over by another worker."""

    done: int = 0
    retried: int = 0
    dead: int = 0
    lost: int = 0

    @property
    def claimed(self) -> int:
        return self.done + self.retried + self.dead + self.lost

    def add(self, other: DeliveryTally) -> None:
        self.done, self.retried = self.done + other.done, self.retried + other.retried
        self.dead, self.lost = self.dead + other.dead, self.lost + other.lost

    def __str__(self) -> str:
        return f"{self.done} delivered, {self.retried} to retry, {self.dead} dead"


@attrs.define
class Deliveries:
    """Runs the handlers of ``settings.handlers`` on the events of ``settings.store``."""

    settings: DeliverySettings
    definition: FlowDefinition
    _registered: set[str] = attrs.field(factory=set, init=False)

    @property
    def store(self) -> Store:
        return self.settings.store

    def register(self) -> None:
        """Give every handler not registered yet its place in the feed (once per process)."""
        new = {s.name: s.replay for s in self.settings.handlers if s.name not in self._registered}
        if new:
            self.store.register_handlers(new)
            self._registered.update(new)

    # --- with a commit (Core) ----------------------------------------------------------------

    def before_commit(self, draft: EventDraft) -> DeliveryClaim | None:
        """The deliveries to claim in the commit that appends ``draft``: the handlers that take
        it, when this flow runs them inline."""
        self.register()
        if not self.settings.inline_handlers:
            return None
        handlers = self.settings.handlers
        names = tuple(s.name for s in handlers if s.accepts(draft.type, draft.trigger))
        return DeliveryClaim(names, self.settings.worker_id, handlers.lease_seconds) if names else None

    def after_commit(self, draft: EventDraft, claim: DeliveryClaim | None) -> None:
        """Run the deliveries the commit claimed. Nothing here may fail the change, which is
        committed: a failing handler, or a store that fails now, leaves them to a worker."""
        if claim is None:
            return
        try:
            items = [item for item in self.store.deliveries(event_id=draft.id, status=CLAIMED)
                     if item.claimed_by == claim.worker and item.handler in claim.handlers]
            event = self._load(draft.id, None)
        except Exception:
            log.exception("event %s: could not start its inline handlers; a worker will run them", draft.id)
            return
        for item in items:
            self.deliver(item, event)

    # --- by a worker -------------------------------------------------------------------------

    def run_once(self, name: str, *, limit: int = 10) -> DeliveryTally:
        """Queue the new events handler ``name`` takes, then claim and run up to ``limit`` of
        its due deliveries."""
        subscription = self._subscription(name)
        self.register()
        while self.store.fan_out(name, subscription.accepts, limit=FAN_OUT_BATCH) == FAN_OUT_BATCH:
            pass  # a long backlog: keep reading
        tally = DeliveryTally()
        claimed = self.store.claim_deliveries(self.settings.worker_id, name, limit=limit,
                                              lease_seconds=self.settings.handlers.lease_seconds)
        stored = self.store.events_by_id([item.event_id for item in claimed])
        for item in claimed:
            if item.claimed_until is not None and item.claimed_until <= _now():
                continue  # the batch outlived this lease: another worker may hold it by now
            outcome = self.deliver(item, stored=stored.get(item.event_id))
            setattr(tally, outcome, getattr(tally, outcome) + 1)
        return tally

    def deliver(self, item: Delivery, event: OrderEvent | None = None, *, stored: StoredEvent | None = None) -> str:
        """Call the handler of one claimed delivery (its event given, or read now) and record the
        outcome: ``done``, ``retried``, ``dead`` or ``lost`` (the claim was taken over meanwhile)."""
        subscription = self._subscription(item.handler)
        worker = self.settings.worker_id
        try:
            event = event or self._load(item.event_id, stored)
            if subscription.transactional:
                self.store.complete_delivery(item.id, worker=worker,
                                             within=_with_connection(subscription, event))
            else:
                subscription.handler(event)
                self.store.complete_delivery(item.id, worker=worker)
        except DeliveryLeaseLostError:
            log.warning("event %s to %s: another worker took the delivery over", item.event_id, item.handler)
            return "lost"
        except Exception as exc:  # noqa: BLE001 — a handler may raise anything; it is retried, never lost
            return self._failed(item, exc)
        log.info("event %s (%s, order %s) delivered to %s", item.event_id, item.event_type, item.order_id,
                 item.handler)
        return "done"

    def _failed(self, item: Delivery, exc: Exception) -> str:
        handlers = self.settings.handlers
        dead = item.attempts >= handlers.max_attempts
        delay = handlers.retry_delay(item.attempts)
        error = f"{type(exc).__name__}: {exc}"
        try:
            self.store.release_delivery(item.id, worker=self.settings.worker_id, error=error,
                                        retry_at=_now() + timedelta(seconds=delay), dead=dead)
        except DeliveryLeaseLostError:
            return "lost"
        except Exception:  # the store is failing too: the lease runs out, it is retried then
            log.exception("event %s to %s: could not record the failure", item.event_id, item.handler)
            return "retried"
        if dead:
            log.error("event %s (%s, order %s) to %s: dead after %d attempts: %s", item.event_id, item.event_type,
                      item.order_id, item.handler, item.attempts, error)
            return "dead"
        log.warning("event %s (%s, order %s) to %s failed (attempt %d of %d), retry in %g s: %s", item.event_id,
                    item.event_type, item.order_id, item.handler, item.attempts, handlers.max_attempts, delay, error)
        return "retried"

    def _subscription(self, name: str) -> Subscription:
        subscription = self.settings.handlers.get(name)
        if subscription is None:
            raise KeyError(f"no handler {name!r}; subscribed: {', '.join(self.settings.handlers.names) or 'none'}")
        return subscription

    def _load(self, event_id: str, stored: StoredEvent | None) -> OrderEvent:
        stored = stored or self.store.event(event_id)
        if stored is None:
            raise LookupError(f"no event {event_id} in the store")
        return event_of(stored, self.definition)


def _with_connection(subscription: Subscription, event: OrderEvent) -> Callable[[object], object]:
    return lambda connection: subscription.handler(event, connection)


def _now() -> datetime:
    return datetime.now(UTC)
