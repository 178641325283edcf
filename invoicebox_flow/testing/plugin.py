"""The ``invoicebox_flow`` pytest plugin, registered by the package's ``pytest11`` entry point.

It registers the fixtures (:mod:`.fixtures`) and — when pytest-bdd is installed — the Gherkin step
library (:mod:`.steps`), both only where the ``sandbox`` extra (Flask) is installed: without it the
plugin registers nothing but its options, and an environment's other test suites run untouched. It
records what every scenario that used it did, for:

* ``--trace-diagrams DIR`` — the traced Mermaid sequence diagram of every scenario's orders;
* ``--flow-coverage`` — which transitions and documented steps of the shop's flow the scenarios
  exercised, naming each one missed; ``--flow-coverage-fail-under=PCT`` fails the run below PCT %;
* ``--flow-record FILE`` — the whole record as JSON.

The record is per process: with pytest-xdist, run the coverage and the trace without ``-n``.
Loading the plugin costs next to nothing: these modules import no Flask, SQLAlchemy, transitions or
sandbox; those load with the first fixture or step a test uses (``-p no:invoicebox_flow`` turns
the plugin off).
"""

from __future__ import annotations

import importlib
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from .fixtures import RECORD, flow_record, register_markers
from .steps import MODULES as STEP_MODULES

WORLD = "invoicebox_world"
try:  # an optional dependency: without it, the fixtures only
    import pytest_bdd  # noqa: F401 — pytest has usually imported it already (it is a plugin too)
except ImportError:
    HAS_PYTEST_BDD = False
else:
    HAS_PYTEST_BDD = True

# Every fixture and step runs on the sandbox; find_spec only looks Flask up, it does not import it.
HAS_SANDBOX = importlib.util.find_spec("flask") is not None
LIBRARY = ("invoicebox_flow.testing.fixtures", *(STEP_MODULES if HAS_PYTEST_BDD else ())) if HAS_SANDBOX else ()


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    """Register the fixtures and the step library as this plugin is registered: before any
    conftest.py, so that a conftest's own steps take precedence. (Not through ``pytest_plugins``:
    pytest would scan every installed distribution's entry points for each name, ~5 ms apiece.)"""
    for name in LIBRARY:
        if pluginmanager.get_plugin(name) is None:
            pluginmanager.register(importlib.import_module(name), name)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("invoicebox-flow", "invoicebox-flow scenarios")
    group.addoption("--trace-diagrams", metavar="DIR", default=None,
                    help="write the traced Mermaid sequence diagrams of every scenario to DIR")
    group.addoption("--flow-coverage", action="store_true", default=False,
                    help="report which lifecycle transitions and documented steps the scenarios exercised")
    group.addoption("--flow-coverage-fail-under", metavar="PCT", type=float, default=None,
                    help="fail the run when the flow coverage is below PCT percent (implies --flow-coverage)")
    group.addoption("--flow-record", metavar="FILE", default=None,
                    help="write what the scenarios did (traces, fired transitions) to FILE as JSON")


def pytest_configure(config: pytest.Config) -> None:
    register_markers(config)


@pytest.hookimpl(optionalhook=True)
def pytest_bdd_after_scenario(request: pytest.FixtureRequest, feature: Any, scenario: Any) -> None:
    if WORLD not in request.fixturenames:
        return  # the scenario did not use the step library
    from .recording import record_scenario

    record_scenario(flow_record(request.config), feature, scenario, request.getfixturevalue(WORLD),
                    request.config.getoption("--trace-diagrams"))


def _coverage_wanted(config: pytest.Config) -> bool:
    return bool(config.getoption("--flow-coverage") or config.getoption("--flow-coverage-fail-under") is not None)


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    target = config.getoption("--flow-record")
    if target:
        Path(target).write_text(json.dumps(flow_record(config).to_json(), default=str), encoding="utf-8")
    fail_under = config.getoption("--flow-coverage-fail-under")
    if fail_under is None or session.exitstatus != pytest.ExitCode.OK:
        return
    from .coverage import coverage_of

    if coverage_of(flow_record(config)).percent < fail_under:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if not _coverage_wanted(config):
        return
    from .coverage import coverage_of

    terminalreporter.section("invoicebox-flow coverage")
    if RECORD not in config.stash or not flow_record(config).scenarios:
        terminalreporter.write_line("no scenario used the invoicebox-flow step library")
    coverage = coverage_of(flow_record(config))
    for line in coverage.report():
        terminalreporter.write_line(line)
    for error in flow_record(config).errors:
        terminalreporter.write_line(f"tracing failed: {error}")
    fail_under = config.getoption("--flow-coverage-fail-under")
    if fail_under is not None and coverage.percent < fail_under:
        terminalreporter.write_line(f"FAIL: flow coverage {coverage.percent:.1f} % is below {fail_under:g} %",
                                    red=True)
