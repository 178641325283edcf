"""Shared fixtures: a live sandbox, a real SQLite store, the client, and a shop whose
notification endpoint is served over HTTP so InvoiceBox's webhook really travels. The helpers
behind them live in ``helpers.py``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from helpers import FAST_RETRIES, Shop, make_shop

from invoicebox_flow.client import InvoiceboxClient
from invoicebox_flow.engine import OrderFlow
from invoicebox_flow.sandbox import Buyer, Sandbox
from invoicebox_flow.store import Store


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(notification_retry_delays=FAST_RETRIES) as ib:
        yield ib


@pytest.fixture
def store(tmp_path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'flow.db'}")
    yield s
    s.dispose()


@pytest.fixture
def client(sandbox) -> Iterator[InvoiceboxClient]:
    with InvoiceboxClient(sandbox.token, base_url=sandbox.url, timeout=(2.0, 5.0), backoff_base=0.01) as c:
        yield c


@pytest.fixture
def shop(client, store, sandbox) -> Iterator[Shop]:
    s, served = make_shop(client, store, sandbox)
    yield s
    served.close()


@pytest.fixture
def flow(shop) -> OrderFlow:
    return shop.flow


@pytest.fixture
def buyer() -> Buyer:
    return Buyer()


# --- executable specs: trace of every scenario, machine coverage, --trace-diagrams -----------
#
# After each pytest-bdd scenario, the orders it registered in ``spec_orders`` are turned into
# traced messages (invoicebox_flow.tracing.collect) and their fired lifecycle transitions are
# added to a session-wide record. tests/test_trace_matches_definitions.py reads that record; it
# is ordered after every other test so the record is complete when it runs.

import json as _json
import re as _re
from pathlib import Path as _Path

import attrs as _attrs

from invoicebox_flow import tracing as _tracing
from invoicebox_flow.flows import Variant as _Variant
from invoicebox_flow.flows import DOCUMENTED_FLOW as _DOCUMENTED_FLOW
from invoicebox_flow.trace import Trace as _Trace

SPEC_MODULE = "test_specs.py"
SPEC_MODULES = (SPEC_MODULE, "test_reconciliation_specs.py")  # every module running features/
SPEC_COVERAGE_MARK = "spec_coverage"


@_attrs.define
class ScenarioTrace:
    feature: str  # the feature file's name, e.g. "private-payment.feature"
    scenario: str
    trace: _Trace


@_attrs.define
class SpecRecord:
    """What the spec scenarios of this session really did."""

    trace: _Trace = _attrs.Factory(_Trace)
    scenarios: list[ScenarioTrace] = _attrs.Factory(list)
    fired: set = _attrs.Factory(set)  # {(Variant, Transition)}
    errors: list[str] = _attrs.Factory(list)  # collection failures: they make the coverage tests fail
    selected: int = 0  # spec scenarios selected to run in this session
    expected: int = 0  # spec scenarios the feature files define (outline examples counted)

    @property
    def complete(self) -> bool:
        """Every spec scenario was selected to run in this session (failing ones fail on their own)."""
        return self.expected > 0 and self.selected == self.expected

    def to_json(self) -> dict:
        index = {v: list(_DOCUMENTED_FLOW.lifecycle(v).transitions) for v in _Variant}
        return {
            "messages": [_attrs.asdict(m) for m in self.trace.messages()],
            "scenarios": [{"feature": s.feature, "scenario": s.scenario,
                           "messages": [_attrs.asdict(m) for m in s.trace.messages()]} for s in self.scenarios],
            "fired": sorted([v.value, index[v].index(t)] for v, t in self.fired),
            "errors": self.errors,
            "selected": self.selected,
            "expected": self.expected,
        }

    @classmethod
    def from_json(cls, data: dict) -> SpecRecord:
        def trace_of(messages: list[dict]) -> _Trace:
            trace = _Trace()
            for m in messages:
                trace.record(m["sequence"], m["step"], at=m["at"], order_ref=m["order_ref"], source=m["source"],
                             evidence=m["evidence"])
            return trace

        index = {v: list(_DOCUMENTED_FLOW.lifecycle(v).transitions) for v in _Variant}
        return cls(trace=trace_of(data["messages"]),
                   scenarios=[ScenarioTrace(s["feature"], s["scenario"], trace_of(s["messages"]))
                              for s in data["scenarios"]],
                   fired={(_Variant(v), index[_Variant(v)][i]) for v, i in data["fired"]},
                   errors=list(data["errors"]), selected=data["selected"], expected=data["expected"])


_SPEC_RECORD = pytest.StashKey[SpecRecord]()


def pytest_addoption(parser):
    group = parser.getgroup("invoicebox-flow specs")
    group.addoption("--trace-diagrams", metavar="DIR", default=None,
                    help="write the traced Mermaid sequence diagrams of every spec scenario to DIR")
    group.addoption("--spec-record", metavar="FILE", default=None,
                    help="write what the spec scenarios did (trace, fired transitions) to FILE as JSON")


def pytest_configure(config):
    config.stash[_SPEC_RECORD] = SpecRecord()
    config.addinivalue_line("markers", f"{SPEC_COVERAGE_MARK}: checks what the spec scenarios of the session did; "
                                       "runs after every other test")


def _is_spec_item(item) -> bool:
    return item.path.name in SPEC_MODULES


def _defined_scenarios(config) -> int:
    """How many test items the feature files define: one per scenario, one per outline example."""
    from pytest_bdd.feature import get_features

    base = _Path(config.getini("bdd_features_base_dir") or "features")
    base = base if base.is_absolute() else config.rootpath / base
    if not base.is_dir():
        return 0
    count = 0
    for feature in get_features([str(base)]):
        for template in feature.scenarios.values():
            count += sum(len(list(examples.as_contexts())) for examples in template.examples) or 1
    return count


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    """Coverage checks last (after every scenario has been recorded); count the scenarios that
    will run (after -k, -m, node ids, --lf …) against those the feature files define."""
    config.stash[_SPEC_RECORD].selected = sum(1 for item in items if _is_spec_item(item))
    items.sort(key=lambda item: item.get_closest_marker(SPEC_COVERAGE_MARK) is not None)  # stable


@pytest.fixture
def spec_orders() -> list:
    """``(store, sandbox or inspector, shop order id)`` of every order a scenario worked on."""
    return []


@pytest.fixture(scope="session")
def spec_record(request) -> SpecRecord:
    record = request.config.stash[_SPEC_RECORD]
    record.expected = _defined_scenarios(request.config)
    return record


def _scenario_folder(root: _Path, feature, scenario) -> _Path:
    """``<feature>--<scenario name>`` (outline names carry their example), unique in ``root``."""
    base = _re.sub(r"[^\w.-]+", "_", f"{_Path(feature.filename).stem}--{scenario.name}").strip("_")[:120]
    folder, n = root / base, 1
    while folder.exists():
        n += 1
        folder = root / f"{base}-{n}"
    return folder


def pytest_bdd_after_scenario(request, feature, scenario):
    record = request.config.stash[_SPEC_RECORD]
    trace = _Trace()
    try:
        for store, inspector, order_id in request.getfixturevalue("spec_orders"):
            _tracing.collect(trace, store, inspector, order_id)
            record.fired |= _tracing.fired_transitions(store, order_id)
    except Exception as exc:  # noqa: BLE001 — reported by the coverage tests, never swallowed
        record.errors.append(f"{feature.filename}: {scenario.name}: {type(exc).__name__}: {exc}")
    for m in trace.messages():
        record.trace.record(m.sequence, m.step, at=m.at, order_ref=m.order_ref, source=m.source, evidence=m.evidence)
    record.scenarios.append(ScenarioTrace(_Path(feature.filename).name, scenario.name, trace))
    folder = request.config.getoption("--trace-diagrams")
    if folder and trace.messages():
        trace.write(_scenario_folder(_Path(folder), feature, scenario))


def pytest_sessionfinish(session):
    target = session.config.getoption("--spec-record", default=None)
    if target:
        _Path(target).write_text(_json.dumps(session.config.stash[_SPEC_RECORD].to_json(), default=str),
                                encoding="utf-8")
