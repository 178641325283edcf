"""What ``invoicebox-flow diagrams [--definition M:A] [--out DIR] [--check] [--svg] [--png DIR]`` does.

The click command only parses options and calls :func:`cli_diagrams`; keeping the behaviour
here lets it be tested without a CLI runner.
"""

from __future__ import annotations

from pathlib import Path

import click

from ..extras import MissingExtraError, require
from ..flows import DOCUMENTED_FLOW, FlowDefinition
from ..terminal import progress
from .files import Differences, differences, write
from .pages import FOLDER
from .svg import render_svgs, stale_pictures, write_lifecycle_pngs

EXIT_OK = 0
EXIT_STALE = 1
EXIT_MISSING_EXTRA = 2


def cli_diagrams(root: Path, check: bool = False, svg: bool = False, *,
                 definition: FlowDefinition = DOCUMENTED_FLOW, folder: str = FOLDER,
                 png: Path | None = None, command: str = "invoicebox-flow diagrams") -> int:
    """Regenerate the diagram pages of ``definition`` in ``root/folder`` (or only check them);
    return the exit code.

    With ``check``: nothing is written; each file that differs is named on stderr as
    ``<path>: missing``, ``<path>: stale`` or ``<path>: extra`` (and each lifecycle picture in
    ``png`` that is missing or was drawn from another definition), and the exit code is 1, with
    ``command`` as the fix. With ``svg``: every diagram is rendered to SVG too (after writing),
    with progress; with ``png``: each lifecycle's overview to ``png/<variant>-lifecycle.png``.
    Drawing needs the ``svg`` extra: without it nothing is written and the exit code is 2.
    """
    root = Path(root)
    if (svg or png is not None) and not check:
        try:
            require("svg", "rendering pictures")
        except MissingExtraError as exc:
            click.echo(f"error: {exc}", err=True)
            return EXIT_MISSING_EXTRA
    if check:
        found = differences(root, definition, folder)
        pictures = stale_pictures(Path(png), definition) if png is not None else []
        if found.paths or pictures:
            for line in _difference_lines(found) + [f"{path}: stale picture" for path in pictures]:
                click.echo(line, err=True)
            click.echo(_summary(found, pictures, folder, command), err=True)
            return EXIT_STALE
        click.echo(f"{folder} is up to date" if folder != FOLDER else "diagrams are up to date")
        return EXIT_OK
    for path in write(root, definition, folder):
        click.echo(path.relative_to(root).as_posix())
    if svg:
        render_svgs(root, definition=definition, pages_folder=folder, track=lambda jobs: progress(
            jobs, label="rendering SVG", describe=lambda job: job.path.name,
            finished=lambda job: str(job.path)))
    if png is not None:
        for path in write_lifecycle_pngs(Path(png), definition):
            click.echo(str(path))
    return EXIT_OK


def _difference_lines(found: Differences) -> list[str]:
    kinds = {**{rel: "missing" for rel in found.missing}, **{rel: "stale" for rel in found.stale},
             **{rel: "extra (nothing generates it)" for rel in found.extra}}
    return [f"{rel}: {kinds[rel]}" for rel in found.paths]


def _summary(found: Differences, pictures: list[str], folder: str, command: str) -> str:
    counts = [f"{len(paths)} {kind}" for kind, paths in
              (("missing", found.missing), ("stale", found.stale), ("extra", found.extra),
               ("stale pictures", pictures)) if paths]
    return f"{folder}/ is out of date ({', '.join(counts)}); run: {command}"
