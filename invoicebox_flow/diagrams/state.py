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
from ..mermaid import escape_text

INDENT = " " * 4
UNDRAWN = "вне схемы"
EXTENSION = "шаг магазина"
LOOP_SEPARATOR = "<br/>"
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


def step_marks(transitions: Iterable[Transition]) -> dict[tuple[str, str], list[str]]:
    """``(trigger, source) -> ["шаг 3", …]`` from the lifecycle's own declarations.

    A trigger can carry different steps from different states (``send_documents`` is shipment
    step 3 from ``shipped`` and refund step 6 from ``refunded``), so marks are per source. The
    phase is named only when the transitions span more than one phase (a whole lifecycle).
    """
    transitions = tuple(transitions)
    several_phases = len({tr.phase for tr in transitions}) > 1
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
) -> str:
    """A Mermaid ``stateDiagram-v2`` of a lifecycle, or of some of its transitions (a phase).

    Edges are drawn from the transition data, or from ``machine`` (built from the same data:
    both give the same lines, which the tests check), and labelled with the documented step
    each transition carries out, ``вне схемы`` or ``шаг магазина``. ``initial`` defaults to the
    machine's initial state, else the lifecycle's when it is drawn, else the first source. The
    output depends only on the input: the same input gives the same text.
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
    final_states = [name for name in lifecycle.state_names if name in lifecycle.final_states]

    lines = ["---", f"title: {_yaml_string(title)}", "---", "stateDiagram-v2"]
    if initial is not None:
        lines.append(f"{INDENT}[*] --> {initial}")
    # Mermaid draws one self-loop per state (later ones overwrite earlier ones), so a state's
    # internal transitions share one loop, one label line each, where the first one stood.
    loops: dict[str, list[str]] = {}
    slots: list[tuple[str, str] | str] = []
    for edge in edges:
        label = escape_text(edge_label(edge, marks))
        if edge.target == edge.source:
            if edge.source not in loops:
                loops[edge.source] = []
                slots.append(edge.source)
            loops[edge.source].append(label)
        else:
            slots.append((f"{edge.source} --> {edge.target}", label))
    for slot in slots:
        if isinstance(slot, str):
            lines.append(f"{INDENT}{slot} --> {slot} : {LOOP_SEPARATOR.join(loops[slot])}")
        else:
            lines.append(f"{INDENT}{slot[0]} : {slot[1]}")
    lines += [f"{INDENT}{state} --> [*]" for state in final_states if state in states]
    return "\n".join(lines) + "\n"


def _yaml_string(text: str) -> str:
    """A double-quoted YAML scalar (Mermaid reads the title from YAML front matter)."""
    escaped = " ".join(text.split()).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
