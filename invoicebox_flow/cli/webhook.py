"""``invoicebox-flow webhook serve``: the shop's notification endpoint on waitress."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from ..extras import require
from .options import db_option, definition_option, url_path
from .settings import MERCHANT_ENV, NOTIFICATION_KEY_ENV, TOKEN_ENV, api_client, require_env
from .stores import open_store

if TYPE_CHECKING:
    from ..flows import FlowDefinition


@click.group()
def webhook() -> None:
    """The shop's notification endpoint."""


@webhook.command("serve")
@db_option
@definition_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="0 picks a free port.")
@click.option("--path", default="/invoicebox/notification", show_default=True, callback=url_path,
              help="URL path of the endpoint (starts with '/').")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1))
def webhook_serve(db: str, definition: FlowDefinition, host: str, port: int, path: str, threads: int) -> None:
    """Serve the notification endpoint with waitress (a production WSGI server).

    Reads INVOICEBOX_NOTIFICATION_KEY and INVOICEBOX_MERCHANT_ID (and INVOICEBOX_TOKEN,
    INVOICEBOX_BASE_URL for the API client) from the environment. Needs the 'server' extra.
    """
    require("server", "the webhook server")
    import waitress

    from ..engine import OrderFlow
    from ..webhook import make_wsgi_app

    notification_key, merchant_id = require_env(NOTIFICATION_KEY_ENV), require_env(MERCHANT_ENV)
    require_env(TOKEN_ENV)  # before a store is created for nothing
    store = open_store(db, create=True, announce_new=True)
    flow = OrderFlow(api_client(store=store), store, merchant_id=merchant_id,
                     notification_key=notification_key, definition=definition)
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
