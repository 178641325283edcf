"""``invoicebox-flow diagrams``: regenerate or check diagrams/ (and render SVG pictures)."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command()
@click.option("--check", is_flag=True, help="Write nothing; name each missing, stale or extra file and exit 1.")
@click.option("--svg", is_flag=True, help="Also render every diagram to SVG (needs the 'svg' extra; minutes).")
@click.option("--root", default=".", show_default=True, type=click.Path(file_okay=False),
              help="Project folder holding diagrams/.")
def diagrams(check: bool, svg: bool, root: str) -> None:
    """Generate diagrams/ from the state machines (or check that it is up to date)."""
    from ..diagrams import cli_diagrams

    sys.exit(cli_diagrams(Path(root), check=check, svg=svg))
