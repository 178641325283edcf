"""``invoicebox-flow orders list|show|diagram``: orders as the store keeps them (read only)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from .options import db_option, definition_option, json_option, state_option
from .output import echo_json, echo_table
from .stores import existing_store

if TYPE_CHECKING:
    from ..engine import OrderView
    from ..flows import FlowDefinition

MINUTE = "%Y-%m-%d %H:%M"
SECOND = "%Y-%m-%d %H:%M:%S"


@click.group()
def orders() -> None:
    """Read orders from a store (never creates one)."""


@orders.command("list")
@db_option
@definition_option
@state_option
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1), help="At most this many orders.")
@json_option
def orders_list(db: str, definition: FlowDefinition, state: str | None, limit: int, as_json: bool) -> None:
    """One line per order: id, buyer, state, amount, refunded, last change."""
    from ..engine import OrderView

    with existing_store(db) as store:
        views = [OrderView.of(record, definition.lifecycle(record.variant))
                 for record in store.list_orders(state=state, limit=limit)]
    if as_json:
        echo_json(views)
        return
    if not views:
        click.echo("no orders" + (f" in state {state}" if state else ""))
        return
    # a narrow terminal loses the time of the last change, then the buyer's kind
    echo_table(("order", "buyer", "state", "amount", "refunded", "updated (UTC)"),
               [(v.order_id, v.variant.value, v.state, f"{v.amount} {v.currency}", str(v.refunded_amount),
                 f"{v.updated_at:{MINUTE}}") for v in views], right={3, 4}, optional={1, 5})


@orders.command("show")
@click.argument("order_id")
@db_option
@definition_option
@json_option
def orders_show(order_id: str, db: str, definition: FlowDefinition, as_json: bool) -> None:
    """State, amounts, lines, receipts or documents, and the journal of one order."""
    from ..engine import OrderView

    with existing_store(db) as store:
        record = store.get(order_id)
        view = OrderView.of(record, definition.lifecycle(record.variant))
        journal = store.journal(order_id)
    if as_json:
        echo_json({"order": view, "journal": journal})
        return
    _summary(view)
    click.echo("")
    echo_table(("sku", "name", "qty", "price", "total", "VAT", "refunded"),
               [(ln.sku, ln.name, str(ln.quantity), str(ln.unit_price), str(ln.total_amount), ln.vat_code,
                 f"{ln.refunded_quantity} ({ln.refunded_amount})") for ln in view.lines],
               right={2, 3, 4, 6}, shrink={1}, optional={5})
    if view.facts:
        click.echo("")
        echo_table(("issued", "type", "on", "source", "reference"),
                   [(f.kind, f.type, f.event, f.source, f.ref or "") for f in view.facts], shrink={2, 4})
    click.echo("")
    click.echo("journal")
    # the state each entry left the order in (the next entry's "from"); --json has both
    echo_table(("at (UTC)", "trigger", "state", "outcome", "by", "X-Request-Id"),
               [(f"{e.at:{SECOND}}", e.trigger, e.to_state, e.outcome, e.actor, e.request_id or "")
                for e in journal], shrink={4, 5}, optional={5})


def _summary(view: OrderView) -> None:
    shipped = "yes" if view.shipped else "no"
    click.echo(f"order       {view.order_id} ({view.variant.value} buyer)")
    click.echo(f"state       {view.state} ({view.state_label}, version {view.version})")
    click.echo(f"invoicebox  {view.invoicebox_id or '-'}")
    if view.payment_url:
        click.echo(f"payment     {view.payment_url}")
    click.echo(f"amount      {view.amount} {view.currency} (VAT {view.vat_amount})")
    click.echo(f"paid        {view.paid_amount}; refunded {view.refunded_amount}; shipped {shipped}")


@orders.command("diagram")
@click.argument("order_id")
@db_option
@definition_option
@click.option("--sandbox", "sandbox_url", default=None, metavar="URL",
              help="A sandbox's URL: add what InvoiceBox's side saw (receipts, documents, the payment).")
@click.option("--against-documented", is_flag=True,
              help="List each step next to the documented sequence, marking where the order left it.")
@click.option("--svg", is_flag=True, help="Print the diagram as SVG (needs the 'svg' extra).")
def orders_diagram(order_id: str, db: str, definition: FlowDefinition, sandbox_url: str | None,
                   against_documented: bool, svg: bool) -> None:
    """The sequence diagram of what happened to one order, from its journal (Mermaid)."""
    from ..diagrams.order import story_of

    inspector = None
    if sandbox_url is not None:
        from ..sandbox.inspect import SandboxInspector

        inspector = SandboxInspector(sandbox_url)
    try:
        with existing_store(db) as store:
            story = story_of(store, order_id, definition, inspector)
    finally:
        if inspector is not None:
            inspector.close()
    if against_documented:
        click.echo(story.against_documented(), nl=False)
    elif svg:
        from ..diagrams.svg import render_picture

        click.echo(render_picture(story.diagram()))
    else:
        click.echo(story.diagram(), nl=False)
