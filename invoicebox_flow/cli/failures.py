"""How a command fails: one line, ``error: <what happened>``, on stderr.

:class:`CliError` is raised by the commands themselves; :func:`explain` turns the expected
failures of libraries and of the environment (a missing extra, an unreachable database or API,
a refused request) into the same one line. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys
from typing import IO, Any

import click

from ..errors import InvoiceboxFlowError
from ..extras import extra_missing_for


class CliError(click.ClickException):
    """A failure shown as ``error: <message>``, exit status 1."""

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"error: {self.format_message()}", file=file or sys.stderr)


class BadValue(CliError):
    """An option's value is well formed but not allowed (an unknown state, a path without "/"):
    exit status 2, as for click's usage errors, but one line naming what is allowed."""

    exit_code = 2


def one_line(exc: BaseException) -> str:
    """The first line of the message (SQLAlchemy appends SQL and links on further lines)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def explain(exc: Exception) -> str | None:
    """The one-line message of an expected failure, or None for a bug (which keeps its traceback)."""
    if isinstance(exc, ImportError):
        missing = extra_missing_for(exc)
        return None if missing is None else str(missing)
    if isinstance(exc, (InvoiceboxFlowError, OSError, ValueError, LookupError)):
        return one_line(exc)
    # sqlalchemy is imported only by commands that use a store
    sqlalchemy_exc = sys.modules.get("sqlalchemy.exc")
    if sqlalchemy_exc is not None and isinstance(exc, sqlalchemy_exc.SQLAlchemyError):
        return one_line(exc)
    return None
