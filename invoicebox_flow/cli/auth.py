"""``invoicebox-flow check-auth``: is the API token accepted?"""

from __future__ import annotations

import logging

import click

from .failures import CliError
from .options import json_option
from .output import echo_json
from .settings import BASE_URL_ENV, base_url


@click.command("check-auth")
@click.option("--base-url", "url", default=None, help=f"API host (default: ${BASE_URL_ENV} or production).")
@click.option("--prefix", default="v3", show_default=True, type=click.Choice(["v3", "l3"]))
@json_option
@click.pass_context
def check_auth(ctx: click.Context, url: str | None, prefix: str, as_json: bool) -> None:
    """Check the token in $INVOICEBOX_TOKEN against InvoiceBox (or a sandbox URL)."""
    from .settings import api_client

    if not ctx.obj.get("debug"):
        # the outcome is reported in one line; the client's retry warnings would only repeat it
        logging.getLogger("invoicebox_flow.client").setLevel(logging.ERROR)
    with api_client(url, api_prefix=prefix, timeout=(3.05, 10.0), max_read_retries=1) as client:
        info = client.check_auth()
    if not info.authenticated:
        raise CliError("the token was not accepted (anonymous user)")
    where = f"{base_url(url)}/{prefix}"
    if as_json:
        echo_json({"authenticated": True, "user_id": info.user_id, "url": where})
    else:
        click.echo(f"ok: authenticated as user {info.user_id} at {where}")
