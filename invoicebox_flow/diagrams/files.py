"""Writing the generated pages under a project root, and telling which ones are stale.

A page is stale when its text differs from what would be generated now; a ``.md`` file in
``diagrams/`` that nothing generates is stale too (a renamed sequence must not leave its old
page behind). Text is compared with ``\\n`` line ends, so a checkout that converts line ends
does not look stale.
"""

from __future__ import annotations

from pathlib import Path

from ..flows import DOCUMENTED_FLOW, FlowDefinition
from .pages import FOLDER, generate


def write(root: Path, definition: FlowDefinition = DOCUMENTED_FLOW, folder: str = FOLDER) -> list[Path]:
    """Write every generated page under ``root`` and remove generated-folder ``.md`` files that
    nothing generates any more. Returns the pages written."""
    root = Path(root)
    pages = generate(definition, folder)
    written = []
    for rel, text in pages.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
        written.append(path)
    for rel in _extra(root, pages, folder):
        (root / rel).unlink()
    return written


def check(root: Path, definition: FlowDefinition = DOCUMENTED_FLOW, folder: str = FOLDER) -> list[str]:
    """Relative paths of pages under ``root`` that are missing, stale or extra; empty = up to date."""
    root = Path(root)
    pages = generate(definition, folder)
    stale = []
    for rel, text in pages.items():
        path = root / rel
        if not path.is_file() or _read(path) != text:
            stale.append(rel)
    return sorted(stale + _extra(root, pages, folder))


def _extra(root: Path, pages: dict[str, str], folder: str) -> list[str]:
    where = root / folder
    if not where.is_dir():
        return []
    present = (p.relative_to(root).as_posix() for p in where.rglob("*.md"))
    return sorted(rel for rel in present if rel not in pages)


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8", errors="replace").replace("\r\n", "\n")
