"""``invoicebox-flow``: the command-line tool.

Every command prints one clear line and exits non-zero on an error, without a traceback
unless ``--debug`` is given. Secrets come from environment variables, never from arguments.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import click

from .errors import InvoiceboxFlowError

DEFAULT_DB = "sqlite:///invoicebox-flow.db"
TOKEN_ENV = "INVOICEBOX_TOKEN"
NOTIFICATION_KEY_ENV = "INVOICEBOX_NOTIFICATION_KEY"
MERCHANT_ENV = "INVOICEBOX_MERCHANT_ID"
BASE_URL_ENV = "INVOICEBOX_BASE_URL"


class _Group(click.Group):
    """Turns every expected failure into one line on stderr and exit status 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except Exception as exc:
            if not _is_expected(exc) or (ctx.obj and ctx.obj.get("debug")):
                raise
            click.echo(f"error: {_one_line(exc)}", err=True)
            ctx.exit(1)


def _is_expected(exc: Exception) -> bool:
    """Failures of input or environment (as opposed to bugs, which keep their traceback)."""
    if isinstance(exc, (InvoiceboxFlowError, OSError, ValueError, LookupError)):
        return True
    # A store URL that cannot be opened; sqlalchemy is imported only by commands that use a store.
    sqlalchemy_exc = sys.modules.get("sqlalchemy.exc")
    return sqlalchemy_exc is not None and isinstance(exc, sqlalchemy_exc.SQLAlchemyError)


def _one_line(exc: Exception) -> str:
    """The first line of the message (SQLAlchemy appends SQL and links on further lines)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logs.")
@click.version_option(package_name="invoicebox-flow")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Strict, persisted InvoiceBox API v3 order lifecycles, a local InvoiceBox sandbox,
    and diagrams generated from the state machines."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@main.command()
@click.option("--db", default=DEFAULT_DB, show_default=True, help="Store URL (SQLite file or PostgreSQL).")
@click.option("--trace-dir", default="demo-diagrams", show_default=True, type=click.Path(file_okay=False),
              help="Folder for the sequence diagrams of what ran.")
def demo(db: str, trace_dir: str) -> None:
    """Run every documented sequence for real against a local sandbox."""
    from .demo import run_demo

    ok = run_demo(db_url=db, trace_dir=Path(trace_dir), echo=click.echo)
    sys.exit(0 if ok else 1)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on (loopback by default).")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535), help="0 picks a free port.")
@click.option("--rate-limit", default=100, show_default=True, type=click.IntRange(1), help="Requests per window.")
@click.option("--rate-window", default=30.0, show_default=True, type=click.FloatRange(0.001), help="Seconds.")
@click.option("--notification-url", default=None, help="Shop-level default notification URL.")
def sandbox(host: str, port: int, rate_limit: int, rate_window: float, notification_url: str | None) -> None:
    """Serve the local InvoiceBox (API, payment page, cash register, webhooks) until Ctrl-C.

    Prints its URL, API token, notification key and merchant id. Set INVOICEBOX_TOKEN,
    INVOICEBOX_NOTIFICATION_KEY and INVOICEBOX_MERCHANT_ID to fix them instead of random ones.
    """
    from .sandbox.server import serve

    serve(host=host, port=port, rate_limit=rate_limit, rate_window=rate_window, notification_url=notification_url,
          token=os.environ.get(TOKEN_ENV) or None, notification_key=os.environ.get(NOTIFICATION_KEY_ENV) or None,
          merchant_id=os.environ.get(MERCHANT_ENV) or None)


@main.command()
@click.option("--check", is_flag=True, help="Exit non-zero and name the stale files instead of writing.")
@click.option("--svg", is_flag=True, help="Also render every diagram to SVG (needs the 'svg' extra).")
@click.option("--root", default=".", show_default=True, type=click.Path(file_okay=False),
              help="Project folder holding diagrams/.")
def diagrams(check: bool, svg: bool, root: str) -> None:
    """Generate diagrams/ from the state machines (or check that it is up to date)."""
    from .diagrams import cli_diagrams

    sys.exit(cli_diagrams(Path(root), check=check, svg=svg))


@main.group()
def orders() -> None:
    """Read orders from a store."""


@orders.command("list")
@click.option("--db", default=DEFAULT_DB, show_default=True, help="Store URL.")
@click.option("--state", default=None, help="Only orders in this state.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1))
def orders_list(db: str, state: str | None, limit: int) -> None:
    """One line per order: id, variant, state, amount, refunded."""
    from .engine import OrderView

    store = _open_store(db)
    rows = store.list_orders(state=state, limit=limit)
    if not rows:
        click.echo("no orders")
    for record in rows:
        view = OrderView.of(record)
        click.echo(f"{view.order_id:<28} {view.variant.value:<8} {view.state:<20} "
                   f"{view.amount:>12} {view.currency}  refunded {view.refunded_amount}")
    store.dispose()


@orders.command("show")
@click.argument("order_id")
@click.option("--db", default=DEFAULT_DB, show_default=True, help="Store URL.")
def orders_show(order_id: str, db: str) -> None:
    """State, amounts, receipts or documents, and the journal of one order."""
    from .engine import OrderView

    store = _open_store(db)
    view = OrderView.of(store.get(order_id))
    click.echo(f"order      {view.order_id} ({view.variant.value} buyer)")
    click.echo(f"state      {view.state} ({view.state_label}, version {view.version})")
    click.echo(f"invoicebox {view.invoicebox_id or '-'}  {view.payment_url or ''}")
    click.echo(f"amount     {view.amount} {view.currency} (VAT {view.vat_amount}); paid {view.paid_amount}; "
               f"refunded {view.refunded_amount}; shipped {'yes' if view.shipped else 'no'}")
    for line in view.lines:
        click.echo(f"  line     {line.sku}: {line.quantity} × {line.unit_price} = {line.total_amount} "
                   f"({line.vat_code}); refunded {line.refunded_quantity} / {line.refunded_amount}")
    for fact in view.facts:
        click.echo(f"  {fact.kind:<8} {fact.type} on {fact.event} (from {fact.source}{', ' + fact.ref if fact.ref else ''})")
    click.echo("journal")
    for entry in store.journal(order_id):
        rid = f" X-Request-Id {entry.request_id}" if entry.request_id else ""
        click.echo(f"  {entry.at:%Y-%m-%d %H:%M:%S} {entry.trigger:<18} {entry.from_state} -> {entry.to_state} "
                   f"[{entry.outcome}] by {entry.actor}{rid}")
    store.dispose()


@main.group()
def webhook() -> None:
    """The shop's notification endpoint."""


@webhook.command("serve")
@click.option("--db", default=DEFAULT_DB, show_default=True, help="Store URL.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option("--path", default="/invoicebox/notification", show_default=True)
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1))
def webhook_serve(db: str, host: str, port: int, path: str, threads: int) -> None:
    """Serve the notification endpoint with waitress (a production WSGI server).

    Reads INVOICEBOX_NOTIFICATION_KEY and INVOICEBOX_MERCHANT_ID (and INVOICEBOX_TOKEN,
    INVOICEBOX_BASE_URL for the API client) from the environment.
    """
    import waitress

    from .webhook import make_wsgi_app

    flow = _flow_from_env(db)
    server = waitress.create_server(make_wsgi_app(flow, path=path), host=host, port=port, threads=threads,
                                    ident="invoicebox-flow")
    # the bound port, not the requested one: with --port 0 the system picks it
    click.echo(f"serving InvoiceBox notifications on http://{host}:{server.effective_port}{path}")
    sys.stdout.flush()
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


@main.command("check-auth")
@click.option("--base-url", default=None, help=f"API host (default: ${BASE_URL_ENV} or production).")
@click.option("--prefix", default="v3", show_default=True, type=click.Choice(["v3", "l3"]))
@click.pass_context
def check_auth(ctx: click.Context, base_url: str | None, prefix: str) -> None:
    """Check the token in $INVOICEBOX_TOKEN against InvoiceBox (or a sandbox URL)."""
    from .client import InvoiceboxClient

    if not ctx.obj.get("debug"):
        # the outcome is reported in one line; the client's retry warnings would only repeat it
        logging.getLogger("invoicebox_flow.client").setLevel(logging.ERROR)
    token = _require_env(TOKEN_ENV)
    url = base_url or os.environ.get(BASE_URL_ENV) or "https://api.invoicebox.ru"
    with InvoiceboxClient(token, base_url=url, api_prefix=prefix, timeout=(3.05, 10.0), max_read_retries=1) as client:
        info = client.check_auth()
    if not info.authenticated:
        raise click.ClickException("the token was not accepted (anonymous user)")
    click.echo(f"ok: authenticated as user {info.user_id} at {url}/{prefix}")


@main.command()
@click.option("--db", default=DEFAULT_DB, show_default=True, help="Store URL.")
@click.option("--once", is_flag=True, help="Process what is due now, then exit.")
@click.option("--poll", default=1.0, show_default=True, type=click.FloatRange(0.01), help="Seconds between polls.")
def worker(db: str, once: bool, poll: float) -> None:
    """Perform pending InvoiceBox calls from the outbox (any number of workers, on any hosts)."""
    from .worker import Worker

    flow = _flow_from_env(db)
    processed = Worker(flow).run(once=once, poll_interval=poll)
    click.echo(f"processed {processed} outbox item(s)")


# --- helpers -------------------------------------------------------------------------------


def _require_env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise click.ClickException(f"set {name} in the environment")
    return value


def _open_store(db: str):
    from .store import Store

    return Store(db)


def _flow_from_env(db: str):
    from .client import InvoiceboxClient
    from .engine import OrderFlow

    client = InvoiceboxClient(_require_env(TOKEN_ENV), base_url=os.environ.get(BASE_URL_ENV) or "https://api.invoicebox.ru")
    return OrderFlow(client, _open_store(db), merchant_id=_require_env(MERCHANT_ENV),
                     notification_key=_require_env(NOTIFICATION_KEY_ENV))


if __name__ == "__main__":  # pragma: no cover
    main()
