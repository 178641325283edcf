"""What a sweep returns: every difference it found, what became of each, and what it cost."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from ..store import FindingRecord
from .kinds import Drift, Outcome

# Exit statuses for cron and monitoring.
AGREE, HEALED, NEEDS_HUMAN = 0, 1, 2


@attrs.frozen
class Finding:
    """One difference in one order, of a :class:`Drift` kind, and its :class:`Outcome`."""

    order_id: str
    kind: Drift
    outcome: Outcome
    detail: Mapping[str, Any]
    note: str | None = None

    @property
    def needs_human(self) -> bool:
        """Unsafe kinds always; a safe one whose healing failed too (it is still there)."""
        return not self.kind.safe or self.outcome is Outcome.FAILED

    @classmethod
    def of(cls, record: FindingRecord) -> Finding:
        detail = dict(record.detail)
        note = detail.pop("note", None)
        return cls(record.order_id, Drift(record.kind), Outcome(record.outcome), detail, note)


@attrs.frozen
class SweepReport:
    """A finished sweep (its parts before a restart included): the window, the orders compared,
    the API calls it made, every difference found."""

    sweep_id: int
    resumed: bool
    since: dt.datetime | None
    until: dt.datetime
    include_open: bool
    heal: bool
    orders: int
    api_calls: int
    findings: tuple[Finding, ...]

    @property
    def agrees(self) -> bool:
        return not self.findings

    @property
    def counts(self) -> dict[Drift, int]:
        """How many differences of each kind, in the order of :class:`Drift`."""
        seen = Counter(f.kind for f in self.findings)
        return {kind: seen[kind] for kind in Drift if seen[kind]}

    @property
    def healed(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.outcome is Outcome.HEALED)

    @property
    def needs_human(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.needs_human)

    @property
    def calls_per_order(self) -> Decimal:
        """API calls per order compared (healing included), to three places."""
        if not self.orders:
            return Decimal("0.000")
        return (Decimal(self.api_calls) / Decimal(self.orders)).quantize(Decimal("0.001"))

    @property
    def exit_code(self) -> int:
        """0: the books agree; 1: every difference is safe (healed, or healed by ``--heal``);
        2: some difference needs a person."""
        if self.agrees:
            return AGREE
        return NEEDS_HUMAN if self.needs_human else HEALED


__all__ = ["AGREE", "HEALED", "NEEDS_HUMAN", "Finding", "SweepReport"]
