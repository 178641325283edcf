"""``import invoicebox_flow`` is light, its public names resolve on first use, and the core
install works without any extra while each extra's feature says what to install."""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from environments import CORE_ONLY, EXTRA_DISTRIBUTIONS, python_without

import invoicebox_flow

INIT = Path(invoicebox_flow.__file__)
HEAVY = ("sqlalchemy", "flask", "werkzeug", "transitions", "requests", "waitress", "psycopg")
RUN_TIMEOUT = 120  # a safety net, not a speed check


def fresh_modules(code: str, *, prefix: list[str] | None = None, env: dict[str, str] | None = None) -> dict:
    """Run ``code`` in a fresh interpreter, then report which of HEAVY it had imported."""
    probe = code + f"\nimport json, sys\nprint(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))"
    result = subprocess.run([*(prefix or [sys.executable]), "-c", probe], check=False, capture_output=True, text=True, env=env,
                            timeout=RUN_TIMEOUT)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def type_checking_imports() -> dict[str, str]:
    """``{name: module}`` imported under ``if TYPE_CHECKING:`` in the package's ``__init__``."""
    tree = ast.parse(INIT.read_text(encoding="utf-8"))
    [block] = [node for node in tree.body if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING"]
    return {alias.name: node.module or "" for node in block.body if isinstance(node, ast.ImportFrom)
            for alias in node.names}


def test_every_name_in_all_resolves_to_the_module_the_table_names():
    for name, module in invoicebox_flow._EXPORTS.items():
        assert getattr(invoicebox_flow, name) is getattr(importlib.import_module(f"invoicebox_flow.{module}"), name)
    assert invoicebox_flow.__version__
    with pytest.raises(AttributeError, match="no attribute 'NoSuchThing'"):
        invoicebox_flow.NoSuchThing  # noqa: B018


def test_all_the_lazy_table_and_the_type_checking_imports_name_the_same_things():
    exports = invoicebox_flow._EXPORTS
    assert set(invoicebox_flow.__all__) == set(exports) | {"__version__"}
    assert type_checking_imports() == exports
    assert set(invoicebox_flow.__all__) <= set(dir(invoicebox_flow))


def test_importing_the_package_imports_nothing_heavy():
    assert not any(fresh_modules("import invoicebox_flow").values())


def test_heavy_dependencies_load_only_with_the_names_that_need_them():
    client_only = fresh_modules("from invoicebox_flow import InvoiceboxClient, ValidationError, basket_line")
    assert client_only["requests"]
    assert not client_only["sqlalchemy"] and not client_only["transitions"] and not client_only["flask"]
    engine = fresh_modules("from invoicebox_flow import OrderFlow, Store, make_wsgi_app")
    assert engine["sqlalchemy"] and engine["transitions"]
    assert not engine["flask"] and not engine["werkzeug"] and not engine["waitress"]


@pytest.fixture(scope="module")
def core_only(tmp_path_factory) -> tuple[list[str], dict[str, str]]:
    """This interpreter without any extra's distributions: what `pip install invoicebox-flow` gives."""
    return python_without(tmp_path_factory.mktemp("core"), *CORE_ONLY)


def test_the_whole_public_api_works_without_any_extra(core_only):
    prefix, env = core_only
    loaded = fresh_modules("import invoicebox_flow as f\nfor n in f.__all__: getattr(f, n)\n"
                           "f.Store('sqlite://').counts()", prefix=prefix, env=env)
    assert loaded["sqlalchemy"] and not loaded["flask"]


def test_importing_the_sandbox_without_its_extra_is_a_clear_import_error(core_only):
    prefix, env = core_only
    code = ("try:\n    import invoicebox_flow.sandbox\nexcept ImportError as exc:\n"
            "    print(type(exc).__name__, exc, sep=': ')\n")
    result = subprocess.run([*prefix, "-c", code], check=False, capture_output=True, text=True, env=env, timeout=RUN_TIMEOUT)
    assert result.stdout.strip() == ("MissingExtraError: the local sandbox needs the 'sandbox' extra: "
                                     "pip install 'invoicebox-flow[sandbox]'"), result.stderr


def test_pytest_still_starts_where_the_sandbox_plugin_cannot_load(tmp_path):
    """The plugin's entry point is installed with the core; without Flask it must register nothing,
    not break every test suite of the environment."""
    prefix, env = python_without(tmp_path / "env", *EXTRA_DISTRIBUTIONS["sandbox"][:2])  # Flask, Werkzeug
    (tmp_path / "test_shop.py").write_text("def test_shop(request):\n"
                                           "    assert 'invoicebox_sandbox' not in request.fixturenames\n")
    result = subprocess.run([*prefix, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--fixtures", "test_shop.py"],
                            cwd=tmp_path, check=False, capture_output=True, text=True, env=env, timeout=RUN_TIMEOUT)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "invoicebox_sandbox" not in result.stdout
    result = subprocess.run([*prefix, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_shop.py"],
                            cwd=tmp_path, check=False, capture_output=True, text=True, env=env, timeout=RUN_TIMEOUT)
    assert result.returncode == 0 and "1 passed" in result.stdout, result.stdout[-2000:] + result.stderr[-2000:]


def test_with_the_extra_the_plugin_provides_its_fixtures(tmp_path):
    (tmp_path / "test_shop.py").write_text("def test_shop():\n    pass\n")
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--fixtures",
                             "test_shop.py"], cwd=tmp_path, check=False, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    assert result.returncode == 0, result.stderr
    for fixture in ("invoicebox_sandbox", "invoicebox_sandbox_session", "invoicebox_buyer"):
        assert fixture in result.stdout
