"""What the distribution declares and ships: lean core dependencies, one extra per feature, a
version from one place, and an sdist that carries (and passes) its own tests."""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

import pytest

import invoicebox_flow
from invoicebox_flow.extras import EXTRAS, MissingExtraError, install_command

REPO = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]
SOURCE_IGNORED = shutil.ignore_patterns(".venv", ".git", "__pycache__", "build", "dist", "*.egg-info",
                                        ".pytest_cache", ".hypothesis", "*.db", "*.db-*", "demo-diagrams", "svg")
BUILD_TIMEOUT = 300  # a safety net, not a speed check


def requirement_names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\[<>=!~; ]", req, maxsplit=1)[0].lower() for req in requirements}


def test_the_core_install_has_no_web_stack_server_database_driver_or_renderer():
    core = requirement_names(PROJECT["dependencies"])
    for heavy in ("flask", "werkzeug", "waitress", "psycopg", "mermaidx", "jinja2"):
        assert heavy not in core
    assert {"requests", "sqlalchemy", "transitions", "attrs", "click"} <= core


def test_every_feature_extra_is_declared_and_all_and_test_include_them():
    extras = PROJECT["optional-dependencies"]
    assert set(EXTRAS) <= set(extras)
    for name in ("all", "test"):
        [combined] = [req for req in extras[name] if req.startswith("invoicebox-flow[")]
        assert set(combined[len("invoicebox-flow["):-1].split(",")) == set(EXTRAS), name
    assert {"pytest", "mypy", "ruff", "build"} <= requirement_names(extras["test"])


def test_the_missing_extra_message_says_what_to_install():
    error = MissingExtraError("postgres")
    assert isinstance(error, ImportError)
    assert str(error) == "a PostgreSQL store needs the 'postgres' extra: pip install 'invoicebox-flow[postgres]'"
    assert install_command("svg") == "pip install 'invoicebox-flow[svg]'"


def test_the_version_is_written_once_and_is_the_installed_metadata():
    assert PROJECT["dynamic"] == ["version"] and "version" not in PROJECT
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "invoicebox_flow._version.__version__"}
    assert invoicebox_flow.__version__ == importlib.metadata.version("invoicebox-flow")
    assert re.fullmatch(r"\d+\.\d+\.\d+", invoicebox_flow.__version__)


def test_the_metadata_names_licence_python_and_typing():
    metadata = importlib.metadata.metadata("invoicebox-flow")
    assert metadata["License-Expression"] == "MIT"
    classifiers = metadata.get_all("Classifier") or []
    assert "Typing :: Typed" in classifiers and "Programming Language :: Python :: 3.11" in classifiers
    assert (Path(invoicebox_flow.__file__).parent / "py.typed").is_file()


def build_sdist(tmp_path: Path) -> Path:
    """``python -m build --sdist`` of a clean copy of the project (the build writes metadata next
    to the sources); returns the archive."""
    source = tmp_path / "source"
    shutil.copytree(REPO, source, ignore=SOURCE_IGNORED)
    result = subprocess.run([sys.executable, "-m", "build", "--sdist", "--no-isolation", "--outdir",
                             str(tmp_path / "dist"), str(source)], check=False, capture_output=True, text=True,
                            timeout=BUILD_TIMEOUT)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    [archive] = (tmp_path / "dist").glob("invoicebox_flow-*.tar.gz")
    return archive


@pytest.fixture(scope="module")
def sdist(tmp_path_factory) -> tuple[Path, set[str]]:
    """The built sdist and the paths in it (relative to its top folder)."""
    archive = build_sdist(tmp_path_factory.mktemp("sdist"))
    with tarfile.open(archive) as tar:
        names = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    return archive, names


def project_files(folder: str, pattern: str = "*") -> set[str]:
    return {p.relative_to(REPO).as_posix() for p in (REPO / folder).rglob(pattern)
            if p.is_file() and "__pycache__" not in p.parts}


def test_the_sdist_carries_the_test_suite_and_what_it_reads(sdist):
    _, names = sdist
    assert project_files("tests", "*.py") <= names  # conftest.py, db_fixtures.py, reference_bodies.py, …
    assert project_files("tests/data") <= names
    assert project_files("features") <= names
    assert project_files("examples/bookshop/features") <= names  # the step vocabulary test reads them
    assert project_files("diagrams", "*.md") <= names  # the staleness test compares them
    assert {"pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md", "invoicebox_flow/py.typed"} <= names
    assert not any(name.endswith((".pyc", ".db")) or "/__pycache__/" in name for name in names)


@pytest.mark.slow  # unpacks the sdist and runs part of its suite: about a minute
def test_the_unpacked_sdist_runs_its_own_tests(sdist, tmp_path):
    archive, _ = sdist
    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path, filter="data")
    [unpacked] = [p for p in tmp_path.iterdir() if p.is_dir()]
    env = {k: v for k, v in os.environ.items() if not k.startswith("INVOICEBOX_")}
    env["PYTHONPATH"] = str(unpacked)  # its own package, ahead of the installed one
    where = subprocess.run([sys.executable, "-c", "import invoicebox_flow; print(invoicebox_flow.__file__)"],
                           cwd=unpacked, env=env, check=False, capture_output=True, text=True, timeout=60)
    assert Path(where.stdout.strip()).resolve().is_relative_to(unpacked.resolve()), where.stdout + where.stderr
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not slow",
                             "tests/test_money.py", "tests/test_diagrams.py", "tests/test_readme.py"],
                            cwd=unpacked, env=env, check=False, capture_output=True, text=True, timeout=BUILD_TIMEOUT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert re.search(r"\d+ passed", result.stdout)
