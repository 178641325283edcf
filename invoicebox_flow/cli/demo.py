"""``invoicebox-flow demo``: every documented sequence, live, against a local sandbox."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..extras import require
from .options import db_option
from .stores import open_store


@click.command()
@db_option
@click.option("--trace-dir", default="demo-diagrams", show_default=True, type=click.Path(file_okay=False),
              help="Folder for the sequence diagrams of what ran.")
@click.option("-v", "--details", is_flag=True, help="Print every documented step as it happens and every check in full.")
def demo(db: str, trace_dir: str, details: bool) -> None:
    """Run every documented sequence for real against a local sandbox.

    Four orders: a private buyer's services, an organisation's services (act), a sole
    proprietor's goods (TORG-12) — each paid, shipped and refunded in two steps — and a private
    order canceled before payment. Exits 0 only if every sequence ended as documented. Needs
    the 'sandbox' extra.
    """
    require("sandbox", "the demo")
    from ..demo import run_demo

    store = open_store(db, create=True)
    try:
        ok = run_demo(store, trace_dir=Path(trace_dir), echo=click.echo, details=details)
    finally:
        store.dispose()
    if not details:
        click.echo("(invoicebox-flow demo --details prints every step, receipt and document)")
    sys.exit(0 if ok else 1)
