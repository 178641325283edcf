"""The reconciliation sweep: every order of a window, compared with InvoiceBox in batches, its safe
differences healed, resumable from its cursor in the store.

For each batch, in this order: read the shop's orders and their open outbox items, read
InvoiceBox's side (:mod:`.remote`: a few list calls for the whole batch), compare
(:mod:`.compare`), keep the findings, heal the safe ones (:mod:`.heal`), and only then move the
cursor past the batch. A sweep killed at any point resumes at the batch it had not finished:
what it had found is found once (findings are kept per order and kind), and what it had healed
agrees now, so it is not healed again.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Sequence
from types import TracebackType
from typing import Any

import attrs

from ..engine.arguments import count
from ..engine.core import Core
from ..engine.views import Snapshot
from ..errors import ValidationError
from ..store import FindingRecord, OrderRecord, OutboxItem, SweepLog, SweepRecord, utcnow
from .compare import Difference, compare, remote_needs_lists
from .heal import ACTOR, Healer
from .kinds import Outcome
from .remote import RemoteReader
from .report import Finding, SweepReport

log = logging.getLogger("invoicebox_flow.reconcile")

DEFAULT_DAYS = 7  # the default window: the orders still open, and those of the last week
DEFAULT_BATCH = 100


@attrs.define
class Sweeper:
    core: Core
    healer: Healer

    def run(self, *, since: dt.datetime | None = None, until: dt.datetime | None = None, heal: bool = False,
            batch: int = DEFAULT_BATCH) -> SweepReport:
        """Sweep the orders created in ``[since, until)`` (either bound may be left open; ``until``
        is then the sweep's start) — with neither, every order not in a final state plus those
        of the last :data:`DEFAULT_DAYS` days — resuming an unfinished sweep of the same window."""
        since, until = _aware(since, "since"), _aware(until, "until")
        count("batch", batch)
        if since is not None and until is not None and since >= until:
            raise ValidationError("since must be before until", code="validation")
        now = utcnow()
        scope = f"since={since.isoformat() if since else '-'};until={until.isoformat() if until else '-'}"
        sweeps = SweepLog(self.core.store)
        default = since is None and until is None
        sweep, resumed = sweeps.open(scope, since=now - dt.timedelta(days=DEFAULT_DAYS) if default else since,
                                     until=until or now, include_open=default)
        if resumed:
            log.info("resuming sweep %d after %d order(s)", sweep.id, sweep.orders)
        reader = RemoteReader(self.core.client, page_size=batch)
        final = frozenset().union(*(lc.final_states for lc in self.core.definition.lifecycles))
        with _CallCounter(self.core.client, reader) as counter:
            while records := sweeps.next_orders(sweep, final_states=final, limit=batch):
                spent = counter.calls()
                found = self._batch(sweeps, sweep, records, reader, heal=heal)
                cursor = (records[-1].created_at, records[-1].id)
                sweeps.advance(sweep.id, cursor, orders=len(records), api_calls=counter.calls() - spent)
                sweep = attrs.evolve(sweep, cursor=cursor)
                log.info("sweep %d: %d order(s) compared, %d difference(s)", sweep.id, len(records), found)
        sweeps.finish(sweep.id)
        done = sweeps.get(sweep.id)
        return SweepReport(sweep_id=done.id, resumed=resumed, since=done.since, until=done.until,
                           include_open=done.include_open, heal=heal, orders=done.orders, api_calls=done.api_calls,
                           findings=tuple(Finding.of(f) for f in sweeps.findings(done.id)))

    def _batch(self, sweeps: SweepLog, sweep: SweepRecord, records: Sequence[OrderRecord], reader: RemoteReader, *,
               heal: bool) -> int:
        snaps = {r.id: Snapshot.of(r) for r in records}
        items: dict[str, list[OutboxItem]] = defaultdict(list)
        for item in sweeps.open_outbox(snaps):
            items[item.order_id].append(item)
        remote = reader.read(records, with_lists=lambda r, order: remote_needs_lists(
            snaps[r.id], self.core.lifecycle(snaps[r.id]), order))
        now = utcnow()
        differences = {order_id: compare(snap, self.core.lifecycle(snap), remote.get(order_id), items[order_id], now)
                       for order_id, snap in snaps.items()}
        before = {(f.order_id, f.kind): f for f in sweeps.findings(sweep.id, order_ids=snaps)}
        sweeps.add_findings(sweep.id, [(d.order_id, d.kind.value, Outcome.FOUND.value, d.detail)
                                       for diffs in differences.values() for d in diffs
                                       if (d.order_id, d.kind.value) not in before])
        self._settle_earlier(sweeps, sweep, before, differences)
        if heal:
            for order_id, diffs in differences.items():
                todo = [d for d in diffs if (earlier := before.get((order_id, d.kind.value))) is None
                        or earlier.outcome != Outcome.HEALED.value]
                for kind, healed in self.healer.heal(snaps[order_id], todo).items():
                    detail = {**next(d.detail for d in todo if d.kind is kind), "note": healed.note}
                    sweeps.set_outcome(sweep.id, order_id, kind.value, healed.outcome.value,
                                       {k: v for k, v in detail.items() if v is not None})
        return sum(len(diffs) for diffs in differences.values())

    def _settle_earlier(self, sweeps: SweepLog, sweep: SweepRecord, before: dict[tuple[str, str], FindingRecord],
                        differences: dict[str, list[Difference]]) -> None:
        """Findings kept before a restart whose order agrees now: healed by this sweep before it
        stopped (its journal says so), or by someone else meanwhile."""
        for (order_id, kind), finding in before.items():
            if finding.outcome != Outcome.FOUND.value or any(d.kind == kind for d in differences[order_id]):
                continue
            ours = any(e.actor == ACTOR and e.at >= finding.at for e in self.core.store.journal(order_id))
            sweeps.set_outcome(sweep.id, order_id, kind, (Outcome.HEALED if ours else Outcome.SKIPPED).value)


class _CallCounter:
    """Counts the HTTP requests the flow's client sends while the sweep runs (healing and retries
    included), by a hook on its ``requests`` session; the sweep's own reads if it has none."""

    def __init__(self, client: Any, reader: RemoteReader) -> None:
        self._session = getattr(client, "session", None)
        self._reader = reader
        self._sent = 0

    def _count(self, response: Any, *args: Any, **kwargs: Any) -> Any:
        self._sent += 1
        return response

    def calls(self) -> int:
        return self._sent if self._session is not None else self._reader.calls

    def __enter__(self) -> _CallCounter:
        if self._session is not None:
            self._session.hooks.setdefault("response", []).append(self._count)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._session is not None:
            self._session.hooks["response"].remove(self._count)


def _aware(value: dt.datetime | None, name: str) -> dt.datetime | None:
    if value is None:
        return None
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise ValidationError(f"{name} must be a timezone-aware datetime", code="validation")
    return value.astimezone(dt.UTC)


__all__ = ["DEFAULT_BATCH", "DEFAULT_DAYS", "Sweeper"]
