"""``invoicebox-flow sandbox``: the local InvoiceBox, served until Ctrl-C."""

from __future__ import annotations

import click

from ..extras import require
from .settings import MERCHANT_ENV, NOTIFICATION_KEY_ENV, TOKEN_ENV, optional_env


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on (loopback by default).")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535), help="0 picks a free port.")
@click.option("--rate-limit", default=100, show_default=True, type=click.IntRange(1), help="Requests per window.")
@click.option("--rate-window", default=30.0, show_default=True, type=click.FloatRange(0.001), help="Seconds.")
@click.option("--notification-url", default=None, help="Shop-level default notification URL.")
def sandbox(host: str, port: int, rate_limit: int, rate_window: float, notification_url: str | None) -> None:
    """Serve the local InvoiceBox (API, payment page, cash register, webhooks) until Ctrl-C.

    Prints its URL, API token, notification key and merchant id. Set INVOICEBOX_TOKEN,
    INVOICEBOX_NOTIFICATION_KEY and INVOICEBOX_MERCHANT_ID to fix them instead of random ones.
    Needs the 'sandbox' extra.
    """
    require("sandbox")
    from ..sandbox.server import serve

    serve(host=host, port=port, rate_limit=rate_limit, rate_window=rate_window, notification_url=notification_url,
          token=optional_env(TOKEN_ENV), notification_key=optional_env(NOTIFICATION_KEY_ENV),
          merchant_id=optional_env(MERCHANT_ENV))
