"""Calls to InvoiceBox through the outbox: claim before calling, record the outcome after.

A transition that needs InvoiceBox first moves the order to its ``*_requested`` state *and*
records the call in the outbox, in one compare-and-set transaction (:meth:`Calls.start`); only
the winner of that transaction calls. The outcome is a second transition: accepted → the next
state; refused → back to where the call started (the attempt stays in the journal); unknown →
the intent stays pending, to be retried after a backoff by :meth:`Calls.resume` or a worker,
which first looks the object up at InvoiceBox so that the effect happens once.

Besides API calls the outbox carries *follow-ups*: local work recorded in the same transaction
as the change that needs it (the automatic shipment of a paid order of online services), run
right after the commit and, should that fail or the process die, by a worker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

import attrs

from ..errors import (
    ApiError,
    AuthenticationError,
    InvalidRequestError,
    InvoiceboxFlowError,
    NotFoundError,
    RateLimitError,
    ResultUnknownError,
    TransportError,
    ValidationError,
)
from ..store import OutboxDraft, OutboxItem
from .calls import STRATEGIES, strategy
from .core import Change, Core, OutboxWork, describe, now, outbox_key
from .views import OrderView, Snapshot

log = logging.getLogger("invoicebox_flow.engine")

#: ``(snapshot, claimed item) -> view``: what a follow-up does when its time comes.
FollowUp = Callable[[Snapshot, OutboxItem], OrderView]

# InvoiceBox (or our own validation) refused: definitive, nothing happened.
_REFUSED = (InvalidRequestError, AuthenticationError, NotFoundError, ValidationError)


@attrs.define
class Calls:
    core: Core
    follow_ups: dict[str, FollowUp] = attrs.field(factory=dict)

    @property
    def worker_id(self) -> str:
        return self.core.settings.worker_id

    def start(self, snap: Snapshot, name: str, payload: Mapping[str, Any], *, defer: bool,
              completes: OutboxItem | None = None) -> OrderView:
        """Claim the order for the call ``name``, then make it now (or leave it to a worker).

        ``completes``: the follow-up this request carries out, marked done in the same commit."""
        request = self.core.lifecycle(snap).call(name).request
        draft = OutboxDraft(action=name, payload=dict(payload), key=outbox_key(name, snap.id))
        work = OutboxWork(add=(draft,), claim_as=None if defer else self.worker_id,
                          complete=completes.id if completes else None,
                          result={"request": request.trigger} if completes else None)
        updated = self.core.commit(snap, Change(request.trigger, self.core.actor,
                                                doc=attrs.evolve(snap.doc, resume_state=snap.state), outbox=work))
        if defer:
            return self.core.view(updated)
        view = self.run_claimed(snap.id, draft.key)
        assert view is not None
        return view

    def run(self, item: OutboxItem, *, reconciled_by: str | None = None) -> OrderView:
        """Make (or reconcile) the work of a claimed outbox item and commit its outcome.

        A retried call first looks its object up, so that the effect happens once; so does any
        call with ``reconciled_by`` (the actor that saw its effect at InvoiceBox), which then
        journals the effect it found as its own."""
        snap = self.core.load(item.order_id)
        follow_up = self.follow_ups.get(item.action)
        if follow_up is not None:
            return follow_up(snap, item)
        call = strategy(item)
        triggers = self.core.lifecycle(snap).call(item.action)
        try:
            result = call.lookup(self.core.client, snap, item.payload) if item.attempts > 1 or reconciled_by else None
            found_by = reconciled_by if result is not None else None
            if result is None:
                result = call.perform(self.core.client, item.payload)
        except _REFUSED as exc:
            if triggers.refused is not None:
                self.give_up(snap, item.action, "invoicebox", request_id=getattr(exc, "request_id", None),
                             detail={"error": describe(exc)}, item_id=item.id)
            raise
        except (ResultUnknownError, TransportError, ApiError) as exc:
            self._keep_pending(snap, item, triggers.request.trigger, exc)
            if isinstance(exc, (ResultUnknownError, RateLimitError)):
                raise
            # the call may or may not have happened: the one documented answer for that
            raise ResultUnknownError(
                f"order {snap.id}: {item.action} outcome unknown ({describe(exc)}); it stays pending and will be "
                "reconciled by resume() or a worker", merchant_order_id=snap.record.merchant_order_id,
                cause=exc) from exc
        return self.accept(snap, item.action, item.payload, result, actor=found_by or "invoicebox", item_id=item.id)

    def accept(self, snap: Snapshot, action: str, payload: Mapping[str, Any], result: Any, *,
               actor: str = "invoicebox", item_id: int | None = None) -> OrderView:
        """Commit the accepted outcome of the call ``action`` made with ``payload``: InvoiceBox's
        answer, or the object a lookup found; completes the outbox item ``item_id`` with it."""
        accepted = STRATEGIES[action].accepted(snap, payload, result)
        work = OutboxWork(complete=item_id, result=accepted.result) if item_id is not None else OutboxWork()
        return self.core.view(self.core.commit(snap, Change(
            self.core.lifecycle(snap).call(action).accepted.trigger, actor, doc=accepted.doc, target=accepted.target,
            invoicebox_id=accepted.invoicebox_id, request_id=accepted.request_id, outbox=work)))

    def give_up(self, snap: Snapshot, action: str, actor: str, *, detail: Mapping[str, Any],
                request_id: str | None = None, item_id: int | None = None) -> Snapshot:
        """Commit that the call ``action`` did not happen: back to the state it was requested
        from (the attempt stays in the journal); completes the outbox item ``item_id``."""
        refused = self.core.lifecycle(snap).call(action).refused
        if refused is None:
            raise ValueError(f"order {snap.id}: the call {action} has no refusal to go back by")
        work = OutboxWork(complete=item_id, result=dict(detail)) if item_id is not None else OutboxWork()
        return self.core.commit(snap, Change(
            refused.trigger, actor, doc=attrs.evolve(snap.doc, resume_state=None), target=snap.doc.resume_state,
            request_id=request_id, outcome="failed", detail=detail, outbox=work))

    def _keep_pending(self, snap: Snapshot, item: OutboxItem, trigger: str, exc: BaseException) -> None:
        delay = min(self.core.settings.retry_cap_seconds, 2 ** min(item.attempts, 10))
        self.core.store.release_outbox(item.id, worker=self.worker_id, error=describe(exc),
                                       retry_at=now() + timedelta(seconds=delay))
        self.core.record_attempt(snap, trigger, exc, pending=True)

    def follow_up(self, name: str, order_id: str) -> OutboxDraft:
        """A follow-up intent to commit with the change that needs it."""
        if name not in self.follow_ups:
            raise ValueError(f"no follow-up {name!r}; known: {', '.join(self.follow_ups)}")
        return OutboxDraft(action=name, payload={}, key=outbox_key(name, order_id))

    def run_claimed(self, order_id: str, key: str, *, inline: bool = False) -> OrderView | None:
        """Run the work committed as ``key`` and claimed by this worker.

        ``inline``: it follows a change that is committed already (a follow-up), so a failure is
        logged and left to a worker once the lease runs out, instead of raised."""
        item = next(i for i in self.core.store.outbox(order_id=order_id, status="claimed") if i.key == key)
        if not inline:
            return self.run(item)
        try:
            return self.run(item)
        except InvoiceboxFlowError as exc:
            log.warning("follow-up %s of order %s failed; a worker will retry it: %s", item.action, order_id, exc)
            return None

    def resume(self, order_id: str | None = None, *, limit: int = 50, due_now: bool = False,
               report_claimed: bool = False, reconciled_by: str | None = None) -> list[OrderView | None]:
        """Perform (or reconcile) the outbox work that is due: recorded with ``defer=True``,
        left by a crash (expired lease), or whose retry time has come (``due_now=True``: retry
        now; ``reconciled_by``: see :meth:`run`). Returns the updated orders (with
        ``report_claimed``, one entry per claimed item, None for an item that failed again)."""
        results: list[OrderView | None] = []
        for item in self.core.store.claim_outbox(self.worker_id, limit=limit, lease_seconds=self.core.lease_seconds,
                                                 order_id=order_id, due_only=not due_now):
            if item.claimed_until is not None and item.claimed_until <= now():
                # the batch outlived this item's lease: another worker may hold it now, and it
                # will look the object up first. Performing it here could create it twice.
                continue
            try:  # one failing item must not stop the others; it stays pending, journaled
                results.append(self.run(item, reconciled_by=reconciled_by))
            except InvoiceboxFlowError as exc:
                log.warning("outbox item %s for %s: %s", item.id, item.order_id, exc)
                if report_claimed:
                    results.append(None)
        return results


__all__ = ["STRATEGIES", "Calls", "FollowUp"]
