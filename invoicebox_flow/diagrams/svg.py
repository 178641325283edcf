"""Pictures of the generated diagrams, rendered offline with the optional ``mermaidx`` package.

``mermaidx`` runs Mermaid in an embedded JavaScript engine: no browser, no network, roughly two
seconds a diagram. It is the ``svg`` extra, so the library itself never needs it.

Mermaid puts labels in ``<foreignObject>`` HTML by default, which only browsers draw (rsvg, many
viewers and IDE previews show empty boxes). Pictures are rendered with ``htmlLabels: false`` —
plain SVG ``<text>`` — and ``xml:space="preserve"``, without which non-browser renderers drop
the spaces between the words Mermaid writes as separate ``<tspan>`` s.

A PNG carries the SHA-1 of the Mermaid source it was drawn from (a PNG ``tEXt`` chunk), so a
committed picture can be checked for staleness without rendering it again.
"""

from __future__ import annotations

import hashlib
import re
import struct
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple

from ..extras import MissingExtraError, require
from ..flows import DOCUMENTED_FLOW, FlowDefinition
from .overview import render_lifecycle_overview
from .pages import FOLDER, generate

__all__ = ["SVG_FOLDER", "MissingExtraError", "SvgJob", "lifecycle_pictures", "mermaid_blocks", "picture_source_digest",
           "render_picture", "render_svgs", "source_digest", "stale_pictures", "stale_pngs", "write_lifecycle_pngs",
           "write_pngs"]

SVG_FOLDER = f"{FOLDER}/svg"
#: What Mermaid is told when it draws a picture: labels as plain SVG text.
MERMAID_CONFIG = {"htmlLabels": False}
SOURCE_KEY = "mermaid-source-sha1"
_MERMAID_BLOCK = re.compile(r"^```mermaid\n(.*?)^```$", re.DOTALL | re.MULTILINE)
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class SvgJob(NamedTuple):
    """One picture to draw: where it goes and the Mermaid source it shows."""

    path: Path
    source: str


def mermaid_blocks(markdown: str) -> list[str]:
    """The Mermaid sources of the fenced ```` ```mermaid ```` blocks of a page, in order."""
    return _MERMAID_BLOCK.findall(markdown)


def render_picture(source: str) -> str:
    """The SVG of a Mermaid source, its text drawable outside browsers (needs the ``svg`` extra)."""
    require("svg")
    import mermaidx

    svg: str = mermaidx.render(source, config=MERMAID_CONFIG).svg()
    return svg.replace("<svg ", '<svg xml:space="preserve" ', 1)


def render_svgs(root: Path, folder: Path | None = None, *, definition: FlowDefinition = DOCUMENTED_FLOW,
                pages_folder: str = FOLDER, track: Callable[[list[SvgJob]], Iterable[SvgJob]] = iter) -> list[Path]:
    """Render every Mermaid block of every generated page to ``<page>-<n>.svg``.

    Pictures go to ``folder`` (default ``<root>/<pages_folder>/svg``); returns the files written.
    ``track`` wraps the list of jobs (a progress display iterates it). Raises
    :class:`MissingExtraError` when ``mermaidx`` is not installed.
    """
    require("svg")
    out = Path(folder) if folder is not None else Path(root) / pages_folder / "svg"
    out.mkdir(parents=True, exist_ok=True)
    jobs = [SvgJob(out / f"{Path(rel).stem}-{number}.svg", source)
            for rel, text in generate(definition, pages_folder).items()
            for number, source in enumerate(mermaid_blocks(text), start=1)]
    written = []
    for job in track(jobs):
        job.path.write_text(render_picture(job.source), encoding="utf-8")
        written.append(job.path)
    return written


def lifecycle_pictures(definition: FlowDefinition = DOCUMENTED_FLOW) -> dict[str, str]:
    """``<variant>-lifecycle.png`` -> the Mermaid source of that lifecycle's overview."""
    prefix = "" if definition.documented else f"{definition.name}-"
    return {f"{prefix}{lc.variant.value}-lifecycle.png":
            render_lifecycle_overview(lc, f"{prefix}{lc.variant.value}-lifecycle: жизненный цикл заказа")
            for lc in definition}


def write_lifecycle_pngs(folder: Path, definition: FlowDefinition = DOCUMENTED_FLOW) -> list[Path]:
    """Draw each lifecycle's overview to ``folder/<variant>-lifecycle.png`` (on white)."""
    return write_pngs(folder, lifecycle_pictures(definition))


def write_pngs(folder: Path, pictures: dict[str, str]) -> list[Path]:
    """Draw each ``{file name: Mermaid source}`` to ``folder/<file name>`` (on white), the source's
    digest inside, so that :func:`stale_pngs` can tell later whether it still shows that source."""
    require("svg")
    import mermaidx

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, source in pictures.items():
        png = mermaidx.svg_to_png(render_picture(source), background="#ffffff")
        (folder / name).write_bytes(_with_text(png, SOURCE_KEY, source_digest(source)))
        written.append(folder / name)
    return written


def source_digest(source: str) -> str:
    return hashlib.sha1(source.encode("utf-8")).hexdigest()


def picture_source_digest(png: bytes) -> str | None:
    """The digest of the source a PNG written here was drawn from (None: not one of ours)."""
    if not png.startswith(_PNG_SIGNATURE):
        return None
    at = len(_PNG_SIGNATURE)
    while at + 8 <= len(png):
        length, kind = struct.unpack(">I4s", png[at:at + 8])
        if kind == b"tEXt":
            key, _, value = png[at + 8:at + 8 + length].partition(b"\0")
            if key.decode("latin-1") == SOURCE_KEY:
                return value.decode("latin-1")
        at += 12 + length
    return None


def _with_text(png: bytes, key: str, value: str) -> bytes:
    """``png`` with a ``tEXt`` chunk right after its header chunk."""
    header_end = len(_PNG_SIGNATURE) + 8 + struct.unpack(">I", png[8:12])[0] + 4
    data = key.encode("latin-1") + b"\0" + value.encode("latin-1")
    chunk = struct.pack(">I", len(data)) + b"tEXt" + data + struct.pack(">I", zlib.crc32(b"tEXt" + data))
    return png[:header_end] + chunk + png[header_end:]


def stale_pictures(folder: Path, definition: FlowDefinition = DOCUMENTED_FLOW) -> list[str]:
    """The lifecycle pictures in ``folder`` that are missing or were drawn from another source."""
    return stale_pngs(folder, lifecycle_pictures(definition))


def stale_pngs(folder: Path, pictures: dict[str, str]) -> list[str]:
    """The files of ``{file name: Mermaid source}`` in ``folder`` that are missing or were drawn
    from another source (read from the digest :func:`write_pngs` puts inside: nothing is drawn)."""
    stale = []
    for name, source in pictures.items():
        path = Path(folder) / name
        if not path.is_file() or picture_source_digest(path.read_bytes()) != source_digest(source):
            stale.append(path.as_posix())
    return stale
