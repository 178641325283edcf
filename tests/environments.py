"""Python environments that lack some installed distributions, for testing missing extras for real.

:func:`python_without` lays out a folder of links to everything in this interpreter's
site-packages except the given distributions (their packages and their metadata), and returns
the command and environment that run this interpreter on it with ``-S`` (no site-packages, no
``.pth`` files) — as a virtual environment that never installed them would. Importing a hidden
package then fails the way it fails there: ``ModuleNotFoundError``, no stub, no mock.
"""

from __future__ import annotations

import importlib.metadata
import os
import site
import sys
from pathlib import Path

import invoicebox_flow

# What `pip install invoicebox-flow` leaves out: each extra's distributions and what they pull in.
EXTRA_DISTRIBUTIONS = {
    "sandbox": ("Flask", "Werkzeug", "Jinja2", "itsdangerous", "blinker", "MarkupSafe"),
    "server": ("waitress",),
    "postgres": ("psycopg", "psycopg-binary"),
    "svg": ("mermaidx",),
}
CORE_ONLY = tuple(name for names in EXTRA_DISTRIBUTIONS.values() for name in names)


def top_level_entries(distribution: str) -> set[str]:
    """The names a distribution installs at the top of site-packages (packages, modules, metadata)."""
    try:
        files = importlib.metadata.distribution(distribution).files or []
    except importlib.metadata.PackageNotFoundError:
        return set()
    return {file.parts[0] for file in files if file.parts and file.parts[0] != ".."}


def python_without(folder: Path, *distributions: str) -> tuple[list[str], dict[str, str]]:
    """``(command prefix, environment)`` running this interpreter without ``distributions``."""
    hidden = set().union(*(top_level_entries(name) for name in distributions))
    assert hidden, f"none of {distributions} is installed: nothing would be hidden"
    layout = folder / "site-packages"
    layout.mkdir(parents=True)
    for directory in site.getsitepackages():
        for entry in sorted(Path(directory).iterdir()) if Path(directory).is_dir() else []:
            target = layout / entry.name
            if entry.name in hidden or target.exists() or entry.suffix == ".pth":
                continue
            target.symlink_to(entry, target_is_directory=entry.is_dir())
    # an editable install is found through a .pth file, which -S skips: name its folder directly
    package_root = Path(invoicebox_flow.__file__).resolve().parent.parent
    installed = {Path(d).resolve() for d in site.getsitepackages()}
    path = [str(layout)] if package_root in installed else [str(package_root), str(layout)]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INVOICEBOX_", "PYTHON"))}
    env.update(PYTHONPATH=os.pathsep.join(path), PYTHONIOENCODING="utf-8",
               NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    return [sys.executable, "-S"], env
