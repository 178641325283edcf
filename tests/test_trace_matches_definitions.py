"""The diagrams cannot lie: what the spec scenarios really did draws the documented diagrams,
and every lifecycle transition and documented step was exercised by some scenario.

The record is the ``invoicebox_flow`` plugin's (:class:`invoicebox_flow.testing.recording.FlowRecord`),
of the scenarios of ``test_specs.py`` run in this session (the conftest orders these tests
after them). When this module runs without all of them — alone, or with some scenarios
deselected — it runs the whole spec suite in a subprocess (``--flow-record``) and reads what
that run recorded, so a verdict is never drawn from a partial run.
"""

from __future__ import annotations

import difflib
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytest_bdd.feature import get_features

from invoicebox_flow.diagrams import render_sequence
from invoicebox_flow.flows import DOCUMENTED_FLOW, SEQUENCES, State, Variant, sequence
from invoicebox_flow.store import JournalEntry
from invoicebox_flow.testing.coverage import coverage_of, flow_elements
from invoicebox_flow.testing.recording import FlowRecord
from invoicebox_flow.trace import Trace
from invoicebox_flow.tracing import event_steps, fired_transitions, journal_steps

SPEC_MODULE = Path("tests") / "test_specs.py"
SPEC_TIMEOUT = 600  # seconds for the whole spec suite in a subprocess; it normally takes under a minute
pytestmark = pytest.mark.xdist_group("specs")  # with test_specs.py: one worker runs both (conftest.py)


def _features_dir(config: pytest.Config) -> Path:
    base = Path(config.getini("bdd_features_base_dir") or "features")
    return base if base.is_absolute() else config.rootpath / base


def _defined_scenarios(features: Path) -> int:
    """How many test items the feature files define: one per scenario, one per outline example."""
    count = 0
    for feature in get_features([str(features)]):
        for template in feature.scenarios.values():
            count += sum(len(list(examples.as_contexts())) for examples in template.examples) or 1
    return count


def _run_specs(root: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", str(SPEC_MODULE), "-q", "-p", "no:cacheprovider",
         "-p", "no:randomly", f"--flow-record={out}", *extra],
        cwd=root, capture_output=True, text=True, timeout=SPEC_TIMEOUT, check=False,
    )


@pytest.fixture(scope="module")
def record(invoicebox_flow_record: FlowRecord, spec_scenarios_run: int, request, tmp_path_factory) -> FlowRecord:
    """The record of every scenario of ``features/`` (this session's when it ran them all)."""
    features = _features_dir(request.config)
    expected = _defined_scenarios(features)
    if expected and spec_scenarios_run == expected:
        ran = invoicebox_flow_record
    else:
        out = tmp_path_factory.mktemp("flow-record") / "record.json"
        done = _run_specs(request.config.rootpath, out)
        if not out.exists():
            pytest.fail(f"the spec suite did not run (exit {done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
        ran = FlowRecord.from_json(json.loads(out.read_text(encoding="utf-8")))
        if done.returncode != 0:
            summary = [line for line in done.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
            ran.errors.append("spec scenarios failed in the subprocess run:\n"
                              + "\n".join(summary or [done.stdout[-2000:]]))
    ours = FlowRecord(errors=list(ran.errors))  # only the scenarios of features/, whoever else ran
    for scenario in ran.scenarios:
        if Path(scenario.path).resolve().parent == features.resolve():
            ours.add(scenario, ran.elements or flow_elements(None))
    return ours


def _diff(expected: str, drawn: str) -> str:
    return "\n".join(difflib.unified_diff(expected.splitlines(), drawn.splitlines(), "documented", "traced",
                                          lineterm=""))


# --- the trace of what ran equals the generated diagram ------------------------------------


@pytest.mark.spec_coverage
@pytest.mark.parametrize("seq", SEQUENCES, ids=lambda s: s.name)
def test_a_traced_run_draws_the_documented_diagram(record: FlowRecord, seq):
    expected = render_sequence(seq)
    runs = record.trace.runs(seq.name)
    assert runs, f"no scenario ran any step of {seq.name}"
    drawn = [record.trace.render(seq, run) for run in runs]
    if expected not in drawn:
        closest = max(drawn, key=lambda d: difflib.SequenceMatcher(None, expected, d).ratio())
        pytest.fail(f"no traced run of {seq.name} draws the documented diagram; the closest:\n"
                    + _diff(expected, closest))


@pytest.mark.spec_coverage
@pytest.mark.parametrize("seq", SEQUENCES, ids=lambda s: s.name)
def test_every_scenario_of_a_documented_sequence_runs_it_exactly(record: FlowRecord, seq):
    """Each scenario of ``features/<sequence>.feature`` ran every documented step once, in order."""
    feature = f"{seq.name}.feature"
    scenarios = [s for s in record.scenarios if s.feature == feature]
    assert scenarios, f"no scenario of {feature} ran"
    expected = render_sequence(seq)
    for scenario in scenarios:
        runs = scenario.trace.runs(seq.name)
        assert runs, f"{feature}: {scenario.scenario!r} ran no step of {seq.name}"
        for run in runs:
            drawn = scenario.trace.render(seq, run)
            assert drawn == expected, (f"{feature}: {scenario.scenario!r} (order {run[0].order_ref}) "
                                       f"drew another diagram:\n{_diff(expected, drawn)}")


# --- coverage of the machines and of the documented steps --------------------------------


@pytest.mark.spec_coverage
def test_the_record_is_sound(record: FlowRecord):
    assert not record.errors, "\n".join(record.errors)


@pytest.mark.spec_coverage
def test_every_lifecycle_transition_is_exercised_by_a_scenario(record: FlowRecord):
    missing = coverage_of(record).missed_transitions
    assert not missing, "no scenario exercised these transitions:\n  " + "\n  ".join(missing)


@pytest.mark.spec_coverage
def test_every_documented_step_is_exercised_by_a_scenario(record: FlowRecord):
    missing = coverage_of(record).missed_steps
    assert not missing, "no scenario exercised these documented steps:\n  " + "\n  ".join(missing)


# --- the option that writes the traces for reading -----------------------------------------


def test_trace_diagrams_option_writes_each_scenario_trace(request, tmp_path):
    folder = tmp_path / "traces"
    node = f"{SPEC_MODULE}::test_физическое_лицо_оплачивает_заказ_корзина"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", node, "-q", "-p", "no:cacheprovider", f"--trace-diagrams={folder}"],
        cwd=request.config.rootpath, capture_output=True, text=True, timeout=SPEC_TIMEOUT, check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    pages = sorted(folder.rglob("private-payment--*.md"))
    assert len(pages) == 2, sorted(p.relative_to(folder) for p in folder.rglob("*"))  # one per example
    assert len({p.parent for p in pages}) == 2, "each scenario has its own folder"
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "Equals the documented diagram: yes." in text
        assert render_sequence(sequence("private-payment")).rstrip("\n") in text


# --- how journal entries and sandbox events become steps (no sandbox needed) ----------------


def _entry(trigger: str, from_state: State, to_state: State, outcome: str = "ok") -> JournalEntry:
    return JournalEntry(order_id="A-1", trigger=trigger, from_state=from_state, to_state=to_state, actor="shop",
                        outcome=outcome, at=datetime.now(UTC))


def test_send_documents_is_the_shipment_or_the_refund_step_by_the_state_it_left():
    steps = journal_steps(DOCUMENTED_FLOW.legal, [_entry("send_documents", State.SHIPPED, State.SHIPPED),
                                          _entry("send_documents", State.REFUNDED, State.REFUNDED)])
    assert [(seq.name, step.number) for seq, step, _ in steps] == [("legal-shipment", 3), ("legal-refund", 6)]


def test_only_the_first_trigger_of_a_step_is_the_step():
    steps = journal_steps(DOCUMENTED_FLOW.private, [
        _entry("request_shipment", State.PAID, State.SHIPMENT_REQUESTED),
        _entry("shipment_accepted", State.SHIPMENT_REQUESTED, State.SHIPPED),  # the outcome of step 1
        _entry("confirm_payment", State.AWAITING_PAYMENT, State.PAID),
        _entry("buyer_returned", State.BUYER_REDIRECTED, State.AWAITING_PAYMENT),  # not drawn
    ])
    assert [(seq.name, step.number) for seq, step, _ in steps] == [("private-shipment", 1), ("private-payment", 10)]


def test_documents_go_to_the_phase_their_event_names():
    events = [
        {"seq": 1, "at": 1.0, "effect": "documents_delivered", "receipt": None, "detail": {"kinds": ["transfer_report"]}},
        {"seq": 2, "at": 2.0, "effect": "documents_delivered", "receipt": None,
         "detail": {"kinds": ["refund_transfer_report"], "refundId": "r-1"}},
        {"seq": 3, "at": 3.0, "effect": "receipt_registered", "receipt": "refund", "detail": {}},
        {"seq": 4, "at": 4.0, "effect": "not_a_documented_effect", "receipt": None, "detail": {}},
    ]
    legal = [(seq.name, step.number) for seq, step, _ in event_steps(DOCUMENTED_FLOW.legal, events)]
    private = [(seq.name, step.number) for seq, step, _ in event_steps(DOCUMENTED_FLOW.private, events)]
    assert legal == [("legal-shipment", 2), ("legal-refund", 5)]
    assert private == [("private-refund", 5)]


class _Journal:
    def __init__(self, variant: Variant, entries: list[JournalEntry]):
        self.variant, self.entries = variant, entries

    def get(self, order_id: str):
        return type("Record", (), {"variant": self.variant.value, "invoicebox_id": None})()

    def journal(self, order_id: str) -> list[JournalEntry]:
        return self.entries


def test_failed_attempts_that_changed_nothing_fire_no_transition():
    store = _Journal(Variant.PRIVATE, [
        _entry("place", State.NEW, State.ORDER_PLACED),
        _entry("request_invoice", State.ORDER_PLACED, State.INVOICE_REQUESTED),
        _entry("request_invoice", State.INVOICE_REQUESTED, State.INVOICE_REQUESTED, outcome="failed"),  # pending
        _entry("invoice_failed", State.INVOICE_REQUESTED, State.ORDER_PLACED, outcome="failed"),  # refused: fired
        _entry("update", State.PAYMENT_LINK_ISSUED, State.PAYMENT_LINK_ISSUED, outcome="failed"),
    ])
    assert sorted(t.trigger for _, t in fired_transitions(store, "A-1")) == ["invoice_failed", "place",
                                                                             "request_invoice"]


def test_a_run_missing_a_step_draws_another_diagram():
    """What makes the equality check worth having: a skipped step shows."""
    seq = sequence("legal-shipment")
    trace = Trace()
    for number, at in ((1, 1.0), (3, 2.0)):
        trace.record(seq.name, number, at=at, order_ref="A-1", source="journal")
    [run] = trace.runs(seq.name)
    assert trace.render(seq, run) != render_sequence(seq)
