"""``invoicebox-flow worker``: performs the InvoiceBox calls waiting in the outbox and delivers the
lifecycle events to the shop's handlers."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import click

from ..terminal import stderr_is_terminal
from .options import db_option, definition_option, handlers_option
from .settings import TOKEN_ENV, api_client, require_env
from .stores import open_store

if TYPE_CHECKING:
    from ..engine import Handlers
    from ..flows import FlowDefinition


@click.command()
@db_option
@definition_option
@handlers_option
@click.option("--once", is_flag=True, help="Process what is due now, then exit.")
@click.option("--poll", default=1.0, show_default=True, type=click.FloatRange(0.01), help="Seconds between polls.")
@click.option("--batch", default=10, show_default=True, type=click.IntRange(1), help="Items claimed per poll.")
@click.option("--summary-every", default=60.0, show_default=True, type=click.FloatRange(0.01),
              help="Seconds between summary lines while there is work.")
@click.option("--reconcile-every", default=None, type=click.FloatRange(1), metavar="SECONDS",
              help="Also sweep the books that often, healing the safe drift (see `invoicebox-flow reconcile`).")
@click.option("-v", "--verbose", is_flag=True, help="Also log every InvoiceBox request.")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors.")
def worker(db: str, definition: FlowDefinition, handlers: Handlers, once: bool, poll: float, batch: int,
           summary_every: float, reconcile_every: float | None, verbose: bool, quiet: bool) -> None:
    """Perform pending InvoiceBox calls from the outbox, and hand the lifecycle events to the
    shop's handlers (--handlers), each in a lane of its own (any number of workers, on any hosts).

    Needs only the API settings: INVOICEBOX_TOKEN and INVOICEBOX_BASE_URL. Logs its start,
    each item (order, transition, outcome), retries and a periodic summary on stderr; on a
    terminal, the backlog found at start is a progress bar instead of one line per item.
    """
    from ..engine import OrderFlow

    require_env(TOKEN_ENV)  # before a store is created for nothing
    store = open_store(db, create=True, announce_new=True)
    # the worker only calls the API: the webhook's settings (merchant id, notification key) are not needed
    flow = OrderFlow(api_client(store=store), store, definition=definition, handlers=handlers)
    _set_log_levels(verbose=verbose, quiet=quiet)
    from ..worker import Worker

    runner: type[Worker] = Worker
    if stderr_is_terminal() and not quiet:
        from .backlog import BacklogBarWorker

        runner = BacklogBarWorker
    work = runner(flow, batch=batch, summary_every=summary_every, reconcile_every=reconcile_every)
    work.run(once=once, poll_interval=poll)
    deliveries = f" and {work.delivered.claimed} event delivery(ies)" if len(handlers) else ""
    click.echo(f"processed {work.total.claimed} outbox item(s){deliveries}")


def _set_log_levels(*, verbose: bool, quiet: bool) -> None:
    level = logging.WARNING if quiet else logging.INFO
    logging.getLogger("invoicebox_flow.worker").setLevel(level)
    logging.getLogger("invoicebox_flow.events").setLevel(level)
    if verbose:
        logging.getLogger("invoicebox_flow").setLevel(logging.INFO)  # the client's line per request
