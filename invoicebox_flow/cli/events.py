"""``invoicebox-flow events list|retry|feed``: the handlers' deliveries, and the event feed."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from .failures import BadValue
from .options import db_option, definition_option, json_option
from .output import echo_json, echo_table
from .stores import existing_store

if TYPE_CHECKING:
    from ..flows import FlowDefinition

SECOND = "%Y-%m-%d %H:%M:%S"
STATUSES = ("dead", "pending", "claimed", "done", "all")


@click.group()
def events() -> None:
    """Lifecycle events: the deliveries to the shop's handlers, and the feed of every order."""


@events.command("list")
@db_option
@click.option("--status", type=click.Choice(STATUSES), default="dead", show_default=True,
              help="Only deliveries in this status.")
@click.option("--handler", default=None, metavar="NAME", help="Only the deliveries to this handler.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1), help="At most this many.")
@json_option
def events_list(db: str, status: str, handler: str | None, limit: int, as_json: bool) -> None:
    """One line per delivery of an event to a handler: id, handler, event, order, attempts, last error."""
    with existing_store(db) as store:
        found = store.deliveries(status=None if status == "all" else status, handler=handler, limit=limit)
    if as_json:
        echo_json(found)
        return
    if not found:
        click.echo("no deliveries" + ("" if status == "all" else f" {status}") + (f" to {handler}" if handler else ""))
        return
    echo_table(("id", "handler", "event", "order", "status", "tries", "last error"),
               [(str(d.id), d.handler, d.event_type, d.order_id, d.status, str(d.attempts), d.last_error or "")
                for d in found], right={0, 5}, shrink={1, 6}, optional={4})


@events.command("retry")
@click.argument("ids", nargs=-1, type=int)
@db_option
@click.option("--all", "every", is_flag=True, help="Every dead delivery (of --handler, when given).")
@click.option("--handler", default=None, metavar="NAME", help="Only the deliveries to this handler.")
def events_retry(ids: tuple[int, ...], db: str, every: bool, handler: str | None) -> None:
    """Give dead deliveries (by id, or --all) a fresh set of attempts; a worker runs them next."""
    if bool(ids) == every:
        raise BadValue("name the dead deliveries to retry by id, or give --all (not both)")
    with existing_store(db) as store:
        revived = store.retry_deliveries(None if every else ids, handler=handler)
    click.echo(f"{revived} dead delivery(ies) will be retried")


@events.command("feed")
@db_option
@definition_option
@click.option("--after", default=None, metavar="POSITION", help="Start after this position (default: the first event).")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1), help="At most this many events.")
@json_option
def events_feed(db: str, definition: FlowDefinition, after: str | None, limit: int, as_json: bool) -> None:
    """Every order's events in commit order; the last line says where to go on from."""
    from ..engine import OrderFlow

    with existing_store(db) as store:
        found = OrderFlow(None, store, definition=definition).events(after, limit=limit)  # reads only: no client
    if as_json:
        echo_json(found)
        return
    if not found:
        click.echo("no events" + (f" after {after}" if after else ""))
        return
    echo_table(("position", "at (UTC)", "order", "event", "trigger", "state", "by"),
               [(e.position, f"{e.at:{SECOND}}", e.order_id, type(e).__name__, e.trigger, e.to_state, e.actor)
                for e in found], shrink={6}, optional={1, 6})
    click.echo(f"next: --after {found[-1].position}")
