"""What ``invoicebox-flow diagrams [--check] [--svg] [--root DIR]`` does, as one function.

The click command only parses options and calls :func:`cli_diagrams`; keeping the behaviour
here lets it be tested without a CLI runner.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .files import check as check_pages
from .files import write
from .svg import MissingExtraError, render_svgs

EXIT_OK = 0
EXIT_STALE = 1
EXIT_MISSING_EXTRA = 2


def cli_diagrams(root: Path, check: bool = False, svg: bool = False) -> int:
    """Regenerate ``diagrams/`` under ``root`` (or only check it); return the exit code.

    With ``check``: nothing is written; stale, missing or extra files are named one per line on
    stderr and the exit code is 1. With ``svg``: pictures are rendered too (after writing).
    """
    root = Path(root)
    if check:
        stale = check_pages(root)
        for rel in stale:
            print(rel, file=sys.stderr)
        if stale:
            print(f"{len(stale)} diagram file(s) are stale; run: invoicebox-flow diagrams", file=sys.stderr)
            return EXIT_STALE
        print("diagrams are up to date")
    else:
        for path in write(root):
            print(path.relative_to(root).as_posix())
    if svg:
        try:
            paths = render_svgs(root)
        except MissingExtraError as exc:
            print(str(exc), file=sys.stderr)
            return EXIT_MISSING_EXTRA
        for path in paths:
            print(path)
    return EXIT_OK
