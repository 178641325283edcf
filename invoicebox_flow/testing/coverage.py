"""Flow coverage: which lifecycle transitions and which documented steps of the shop's flow the
scenarios exercised, naming each one they missed (``pytest --flow-coverage``).

What there is to cover comes from ONE function, :func:`flow_elements`, given the shop's
:class:`~invoicebox_flow.OrderFlow`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from .. import flows
from ..flows import DOCUMENTED_FLOW, Transition, Variant
from ..trace import Trace
from ..tracing import describe_transition

Key = tuple[Variant, Transition]


@dataclass(frozen=True)
class FlowElements:
    """The transitions (per buyer variant) and documented steps (``(sequence, number)``) of a
    flow, with how each transition is named in reports."""

    transitions: frozenset[Key]
    steps: frozenset[tuple[str, int]]
    names: Mapping[Key, str] = field(default_factory=dict, compare=False)

    def __or__(self, other: FlowElements) -> FlowElements:
        return FlowElements(self.transitions | other.transitions, self.steps | other.steps,
                            {**self.names, **other.names})

    def name(self, key: Key) -> str:
        return self.names.get(key) or describe_transition(DOCUMENTED_FLOW.lifecycle(key[0]), key[1])

    def to_json(self) -> dict[str, Any]:
        return {"transitions": sorted(self.name(key) for key in self.transitions),
                "steps": sorted([name, number] for name, number in self.steps)}

    @classmethod
    def from_json(cls, data: dict[str, Any], every: FlowElements | None = None) -> FlowElements:
        every = every or flow_elements(None)
        by_name = {every.name(key): key for key in every.transitions}
        chosen = frozenset(by_name[name] for name in data["transitions"])
        return cls(chosen, frozenset((name, number) for name, number in data["steps"]),
                   {key: every.name(key) for key in chosen})


def flow_elements(flow: Any = None) -> FlowElements:
    """What the scenarios of a shop whose flow is ``flow`` should exercise: every transition of
    its definition (``flow.definition``; the documented flow without a flow), the integrator's
    own states included, and every documented step."""
    definition = getattr(flow, "definition", None) or DOCUMENTED_FLOW
    names = {(lc.variant, tr): describe_transition(lc, tr) for lc in definition for tr in lc.transitions}
    steps = frozenset((seq.name, step.number) for lc in definition for seq in lc.sequences for step in seq.steps)
    return FlowElements(frozenset(names), steps, names)


@dataclass(frozen=True)
class FlowCoverage:
    elements: FlowElements
    fired: frozenset[tuple[Variant, Transition]]
    seen: frozenset[tuple[str, int]]

    @property
    def missed_transitions(self) -> list[str]:
        return sorted(self.elements.name(key) for key in self.elements.transitions - self.fired)

    @property
    def missed_steps(self) -> list[str]:
        texts = {(seq.name, step.number): f"{seq.step_id(step)}: {step.sender} → {step.receiver}: {step.text}"
                 for seq in flows.SEQUENCES for step in seq.steps}
        return [texts.get(key, f"{key[0]}#{key[1]}") for key in sorted(self.elements.steps - self.seen)]

    @property
    def total(self) -> int:
        return len(self.elements.transitions) + len(self.elements.steps)

    @property
    def covered(self) -> int:
        return self.total - len(self.missed_transitions) - len(self.missed_steps)

    @property
    def percent(self) -> float:
        return 100.0 * self.covered / self.total if self.total else 100.0

    def report(self) -> list[str]:
        """The terminal report: counts, then every element missed."""
        transitions = len(self.elements.transitions)
        steps = len(self.elements.steps)
        lines = [f"transitions exercised: {transitions - len(self.missed_transitions)} of {transitions}",
                 f"documented steps exercised: {steps - len(self.missed_steps)} of {steps}",
                 f"flow coverage: {self.percent:.1f} %"]
        if self.missed_transitions:
            lines += ["transitions no scenario exercised:", *(f"  {m}" for m in self.missed_transitions)]
        if self.missed_steps:
            lines += ["documented steps no scenario exercised:", *(f"  {m}" for m in self.missed_steps)]
        return lines


class RecordedScenario(Protocol):
    @property
    def trace(self) -> Trace: ...

    @property
    def fired(self) -> set[tuple[Variant, Transition]]: ...


class Record(Protocol):
    """What coverage needs of a :class:`~.recording.FlowRecord`."""

    @property
    def scenarios(self) -> list[Any]: ...

    @property
    def elements(self) -> FlowElements | None: ...


def coverage_of(record: Record, scenarios: Iterable[RecordedScenario] | None = None) -> FlowCoverage:
    """The coverage of ``record`` (or of some of its ``scenarios``) against its shops' flows."""
    chosen = record.scenarios if scenarios is None else list(scenarios)
    fired = frozenset().union(*(s.fired for s in chosen)) if chosen else frozenset()
    seen = frozenset().union(*(s.trace.steps_seen() for s in chosen)) if chosen else frozenset()
    return FlowCoverage(record.elements or flow_elements(None), fired, seen)
