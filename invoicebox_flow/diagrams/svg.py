"""Pictures of the generated diagrams, rendered offline with the optional ``mermaidx`` package.

``mermaidx`` runs Mermaid in an embedded JavaScript engine: no browser, no network, roughly two
seconds a diagram. It is the ``svg`` extra, so the library itself never needs it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple

from ..extras import MissingExtraError, require
from .pages import FOLDER, generate

__all__ = ["SVG_FOLDER", "MissingExtraError", "SvgJob", "mermaid_blocks", "render_svgs"]

SVG_FOLDER = f"{FOLDER}/svg"
_MERMAID_BLOCK = re.compile(r"^```mermaid\n(.*?)^```$", re.DOTALL | re.MULTILINE)


class SvgJob(NamedTuple):
    """One picture to draw: where it goes and the Mermaid source it shows."""

    path: Path
    source: str


def mermaid_blocks(markdown: str) -> list[str]:
    """The Mermaid sources of the fenced ```` ```mermaid ```` blocks of a page, in order."""
    return _MERMAID_BLOCK.findall(markdown)


def render_svgs(root: Path, folder: Path | None = None, *,
                track: Callable[[list[SvgJob]], Iterable[SvgJob]] = iter) -> list[Path]:
    """Render every Mermaid block of every generated page to ``<page>-<n>.svg``.

    Pictures go to ``folder`` (default ``<root>/diagrams/svg``); returns the files written.
    ``track`` wraps the list of jobs (a progress display iterates it). Raises
    :class:`MissingExtraError` when ``mermaidx`` is not installed.
    """
    require("svg")
    import mermaidx

    out = Path(folder) if folder is not None else Path(root) / SVG_FOLDER
    out.mkdir(parents=True, exist_ok=True)
    jobs = [SvgJob(out / f"{Path(rel).stem}-{number}.svg", source)
            for rel, text in generate().items()
            for number, source in enumerate(mermaid_blocks(text), start=1)]
    written = []
    for job in track(jobs):
        job.path.write_text(mermaidx.render(job.source).svg(), encoding="utf-8")
        written.append(job.path)
    return written
