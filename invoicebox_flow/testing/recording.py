"""What the session's scenarios really did: the traced messages of every order a scenario worked
on (:func:`invoicebox_flow.tracing.collect`), the lifecycle transitions they fired, and the
flow elements (:func:`.coverage.flow_elements`) their shops consist of.

The plugin records each scenario that used the step library after it ran; ``--trace-diagrams
DIR`` writes its traced Mermaid diagrams, ``--flow-record FILE`` the whole record as JSON (read
back with :meth:`FlowRecord.from_json`), ``--flow-coverage`` reports from it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import attrs

from .. import tracing
from ..flows import DOCUMENTED_FLOW, Transition, Variant
from ..trace import Trace
from .coverage import FlowElements, flow_elements

Fired = set[tuple[Variant, Transition]]


@attrs.define
class ScenarioTrace:
    """One scenario: its feature file, its name, its trace and the transitions it fired."""

    feature: str  # the feature file's name, e.g. "private-payment.feature"
    scenario: str
    trace: Trace
    fired: Fired = attrs.Factory(set)
    path: str = ""  # the feature file's full path


@attrs.define
class FlowRecord:
    """What the scenarios of this session did."""

    trace: Trace = attrs.Factory(Trace)
    scenarios: list[ScenarioTrace] = attrs.Factory(list)
    errors: list[str] = attrs.Factory(list)  # tracing failures: reported, never swallowed
    elements: FlowElements | None = None  # what the scenarios' shops consist of (None: no scenario yet)

    @property
    def fired(self) -> Fired:
        return set().union(*(s.fired for s in self.scenarios)) if self.scenarios else set()

    def add(self, scenario: ScenarioTrace, elements: FlowElements) -> None:
        self.scenarios.append(scenario)
        self.elements = elements if self.elements is None else self.elements | elements
        for m in scenario.trace.messages():
            self.trace.record(m.sequence, m.step, at=m.at, order_ref=m.order_ref, source=m.source,
                              evidence=m.evidence)

    def to_json(self) -> dict[str, Any]:
        elements = self.elements or flow_elements(None)
        return {
            "scenarios": [{"feature": s.feature, "path": s.path, "scenario": s.scenario,
                           "messages": [attrs.asdict(m) for m in s.trace.messages()],
                           "fired": sorted(elements.name(key) for key in s.fired)}
                          for s in self.scenarios],
            "errors": self.errors,
            "elements": elements.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FlowRecord:
        elements = FlowElements.from_json(data["elements"])
        by_name = {elements.name(key): key for key in elements.transitions}
        record = cls(errors=list(data["errors"]))
        for s in data["scenarios"]:
            trace = Trace()
            for m in s["messages"]:
                trace.record(m["sequence"], m["step"], at=m["at"], order_ref=m["order_ref"], source=m["source"],
                             evidence=m["evidence"])
            record.add(ScenarioTrace(s["feature"], s["scenario"], trace, {by_name[f] for f in s["fired"]}, s["path"]),
                       elements)
        record.elements = elements
        return record


def record_scenario(record: FlowRecord, feature: Any, scenario: Any, world: Any, trace_dir: str | None) -> None:
    """Trace the orders the scenario's ``world`` worked on and add them to ``record``."""
    trace, fired = Trace(), set()
    try:
        definition = world.flow.definition if world.traced else DOCUMENTED_FLOW
        for store, inspector, order_id in world.traced:
            tracing.collect(trace, store, inspector, order_id, definition)
            fired |= tracing.fired_transitions(store, order_id, definition)
    except Exception as exc:  # noqa: BLE001 — reported by the coverage, never swallowed
        record.errors.append(f"{feature.filename}: {scenario.name}: {type(exc).__name__}: {exc}")
    elements = flow_elements(world.flow if world.traced else None)
    record.add(ScenarioTrace(Path(feature.filename).name, scenario.name, trace, fired, str(feature.filename)),
               elements)
    if trace_dir and trace.messages():
        trace.write(scenario_folder(Path(trace_dir), feature.filename, scenario.name))


def scenario_folder(root: Path, feature_file: str, scenario_name: str) -> Path:
    """``<feature>--<scenario name>`` (outline names carry their example), unique in ``root``."""
    base = re.sub(r"[^\w.-]+", "_", f"{Path(feature_file).stem}--{scenario_name}").strip("_")[:120]
    folder, n = root / base, 1
    while folder.exists():
        n += 1
        folder = root / f"{base}-{n}"
    return folder
