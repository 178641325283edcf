"""A worker that shows the backlog it found at start as a progress bar (on a terminal)."""

from __future__ import annotations

import sys
from contextlib import ExitStack
from typing import Any

import click

from ..engine import OrderView
from ..worker import Worker


class BacklogBarWorker(Worker):
    """Items of the start-up backlog advance a bar on stderr instead of logging a line each; once
    the backlog is worked off (or nothing more is due), every item is logged again."""

    def run(self, **options: Any) -> int:
        self._backlog = self.pending() or 0
        with ExitStack() as self._bar_stack:
            self._bar: Any = None
            return super().run(**options)

    def on_item(self, view: OrderView | None) -> None:
        if self._backlog <= 0:
            super().on_item(view)
            return
        if self._bar is None:
            self._bar = self._bar_stack.enter_context(
                click.progressbar(length=self._backlog, label="catching up", file=sys.stderr, show_pos=True))
        self._bar.update(1)
        self._backlog -= 1
        if self._backlog == 0:
            self._bar_stack.close()

    def on_idle(self) -> None:
        self._backlog = 0
        self._bar_stack.close()
