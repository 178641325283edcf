"""What the demo prints at the end: a compact verdict that fits 80 columns, or every detail.

Compact (the default): one line per documented sequence and one per order, ``ok`` or ``FAIL``;
a failing order lists the checks it failed under its line. With ``details``: a table of every
order's amounts and counts (sized to the terminal) and every check in full.
"""

from __future__ import annotations

from ..terminal import table
from .verdict import Check, Outcome

OK, FAIL = "ok  ", "FAIL"


def mark(ok: bool) -> str:
    return OK if ok else FAIL


def verdict_lines(sequence_checks: list[Check], outcomes: list[Outcome], *, details: bool) -> list[str]:
    if details:
        checks = sequence_checks + [check for o in outcomes for check in o.checks()]
        return [*summary_table(outcomes), "", *(f"{mark(c.ok)} {c.text}" for c in checks)]
    lines = [f"{mark(c.ok)} {c.brief}" for c in sequence_checks]
    width = max(len(o.order.order_id) for o in outcomes) if outcomes else 0
    for o in outcomes:
        checks = o.checks()
        lines.append(f"{mark(all(c.ok for c in checks))} {o.order.order_id:<{width}}  {o.summary()}")
        lines += [f"       {c.text}" for c in checks if not c.ok]
    return lines


def summary_table(outcomes: list[Outcome]) -> list[str]:
    """Amounts and counts per order (the checks below it list the receipts and documents)."""
    header = ("order", "state", "amount", "refunded", "receipts", "documents", "notified")
    rows = [(o.order.order_id, o.view.state, str(o.view.amount), str(o.view.refunded_amount),
             str(len(o.receipts)), str(len(o.documents)), str(o.notifications)) for o in outcomes]
    return table(header, rows, right={2, 3, 4, 5, 6})
