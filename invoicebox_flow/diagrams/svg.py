"""Pictures of the generated diagrams, rendered offline with the optional ``mermaidx`` package.

``mermaidx`` runs Mermaid in an embedded JavaScript engine: no browser, no network, roughly two
seconds a diagram. It is the ``svg`` extra, so the library itself never needs it.
"""

from __future__ import annotations

import re
from pathlib import Path

from .pages import FOLDER, generate

SVG_FOLDER = f"{FOLDER}/svg"
_MERMAID_BLOCK = re.compile(r"^```mermaid\n(.*?)^```$", re.DOTALL | re.MULTILINE)


class MissingExtraError(ImportError):
    """An optional dependency of the requested feature is not installed."""


def mermaid_blocks(markdown: str) -> list[str]:
    """The Mermaid sources of the fenced ```` ```mermaid ```` blocks of a page, in order."""
    return _MERMAID_BLOCK.findall(markdown)


def render_svgs(root: Path, folder: Path | None = None) -> list[Path]:
    """Render every Mermaid block of every generated page to ``<page>-<n>.svg``.

    Pictures go to ``folder`` (default ``<root>/diagrams/svg``); returns the files written.
    Raises :class:`MissingExtraError` when ``mermaidx`` is not installed.
    """
    try:
        import mermaidx
    except ImportError as exc:
        raise MissingExtraError(
            "rendering SVG needs the optional mermaidx package: pip install invoicebox-flow[svg]"
        ) from exc
    out = Path(folder) if folder is not None else Path(root) / SVG_FOLDER
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for rel, text in generate().items():
        stem = Path(rel).stem
        for number, source in enumerate(mermaid_blocks(text), start=1):
            path = out / f"{stem}-{number}.svg"
            path.write_text(mermaidx.render(source).svg(), encoding="utf-8")
            written.append(path)
    return written
