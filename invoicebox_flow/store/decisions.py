"""Fulfilment decisions: the shop's ``can_fulfil`` answer for one payment notification, asked
by one process only, and kept.

Copies of one notification can race in at once. The process whose insert of the notification's
key wins (:meth:`FulfilmentDecisions.claim_decision`) asks the shop; the others see the claim
and wait for its answer. The answer is stored (:meth:`~FulfilmentDecisions.record_decision`)
before the payment is committed, so a retry after a lost compare-and-set or a crash reuses it
instead of asking again. A claim whose process died before answering runs out after its lease
and the next copy asks. A part of :class:`~.store.Store`.
"""

from __future__ import annotations

import datetime as dt

import attrs
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .parts import StorePart
from .records import utcnow
from .schema import fulfilment_decisions as decisions_table


@attrs.frozen
class DecisionClaim:
    """What a claim found: ``won`` (ask the shop now), or the ``fulfil`` answer given already;
    neither means another process holds the claim and has not answered yet."""

    won: bool
    fulfil: bool | None = None


class FulfilmentDecisions(StorePart):
    """The decision methods of the store."""

    def claim_decision(self, key: str, order_id: str, claimant: str, *, lease_seconds: float) -> DecisionClaim:
        """Claim the decision on notification ``key`` for ``claimant`` (one call's own token)."""
        now = utcnow()
        until = now + dt.timedelta(seconds=lease_seconds)
        c = decisions_table.c
        insert = (pg_insert if self._is_postgres else sqlite_insert)(decisions_table)
        with self._write() as conn:
            inserted = conn.execute(insert.values(key=key, order_id=order_id, claimed_by=claimant, claimed_until=until)
                                    .on_conflict_do_nothing(index_elements=["key"]).returning(c.key)).first()
            if inserted is not None:  # (an insert's rowcount is not reliable on every driver)
                return DecisionClaim(won=True)
            row = conn.execute(select(c.fulfil, c.claimed_until).where(c.key == key)).one()
            if row.fulfil is not None:
                return DecisionClaim(won=False, fulfil=bool(row.fulfil))
            taken = conn.execute(update(decisions_table).where(
                c.key == key, c.fulfil.is_(None), c.claimed_until <= now).values(claimed_by=claimant, claimed_until=until))
            return DecisionClaim(won=taken.rowcount == 1)

    def record_decision(self, key: str, claimant: str, fulfil: bool) -> bool:
        """Store the answer ``claimant`` got; False when its claim was taken over meanwhile."""
        c = decisions_table.c
        with self._write() as conn:
            recorded = conn.execute(update(decisions_table).where(
                c.key == key, c.claimed_by == claimant, c.fulfil.is_(None)).values(fulfil=fulfil, decided_at=utcnow()))
            return recorded.rowcount == 1

    def release_decision(self, key: str, claimant: str) -> None:
        """Give up an unanswered claim (the shop's check raised): the next copy asks at once."""
        c = decisions_table.c
        with self._write() as conn:
            conn.execute(update(decisions_table).where(c.key == key, c.claimed_by == claimant, c.fulfil.is_(None))
                         .values(claimed_until=utcnow()))

    def decision(self, key: str) -> bool | None:
        """The answer stored for notification ``key`` (None: not answered yet, or never asked)."""
        with self._read() as conn:
            value = conn.scalar(select(decisions_table.c.fulfil).where(decisions_table.c.key == key))
        return None if value is None else bool(value)
