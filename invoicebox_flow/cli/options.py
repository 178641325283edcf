"""Options several commands share, each defined once: ``--db``, ``--json``, ``--state``,
``--definition``, ``--handlers``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click
from click.shell_completion import CompletionItem

from .failures import BadValue
from .settings import DB_ENV, DEFAULT_DB, DEFINITION_ENV, HANDLERS_ENV
from .states import known_states

F = TypeVar("F", bound=Callable[..., Any])


def db_option(command: F) -> F:
    """``--db URL``, from ``$INVOICEBOX_FLOW_DB`` when not given."""
    return click.option(
        "--db", envvar=DB_ENV, show_envvar=True, default=DEFAULT_DB, show_default=True, metavar="URL",
        help="The store: sqlite:///FILE or postgresql+psycopg://USER:PASSWORD@HOST/DB.",
    )(command)


def json_option(command: F) -> F:
    """``--json``: machine-readable output (amounts as strings, times in ISO 8601 UTC)."""
    return click.option("--json", "as_json", is_flag=True,
                        help="Print JSON instead of a table (amounts are strings: exact decimals).")(command)


def _definition(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    from .settings import load_definition

    return load_definition(value)


def definition_option(command: F) -> F:
    """``--definition MODULE:ATTR``: the shop's own flow definition (eager: ``--state`` needs it)."""
    return click.option(
        "--definition", envvar=DEFINITION_ENV, show_envvar=True, default=None, metavar="MODULE:ATTR",
        is_eager=True, callback=_definition,
        help="The shop's flow definition (a FlowDefinition, or a function returning one); default: the documented flow.",
    )(command)


def _handlers(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    from .settings import load_handlers

    return load_handlers(value)


def handlers_option(command: F) -> F:
    """``--handlers MODULE:ATTR``: the shop's event handlers, by the names its code gives them."""
    return click.option(
        "--handlers", envvar=HANDLERS_ENV, show_envvar=True, default=None, metavar="MODULE:ATTR", callback=_handlers,
        help="The shop's event handlers (a Handlers registry, the shop's OrderFlow, or a function returning one).",
    )(command)


def _known_state(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """An order state; an unknown one is a one-line error listing the known ones (exit status 2)."""
    states = known_states(ctx.params.get("definition"))
    if value is not None and value not in states:
        raise BadValue(f"unknown state {value!r}; known states: {', '.join(states)}")
    return value


def _complete_state(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    return [CompletionItem(state) for state in known_states(ctx.params.get("definition")) if state.startswith(incomplete)]


def state_option(command: F) -> F:
    return click.option("--state", default=None, metavar="STATE", callback=_known_state,
                        shell_complete=_complete_state,
                        help="Only orders in this state (e.g. paid, refunded; an unknown one lists them all).")(command)


def url_path(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """A URL path as a server matches it: it starts with "/" and holds no spaces, query or fragment."""
    if not value.startswith("/") or any(c in value for c in " ?#"):
        raise BadValue(f"--{param.name} must be a URL path starting with '/' (no spaces, '?' or '#'), not {value!r}")
    return value
