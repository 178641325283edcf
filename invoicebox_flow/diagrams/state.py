"""Mermaid ``stateDiagram-v2`` of a lifecycle machine, drawn from the machine or its data.

Every transition the machine can take is an edge ``source --> dest : label``: one edge per
source, one per possible destination of a transition whose destination is chosen at run time
(a refund ends partially or fully refunded; a refused call returns where it started), and a self-loop for an internal transition (the trigger runs, the
state stays; a state's internal transitions share one loop, one label line each). The label is
the trigger, its guard if it has one, and the documented step it carries out — ``place (шаг 1)``
— ``(вне схемы)`` for a path the documented diagrams do not draw, ``(шаг магазина)`` for an
integrator's own step.

``transitions`` can draw Mermaid state diagrams itself (``GraphMachine(graph_engine="mermaid")``),
but not for a ``model=None`` machine (``get_graph`` needs a model), it colours the model's
current state and cannot mark documented steps; drawing from the machine's own events keeps
the output small, ordered and checkable line by line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs
from transitions import Machine

from ..flows import Lifecycle, Origin, Phase, Transition
from ..flows.machines import machine_items, target_condition
from ..flows.states import REFUNDABLE, SHIPPABLE, UNPAID_AT_INVOICEBOX
from .layout import LOOP_SEPARATOR, Arc, Layout, bundle, joins_two_insides, render, shared_states

UNDRAWN = "вне схемы"
EXTENSION = "шаг магазина"
# The documented groups of states (declared with the transitions) as composites: id, title.
GROUP_TITLES = {
    frozenset(UNPAID_AT_INVOICEBOX): ("unpaid_at_invoicebox", "у ИнвойсБокса, не оплачен"),
    frozenset(REFUNDABLE): ("refundable", "можно вернуть деньги"),
    frozenset(SHIPPABLE): ("shippable", "можно отгрузить"),
}
PHASE_WORDS = {Phase.PAYMENT: "оплата", Phase.SHIPMENT: "отгрузка", Phase.REFUND: "возврат"}


@attrs.frozen
class Edge:
    """One drawable move of a machine."""

    trigger: str
    source: str
    dest: str | None  # None: internal transition, drawn as a self-loop
    conditions: tuple[str, ...] = ()

    @property
    def target(self) -> str:
        return self.source if self.dest is None else self.dest


def edges_of_machine(machine: Machine, rank: Mapping[str, int]) -> list[Edge]:
    """Every transition of a `transitions` machine, trigger by trigger."""
    edges = []
    for name, event in machine.events.items():
        for source, moves in event.transitions.items():
            for move in moves:
                conditions = tuple(str(c.func) if c.target else f"not {c.func}" for c in move.conditions)
                edges.append(Edge(name, source, move.dest, conditions))
    return _ordered(edges, rank)


def edges_of_transitions(lifecycle: Lifecycle, transitions: Iterable[Transition]) -> list[Edge]:
    """The same edges, from the lifecycle's :class:`Transition` data (as the machine is built)."""
    edges = []
    for tr in transitions:
        for item in machine_items(lifecycle, tr):
            for source in item["source"]:
                edges.append(Edge(tr.trigger, source, item["dest"], tuple(item.get("conditions", ()))))
    return _ordered(edges, state_rank(lifecycle))


def state_rank(lifecycle: Lifecycle) -> dict[str, int]:
    """States in the lifecycle's order: the order edges are drawn in."""
    return {name: i for i, name in enumerate(lifecycle.state_names)}


def _ordered(edges: list[Edge], rank_of: Mapping[str, int]) -> list[Edge]:
    """Triggers in definition order; within a trigger, sources then destinations in lifecycle order.

    A machine groups a trigger's moves by source while the data lists them by destination; this
    makes both give the same lines.
    """
    first_seen: dict[str, int] = {}
    for edge in edges:
        first_seen.setdefault(edge.trigger, len(first_seen))

    def rank(state: str) -> tuple[int, str]:
        return (rank_of.get(state, len(rank_of)), state)

    return sorted(edges, key=lambda e: (first_seen[e.trigger], rank(e.source), rank(e.target)))


def step_marks(transitions: Iterable[Transition], *, name_phase: bool | None = None) -> dict[tuple[str, str], list[str]]:
    """``(trigger, source) -> ["шаг 3", …]`` from the lifecycle's own declarations.

    A trigger can carry different steps from different states (``send_documents`` is shipment
    step 3 from ``shipped`` and refund step 6 from ``refunded``), so marks are per source. The
    phase is named when ``name_phase`` says so, by default when the transitions span more than one
    phase (a whole lifecycle).
    """
    transitions = tuple(transitions)
    several_phases = len({tr.phase for tr in transitions}) > 1 if name_phase is None else name_phase
    marks: dict[tuple[str, str], list[str]] = {}
    for tr in transitions:
        if tr.origin is Origin.EXTENSION:
            mark = EXTENSION
        elif tr.origin is Origin.UNDRAWN or tr.step is None or tr.phase is None:
            mark = UNDRAWN
        elif several_phases:
            mark = f"{PHASE_WORDS[tr.phase]}, шаг {tr.step}"
        else:
            mark = f"шаг {tr.step}"
        for source in tr.sources:
            found = marks.setdefault((tr.trigger, source), [])
            if mark not in found:
                found.append(mark)
    return marks


def edge_label(edge: Edge, marks: Mapping[tuple[str, str], list[str]]) -> str:
    # A guard that only selects this edge's own destination says nothing the arrow does not.
    guards = [c for c in edge.conditions if c != target_condition(edge.target)]
    label = edge.trigger + (f" [{', '.join(guards)}]" if guards else "")
    return f"{label} ({' / '.join(marks.get((edge.trigger, edge.source)) or [UNDRAWN])})"


def render_state_diagram(
    lifecycle: Lifecycle,
    title: str,
    *,
    transitions: Iterable[Transition] | None = None,
    machine: Machine | None = None,
    initial: str | None = None,
    phase: Phase | None = None,
) -> str:
    """A Mermaid ``stateDiagram-v2`` of a lifecycle, or of some of its transitions (a phase).

    Every transition is drawn: edges come from the transition data, or from ``machine`` (built
    from the same data: both give the same lines, which the tests check), and are labelled with
    the documented step each transition carries out, ``вне схемы`` or ``шаг магазина``. States
    carry their Russian names; a ``*_requested`` state (a call under way) is drawn grey and
    dashed, a state of another ``phase`` faded, a final state heavy. Transitions that all leave
    the same states are drawn once, from a composite holding them (:mod:`.layout`).
    ``initial`` defaults to the machine's initial state, else the lifecycle's when it is drawn,
    else the first source. The same input gives the same text.
    """
    transitions = tuple(lifecycle.transitions if transitions is None else transitions)
    if machine is not None:
        edges = edges_of_machine(machine, state_rank(lifecycle))
        initial = initial or machine.initial
    else:
        edges = edges_of_transitions(lifecycle, transitions)
    marks = step_marks(transitions)
    states: dict[str, None] = {}
    for edge in edges:
        states.setdefault(edge.source)
        states.setdefault(edge.target)
    if initial is None:
        initial = lifecycle.initial if lifecycle.initial in states else (edges[0].source if edges else None)
    if initial is not None:
        states.setdefault(initial)

    # Mermaid draws one self-loop per state (later ones overwrite earlier ones), so a state's
    # internal transitions share one loop, one label line each, where the first one stood.
    arcs: list[Arc] = []
    loops: dict[str, int] = {}
    for edge in edges:
        label = edge_label(edge, marks)
        if edge.target != edge.source:
            arcs.append(Arc(edge.source, edge.target, label))
        elif edge.source in loops:
            at = loops[edge.source]
            arcs[at] = attrs.evolve(arcs[at], label=arcs[at].label + LOOP_SEPARATOR + label)
        else:
            loops[edge.source] = len(arcs)
            arcs.append(Arc(edge.source, edge.source, label))
    layout = Layout({name: lifecycle.state(name).ru for name in states})
    layout.starts += [initial] if initial is not None else []
    layout.arcs = group_shared_sources(lifecycle, layout, arcs, initial=initial)
    layout.ends += [name for name in lifecycle.state_names if name in lifecycle.final_states and name in states]
    layout.classes = state_classes(lifecycle, states, phase)
    return render(layout, title, lifecycle.state_names)


def group_shared_sources(lifecycle: Lifecycle, layout: Layout, arcs: list[Arc], within: str | None = None,
                         initial: str | None = None) -> list[Arc]:
    """``arcs`` with the states that several transitions all leave put in a composite of their own
    (inside ``within``), each such transition drawn once from it."""
    def eligible(group: frozenset[str]) -> bool:
        return (not any(lifecycle.state(name).requested for name in group)
                and all(layout.parent.get(name) == within for name in group))

    for number, group in enumerate(shared_states(arcs, eligible), start=1):
        name = _group_name(lifecycle, group, number)
        trial = attrs.evolve(layout, labels=dict(layout.labels), parent=dict(layout.parent),
                             starts=list(layout.starts))
        trial.composite(name, group_title(lifecycle, group), within)
        trial.parent.update(dict.fromkeys(group, name))
        bundled = bundle(trial, arcs, group, name, initial)
        # Mermaid cannot draw a line between the insides of two composites: keep the group only
        # if no line would join the inside of this one to the inside of another
        if not any(joins_two_insides(trial, arc) for arc in bundled):
            layout.labels, layout.parent, layout.starts, arcs = trial.labels, trial.parent, trial.starts, bundled
    return arcs


def group_title(lifecycle: Lifecycle, group: frozenset[str]) -> str:
    """How people call a set of states drawn as one composite: the name of the documented group
    it is (with the states refining them), else its states' names."""
    known = _known_group(lifecycle, group)
    if known is not None:
        return GROUP_TITLES[known][1]
    return " / ".join(lifecycle.state(name).ru for name in lifecycle.state_names if name in group)


def _group_name(lifecycle: Lifecycle, group: frozenset[str], number: int) -> str:
    known = _known_group(lifecycle, group)
    return GROUP_TITLES[known][0] if known is not None else f"shared_{number}"


def _known_group(lifecycle: Lifecycle, group: frozenset[str]) -> frozenset[str] | None:
    families = frozenset(lifecycle.family(name) for name in group)
    return families if families in GROUP_TITLES else None


def state_classes(lifecycle: Lifecycle, states: Iterable[str], phase: Phase | None = None) -> dict[str, list[str]]:
    """Which drawn states are calls under way, of another phase, or final."""
    classes: dict[str, list[str]] = {"call": [], "elsewhere": [], "final": []}
    for name in lifecycle.state_names:
        if name not in states:
            continue
        spec = lifecycle.state(name)
        if spec.requested:
            classes["call"].append(name)
        elif phase is not None and spec.phase is not phase:
            classes["elsewhere"].append(name)
        elif spec.final:
            classes["final"].append(name)
    return classes
