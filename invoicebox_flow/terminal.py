"""What the command line shows a person: tables that fit the terminal, progress only a terminal sees.

* :func:`table` — a header, a rule and rows, in columns sized to the terminal's width
  (``shutil.get_terminal_size``: ``$COLUMNS``, else the terminal, else 80): optional columns
  are left out first, then free-text columns give way, their long cells ending with ``…``.
* :func:`progress` — a progress bar on stderr when stderr is a terminal, one plain line per
  finished item on stdout otherwise (a log file or CI keeps a readable record, not a bar).
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from typing import TypeVar

import click

ELLIPSIS = "…"
GAP = "  "
MIN_CELL = 3  # a column never narrower than this (or its header), however narrow the terminal

T = TypeVar("T")


def terminal_width() -> int:
    return shutil.get_terminal_size().columns


def truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, the last one an ellipsis when anything was cut."""
    if len(text) <= limit:
        return text
    return text[:limit - 1] + ELLIPSIS if limit > 0 else ""


def table(header: Sequence[str], rows: Iterable[Sequence[str]], *, right: Collection[int] = (),
          shrink: Collection[int] = (), optional: Collection[int] = (), width: int | None = None) -> list[str]:
    """The lines of a table: ``header``, a rule, then ``rows`` (columns in ``right`` aligned right).

    Columns are as wide as their widest cell while the table fits in ``width`` (default: the
    terminal's). When it does not, the ``optional`` columns are left out, last first; then the
    widest of the ``shrink`` columns (free text, never an id or an amount) loses a character at a
    time, down to its header's width, its long cells ending in ``…``. What still does not fit
    wraps: a value is never cut where cutting it would change what it says.
    """
    cells = [[" ".join(str(cell).split()) for cell in row] for row in rows]
    columns = list(range(len(header)))
    widths = {i: max(len(row[i]) for row in [list(header), *cells]) for i in columns}
    limit = width if width is not None else terminal_width()

    def too_wide() -> bool:
        return sum(widths[i] for i in columns) + len(GAP) * (len(columns) - 1) > limit

    for i in sorted(optional, reverse=True):
        if too_wide():
            columns.remove(i)
    floors = {i: min(widths[i], max(len(header[i]), MIN_CELL)) for i in shrink}
    while too_wide():
        shrinkable = [i for i in shrink if i in columns and widths[i] > floors[i]]
        if not shrinkable:
            break
        widths[max(shrinkable, key=lambda i: widths[i])] -= 1

    def line(row: Sequence[str]) -> str:
        padded = [truncate(row[i], widths[i]).rjust(widths[i]) if i in right else
                  truncate(row[i], widths[i]).ljust(widths[i]) for i in columns]
        return GAP.join(padded).rstrip()

    return [line(list(header)), GAP.join("-" * widths[i] for i in columns), *(line(row) for row in cells)]


def stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


def progress(items: Sequence[T], *, label: str, describe: Callable[[T], str],
             finished: Callable[[T], str]) -> Iterator[T]:
    """Yield ``items`` one by one while showing how far the work is.

    On a terminal: a bar on stderr with ``label`` and ``describe(item)`` of the item being worked
    on. Otherwise: ``finished(item)`` on stdout as each item is done (flushed at once, so a
    pipe or a log sees it then, not at the end).
    """
    if stderr_is_terminal():
        with click.progressbar(items, label=label, file=sys.stderr, show_pos=True,
                               item_show_func=lambda item: None if item is None else describe(item)) as bar:
            yield from bar
        return
    for item in items:
        yield item
        click.echo(finished(item))
