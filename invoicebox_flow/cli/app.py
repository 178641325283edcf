"""The ``invoicebox-flow`` group: global options, the error policy, and every command group."""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

import click

from .._version import __version__
from .auth import check_auth
from .demo import demo
from .diagrams import diagrams
from .events import events
from .failures import CliError, explain
from .orders import orders
from .reconcile import reconcile
from .sandbox import sandbox
from .webhook import webhook
from .worker import worker

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class ToolGroup(click.Group):
    """Turns every expected failure into one line on stderr and exit status 1, and a closed
    stdout (``| head``) into a quiet exit 0."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            result = super().invoke(ctx)
            sys.stdout.flush()  # a reader that went away shows up here, not in the interpreter's exit
            return result
        except BrokenPipeError:
            _discard_stdout()
            ctx.exit(0)
        except CliError as exc:
            if _debug(ctx) and isinstance(exc.__cause__, Exception):
                raise exc.__cause__ from None  # the library's own exception, with its traceback
            raise
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except Exception as exc:
            message = explain(exc)
            if message is None or _debug(ctx):
                raise
            click.echo(f"error: {message}", err=True)
            ctx.exit(1)


def _debug(ctx: click.Context) -> bool:
    return bool(ctx.obj and ctx.obj.get("debug"))


def _discard_stdout() -> None:
    """Point stdout at /dev/null so that flushing what is still buffered cannot fail again at exit."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


@click.group(cls=ToolGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logs.")
@click.version_option(__version__, prog_name="invoicebox-flow")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Strict, persisted InvoiceBox API v3 order lifecycles, a local InvoiceBox sandbox,
    and diagrams generated from the state machines.

    The store is --db URL or $INVOICEBOX_FLOW_DB (default: sqlite:///invoicebox-flow.db);
    InvoiceBox's settings come from $INVOICEBOX_TOKEN and $INVOICEBOX_BASE_URL.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, format=LOG_FORMAT)


for command in (demo, sandbox, diagrams, orders, events, webhook, worker, check_auth, reconcile):
    main.add_command(command)
