"""Writing the generated pages under a project root, and telling which ones differ.

A page is *missing* when its file is not there, *stale* when its text differs from what would be
generated now, and *extra* when it is a ``.md`` file in ``diagrams/`` that nothing generates (a
renamed sequence must not leave its old page behind). Text is compared with ``\\n`` line ends,
so a checkout that converts line ends does not look stale.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

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


class Differences(NamedTuple):
    """Relative paths of the pages that differ from what would be generated, by kind, sorted."""

    missing: list[str]
    stale: list[str]
    extra: list[str]

    @property
    def paths(self) -> list[str]:
        return sorted(self.missing + self.stale + self.extra)


def differences(root: Path, definition: FlowDefinition = DOCUMENTED_FLOW, folder: str = FOLDER) -> Differences:
    """The missing, stale and extra pages under ``root``; all empty = up to date."""
    root = Path(root)
    pages = generate(definition, folder)
    missing = [rel for rel in pages if not (root / rel).is_file()]
    stale = [rel for rel, text in pages.items() if rel not in missing and _read(root / rel) != text]
    return Differences(sorted(missing), sorted(stale), _extra(root, pages, folder))


def check(root: Path, definition: FlowDefinition = DOCUMENTED_FLOW, folder: str = FOLDER) -> list[str]:
    """Relative paths of pages under ``root`` that are missing, stale or extra; empty = up to date."""
    return differences(root, definition, folder).paths


def _extra(root: Path, pages: dict[str, str], folder: str) -> list[str]:
    where = root / folder
    if not where.is_dir():
        return []
    present = (p.relative_to(root).as_posix() for p in where.rglob("*.md"))
    return sorted(rel for rel in present if rel not in pages)


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8", errors="replace").replace("\r\n", "\n")
