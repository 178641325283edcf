"""The engine's core: what every part of it shares, and the one place that changes an order.

Every state change goes through :meth:`Core.commit` with a :class:`Change`: the machine decides
the new state (refusing with a typed error), and the store writes it with compare-and-set in
one transaction together with its journal entry, its lifecycle event (:mod:`.events`), its
outbox work and the processed notification it applies — all of them or none. Handlers the
shop runs inline are handed the event right after the commit (:mod:`.delivery`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

import attrs

from ..errors import ConcurrentUpdateError, OrderNotFoundError
from ..flows import FlowDefinition, Lifecycle
from ..store import EventDraft, JournalEntry, OrderRecord, OutboxDraft, Store
from . import events
from .arguments import storable_text
from .delivery import Deliveries
from .document import OrderDocument
from .handlers import Handlers
from .machine import Condition, conditions_for, next_state
from .views import OrderView, Snapshot

T = TypeVar("T")


def now() -> datetime:
    return datetime.now(UTC)


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


@attrs.frozen
class OutboxWork:
    """What a change does to the outbox, in the same transaction."""

    add: tuple[OutboxDraft, ...] = ()
    claim_as: str | None = None  # claim what is added for this worker (the call is made now)
    complete: int | None = None  # the item whose outcome this change records
    result: Mapping[str, Any] | None = None


@attrs.frozen
class Change:
    """One transition to commit: the trigger, who caused it, and what comes with it."""

    trigger: str
    actor: str
    doc: OrderDocument | None = None  # the new document (None: unchanged)
    target: str | None = None  # the destination chosen for a run-time choice
    invoicebox_id: str | None = None
    request_id: str | None = None
    outcome: str = "ok"
    detail: Mapping[str, Any] = attrs.field(factory=dict)
    notification_key: str | None = None
    outbox: OutboxWork = OutboxWork()


class Settings(Protocol):
    """The shop's settings the engine reads at each use (an :class:`OrderFlow` is one), so a
    setting changed on the flow takes effect at once."""

    client: Any
    store: Store
    actor: str
    lease_seconds: float
    conflict_retries: int
    retry_cap_seconds: float
    worker_id: str
    can_fulfil: Callable[[Any], bool] | None
    handlers: Handlers
    inline_handlers: bool


@attrs.define
class Core:
    """The engine's shared parts: the shop's settings, the definition and its guards."""

    settings: Settings
    definition: FlowDefinition
    shop_conditions: Mapping[str, Callable[[Any], bool]] = attrs.field(factory=dict)
    conditions: dict[str, Condition] = attrs.field(init=False)
    deliveries: Deliveries = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.conditions = conditions_for(self.definition.lifecycles,
                                         {**self.definition.conditions, **self.shop_conditions})
        self.deliveries = Deliveries(self.settings, self.definition)

    @property
    def client(self) -> Any:
        return self.settings.client

    @property
    def store(self) -> Store:
        return self.settings.store

    @property
    def actor(self) -> str:
        return self.settings.actor

    @property
    def lease_seconds(self) -> float:
        return self.settings.lease_seconds

    # --- reading -----------------------------------------------------------------------------

    def load(self, order_id: str) -> Snapshot:
        if not storable_text(order_id):  # no store holds such an id: never ask the database
            raise OrderNotFoundError(f"no order {order_id!r} in the store")
        return Snapshot.of(self.store.get(order_id))

    def lifecycle(self, snap: Snapshot) -> Lifecycle:
        return self.definition.lifecycle(snap.variant)

    def view(self, snap: Snapshot) -> OrderView:
        return OrderView.build(snap, self.lifecycle(snap))

    # --- changing ----------------------------------------------------------------------------

    def check(self, snap: Snapshot, trigger: str, target: str | None = None) -> str:
        """The state ``trigger`` leads to from the order's state, or IllegalTransitionError."""
        return next_state(self.lifecycle(snap), snap.state, trigger, order_id=snap.id, target=target,
                          conditions=self.conditions, view=lambda: self.view(snap))

    def commit(self, snap: Snapshot, change: Change) -> Snapshot:
        """Fire ``change.trigger`` with compare-and-set; journal it and append its event in the
        same transaction."""
        new_state = self.check(snap, change.trigger, change.target)
        extra: dict[str, Any] = {}
        if change.invoicebox_id is not None:
            extra["invoicebox_id"] = change.invoicebox_id
        event = self.event(snap.record, change.trigger, new_state, change.actor,
                           invoicebox_id=change.invoicebox_id or snap.invoicebox_id)
        claim = self.deliveries.before_commit(event)
        record = self.store.update(  # an unchanged document is written back as it was read
            snap.id, snap.record.version, state=new_state,
            data=change.doc.to_json() if change.doc is not None else snap.record.data,
            journal=self.entry(snap, change.trigger, new_state, actor=change.actor, outcome=change.outcome,
                               request_id=change.request_id, detail=change.detail),
            outbox=change.outbox.add, complete_outbox=change.outbox.complete,
            outbox_result=dict(change.outbox.result) if change.outbox.result is not None else None,
            notification_key=change.notification_key, claim_outbox_as=change.outbox.claim_as,
            data_as_stored=snap.record.data_json if change.doc is None else None,
            lease_seconds=self.lease_seconds, events=(event,), deliveries=claim, **extra,
        )
        self.deliveries.after_commit(event, claim)
        return Snapshot(record, change.doc)  # an unchanged document is parsed, if at all, from the record

    def annotate(self, snap: Snapshot, doc: OrderDocument, note: str, detail: Mapping[str, Any]) -> Snapshot:
        """Store bookkeeping that is not a transition (the ids of issued receipts): the state
        stays, the change is journaled under ``note`` with an ``OrderAnnotated`` event,
        compare-and-set as always."""
        event = self.event(snap.record, note, snap.state, self.actor, invoicebox_id=snap.invoicebox_id,
                           annotation=True)
        claim = self.deliveries.before_commit(event)
        record = self.store.update(snap.id, snap.record.version, state=snap.state, data=doc.to_json(),
                                   journal=self.entry(snap, note, snap.state, detail=detail), events=(event,),
                                   deliveries=claim)
        self.deliveries.after_commit(event, claim)
        return Snapshot(record, doc)

    def event(self, before: OrderRecord, trigger: str, to_state: str, actor: str, *, invoicebox_id: str | None,
              annotation: bool = False) -> EventDraft:
        """The event a change of the order ``before`` appends (its class from the catalogue of
        :mod:`.events`)."""
        cls = events.event_class(self.definition.lifecycle(before.variant), trigger, before.state,
                                 annotation=annotation)
        return events.draft(cls, before, trigger=trigger, to_state=to_state, actor=actor,
                            invoicebox_id=invoicebox_id)

    def record_attempt(self, snap: Snapshot, trigger: str, exc: BaseException, *, pending: bool = False) -> None:
        """Journal a failed call or refused action; the order does not change."""
        detail: dict[str, Any] = {"error": describe(exc)}
        if pending:
            detail["pending"] = True
        self.store.record_attempt(self.entry(snap, trigger, snap.state, actor=self.actor, outcome="failed",
                                             request_id=getattr(exc, "request_id", None), detail=detail))

    def entry(self, snap: Snapshot, trigger: str, to_state: str, *, actor: str | None = None, outcome: str = "ok",
              request_id: str | None = None, detail: Mapping[str, Any] | None = None) -> JournalEntry:
        return JournalEntry(order_id=snap.id, trigger=trigger, from_state=snap.state, to_state=to_state,
                            actor=actor or self.actor, outcome=outcome, request_id=request_id,
                            detail={k: v for k, v in (detail or {}).items() if v is not None})

    def retrying(self, order_id: str, attempt: Callable[[Snapshot], T]) -> T:
        """Run ``attempt`` on fresh data until it does not lose a compare-and-set race."""
        snap = self.load(order_id)
        for _ in range(self.settings.conflict_retries):
            try:
                return attempt(snap)
            except ConcurrentUpdateError:
                snap = self.load(order_id)
        raise ConcurrentUpdateError(order_id, snap.record.version)

    def add_order(self, record: OrderRecord, journal: JournalEntry, outbox: tuple[OutboxDraft, ...] = ()) -> Snapshot:
        """Store a new order with its journal entry, outbox work and ``OrderPlaced`` event."""
        event = self.event(attrs.evolve(record, state=journal.from_state), journal.trigger, record.state,
                           journal.actor, invoicebox_id=record.invoicebox_id)
        claim = self.deliveries.before_commit(event)
        stored = Snapshot.of(self.store.add_order(record, journal, list(outbox), events=(event,), deliveries=claim))
        self.deliveries.after_commit(event, claim)
        return stored


def outbox_key(action: str, order_id: str) -> str:
    """A fresh, unique outbox key naming the intent."""
    return f"{action}:{order_id}:{uuid.uuid4().hex}"
