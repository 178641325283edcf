"""``invoicebox-flow reconcile``: do the shop's books agree with InvoiceBox's? For cron and monitoring.

Exit status: 0 the books agree, 1 every difference is safe (healed with ``--heal``; healable
without it), 2 some difference needs a person, 3 the sweep could not run (a usage error included,
so that 2 always means drift). An interrupted sweep resumes where it stopped when run again with
the same ``--since``/``--until``.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import click

from .failures import CliError, explain
from .options import db_option, definition_option, json_option
from .output import echo_json, echo_table
from .settings import TOKEN_ENV, api_client, require_env
from .stores import existing_store

if TYPE_CHECKING:
    from ..flows import FlowDefinition
    from ..reconcile import SweepReport

COULD_NOT_RUN = 3


class SweepFailed(CliError):
    """The sweep could not run: one line, exit status 3 (never mistaken for drift found)."""

    exit_code = COULD_NOT_RUN


class _ReconcileCommand(click.Command):
    """Usage errors exit with 3 too: 1 and 2 mean what the sweep found."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except SweepFailed:
            raise
        except click.ClickException as error:  # a usage error, a --definition that cannot be loaded
            raise SweepFailed(error.format_message()) from error


def _moment(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.datetime | None:
    """An ISO 8601 date or date-time; without an offset it is UTC."""
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise SweepFailed(f"--{param.name} takes an ISO 8601 date or date-time (2024-07-01, "
                          f"2024-07-01T09:00+03:00), not {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@click.command(cls=_ReconcileCommand)
@db_option
@definition_option
@click.option("--since", callback=_moment, metavar="WHEN", help="Orders created from then on (ISO 8601; UTC unless told).")
@click.option("--until", callback=_moment, metavar="WHEN", help="Orders created before then (default: now).")
@click.option("--heal", is_flag=True, help="Heal the safe differences through the lifecycle (journaled by 'reconcile').")
@click.option("--batch", default=100, show_default=True, type=click.IntRange(1), help="Orders compared per list call.")
@json_option
@click.pass_context
def reconcile(ctx: click.Context, db: str, definition: FlowDefinition, since: dt.datetime | None,
              until: dt.datetime | None, heal: bool, batch: int, as_json: bool) -> None:
    """Compare the shop's orders with InvoiceBox's and report (and with --heal, heal) the drift.

    Without --since/--until: every order not in a final state, and those of the last 7 days.
    Needs only the API settings (INVOICEBOX_TOKEN, INVOICEBOX_BASE_URL); paces itself with the
    account's budget in the store. Exit status: 0 agree, 1 healed (or healable), 2 needs a
    person, 3 could not run.
    """
    from ..engine import OrderFlow

    try:
        require_env(TOKEN_ENV)
        with existing_store(db) as store, api_client(store=store) as client:
            report = OrderFlow(client, store, definition=definition).reconcile(
                since=since, until=until, heal=heal, batch=batch)
    except click.ClickException as exc:
        raise SweepFailed(exc.format_message()) from exc
    except Exception as exc:
        message = explain(exc)
        if message is None or (ctx.obj or {}).get("debug"):
            raise
        raise SweepFailed(message) from exc
    if as_json:
        echo_json(_json(report))
    else:
        _print(report)
    ctx.exit(report.exit_code)


def _json(report: SweepReport) -> dict[str, Any]:
    return {"sweep": report.sweep_id, "resumed": report.resumed, "since": report.since, "until": report.until,
            "open_orders": report.include_open, "orders": report.orders, "api_calls": report.api_calls,
            "calls_per_order": report.calls_per_order, "exit_code": report.exit_code,
            "counts": {kind.value: n for kind, n in report.counts.items()},
            "findings": [{"order": f.order_id, "kind": f.kind, "safe": f.kind.safe, "outcome": f.outcome,
                          "needs_human": f.needs_human, "detail": f.detail, "note": f.note} for f in report.findings]}


def _print(report: SweepReport) -> None:
    window = f"created {report.since:%Y-%m-%d %H:%M} – {report.until:%Y-%m-%d %H:%M} UTC" if report.since else (
        f"created before {report.until:%Y-%m-%d %H:%M} UTC")
    extra = " and every open order" if report.include_open else ""
    resumed = ", resumed" if report.resumed else ""
    click.echo(f"sweep {report.sweep_id}{resumed}: {report.orders} order(s) {window}{extra}; "
               f"{report.api_calls} API call(s), {report.calls_per_order} per order")
    if report.agrees:
        click.echo("the books agree")
        return
    echo_table(("difference", "orders", "healed", "safe"),
               [(kind.value, str(n), str(sum(1 for f in report.healed if f.kind is kind)), "yes" if kind.safe else "no")
                for kind, n in report.counts.items()], right={1, 2})
    if report.needs_human:
        click.echo(f"\nneeds a person ({len(report.needs_human)}):")
        echo_table(("order", "difference", "detail"),
                   [(f.order_id, f.kind.value, _detail(f.detail, f.note)) for f in report.needs_human], shrink={2})
    if report.healed:
        click.echo(f"\nhealed ({len(report.healed)}): " + ", ".join(f"{f.order_id} ({f.kind})" for f in report.healed))
    elif not report.heal and not report.needs_human:
        click.echo("\nevery difference is safe: run with --heal to heal them")


def _detail(detail: Any, note: str | None) -> str:
    text = "; ".join(f"{k} {v}" for k, v in detail.items())
    return f"{text} ({note})" if note else text
