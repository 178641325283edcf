"""What ``invoicebox-flow diagrams [--check] [--svg] [--root DIR]`` does, as one function.

The click command only parses options and calls :func:`cli_diagrams`; keeping the behaviour
here lets it be tested without a CLI runner.
"""

from __future__ import annotations

from pathlib import Path

import click

from ..extras import MissingExtraError, require
from ..terminal import progress
from .files import Differences, differences, write
from .svg import render_svgs

EXIT_OK = 0
EXIT_STALE = 1
EXIT_MISSING_EXTRA = 2


def cli_diagrams(root: Path, check: bool = False, svg: bool = False) -> int:
    """Regenerate ``diagrams/`` under ``root`` (or only check it); return the exit code.

    With ``check``: nothing is written; each file that differs is named on stderr as
    ``<path>: missing``, ``<path>: stale`` or ``<path>: extra``, and the exit code is 1. With
    ``svg``: pictures are rendered too (after writing), with progress; without the ``svg``
    extra nothing is written and the exit code is 2.
    """
    root = Path(root)
    if svg:
        try:
            require("svg", "rendering SVG")
        except MissingExtraError as exc:
            click.echo(f"error: {exc}", err=True)
            return EXIT_MISSING_EXTRA
    if check:
        found = differences(root)
        if found.paths:
            for line in _difference_lines(found):
                click.echo(line, err=True)
            click.echo(_summary(found, root), err=True)
            return EXIT_STALE
        click.echo("diagrams are up to date")
    else:
        for path in write(root):
            click.echo(path.relative_to(root).as_posix())
    if svg:
        render_svgs(root, track=lambda jobs: progress(
            jobs, label="rendering SVG", describe=lambda job: job.path.name,
            finished=lambda job: str(job.path)))
    return EXIT_OK


def _difference_lines(found: Differences) -> list[str]:
    kinds = {**{rel: "missing" for rel in found.missing}, **{rel: "stale" for rel in found.stale},
             **{rel: "extra (nothing generates it)" for rel in found.extra}}
    return [f"{rel}: {kinds[rel]}" for rel in found.paths]


def _summary(found: Differences, root: Path) -> str:
    counts = [f"{len(paths)} {kind}" for kind, paths in
              (("missing", found.missing), ("stale", found.stale), ("extra", found.extra)) if paths]
    command = "invoicebox-flow diagrams" + ("" if root == Path(".") else f" --root {root}")
    return f"diagrams/ is out of date ({', '.join(counts)}); run: {command}"

