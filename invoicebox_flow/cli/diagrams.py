"""``invoicebox-flow diagrams``: generate or check the diagram pages of a flow definition (and
render pictures)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .failures import BadValue
from .options import definition_option

if TYPE_CHECKING:
    from ..flows import FlowDefinition


@click.command()
@definition_option
@click.option("--out", default=None, type=click.Path(file_okay=False), metavar="DIR",
              help="The folder the pages go to (default: diagrams/ under --root).")
@click.option("--check", is_flag=True, help="Write nothing; name each missing, stale or extra file and exit 1.")
@click.option("--svg", is_flag=True, help="Also render every diagram to SVG in <pages>/svg/ (needs the 'svg' extra; minutes).")
@click.option("--png", default=None, type=click.Path(file_okay=False), metavar="DIR",
              help="Also draw each lifecycle's overview to DIR/<variant>-lifecycle.png (needs the 'svg' extra); "
                   "with --check, check those pictures instead.")
@click.option("--root", default=".", show_default=True, type=click.Path(file_okay=False),
              help="Project folder holding diagrams/ (ignored with --out).")
def diagrams(definition: FlowDefinition, out: str | None, check: bool, svg: bool, png: str | None, root: str) -> None:
    """Generate the diagram pages of a flow definition (or check that they are up to date).

    Without --definition: the documented flow, into diagrams/. With --definition MODULE:ATTR and
    --out DIR: the shop's own flow, into its own repository."""
    from ..diagrams import cli_diagrams
    from ..diagrams.pages import FOLDER

    if out is not None:
        target = Path(out)
        if not target.name or target.name in (".", ".."):
            raise BadValue(f"--out names the folder the pages go to, not {out!r}")
        base, folder = target.parent, target.name
    else:
        base, folder = Path(root), FOLDER
    command = "invoicebox-flow diagrams" + (f" --out {out}" if out is not None else
                                            "" if root == "." else f" --root {root}")
    command += f" --png {png}" if png is not None else ""
    if not definition.documented:
        command += " --definition MODULE:ATTR (as given)"
    sys.exit(cli_diagrams(base, check=check, svg=svg, definition=definition, folder=folder,
                          png=Path(png) if png is not None else None, command=command))
