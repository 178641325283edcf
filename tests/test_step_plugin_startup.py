"""The plugin costs nothing until used: loading it imports no Flask, SQLAlchemy, transitions or
sandbox (``benchmarks/plugin_startup_bench.py`` measures the time); those load with the first
fixture or step a test uses. Without pytest-bdd the fixtures still work, without the steps."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

pytest_plugins = ["pytester"]

HEAVY = ("flask", "werkzeug", "sqlalchemy", "transitions", "requests", "invoicebox_flow.sandbox",
         "invoicebox_flow.engine", "invoicebox_flow.store", "invoicebox_flow.flows")


def test_importing_the_plugin_and_its_modules_imports_nothing_heavy():
    code = textwrap.dedent(f"""
        import importlib, sys
        import pytest
        plugin = importlib.import_module("invoicebox_flow.testing.plugin")
        for name in plugin.LIBRARY:
            importlib.import_module(name)
        assert len(plugin.LIBRARY) > 1, plugin.LIBRARY  # the steps are there
        print(sorted(m for m in {HEAVY!r} if m in sys.modules))
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_an_unrelated_test_run_loads_nothing_heavy(pytester: pytest.Pytester):
    pytester.makepyfile(test_unrelated=f"""
        import sys

        def test_nothing_heavy_was_loaded(request):
            assert request.config.pluginmanager.has_plugin("invoicebox_flow")
            assert sorted(m for m in {HEAVY!r} if m in sys.modules) == []
    """)
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_the_first_fixture_used_loads_the_sandbox(pytester: pytest.Pytester):
    pytester.makepyfile(test_sandbox="""
        import sys

        def test_before():
            assert "invoicebox_flow.sandbox" not in sys.modules

        def test_with_the_sandbox(invoicebox_sandbox):
            assert "invoicebox_flow.sandbox" in sys.modules and invoicebox_sandbox.orders() == []
    """)
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly").assert_outcomes(passed=2)


def test_without_pytest_bdd_the_fixtures_still_work(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    # pytest-bdd is an optional dependency: hide it, and keep pytest from loading its plugin.
    hidden = pytester.mkdir("hidden")
    (hidden / "pytest_bdd").mkdir()
    (hidden / "pytest_bdd" / "__init__.py").write_text('raise ImportError("pytest-bdd is not installed")\n')
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(hidden), os.environ.get("PYTHONPATH")])))
    pytester.makepyfile(test_shop="""
        import sys

        def test_sandbox(invoicebox_sandbox, invoicebox_buyer):
            assert invoicebox_sandbox.orders() == []
            assert not any(name.startswith("invoicebox_flow.testing.steps.") for name in sys.modules)
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:pytest-bdd", "--flow-coverage")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*no scenario used the invoicebox-flow step library*"])
