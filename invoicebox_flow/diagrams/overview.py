"""The overview of a whole lifecycle: one composite state per phase, readable at a glance.

What the phase diagrams draw in full, the overview folds:

* a call under way (a ``*_requested`` state) is folded into one edge from where the call was
  requested to where its accepted answer leads (``request_invoice (шаг 2, 3)``); a refused call
  returns where it started, and a call that ends where it started (one more partial refund)
  changes no state, so neither draws anything here;
* internal transitions (the trigger runs, the state stays) are left to the phase diagrams;
* an edge between phases is drawn between the phases' composites — Mermaid cannot draw an edge
  between the insides of two composites — and the ``[*]`` inside a phase says where it lands.
"""

from __future__ import annotations

import attrs

from ..flows import Lifecycle, Phase, Resume
from .layout import Arc, Layout, render
from .state import (
    PHASE_WORDS,
    Edge,
    edge_label,
    edges_of_transitions,
    group_shared_sources,
    state_classes,
    step_marks,
)

__all__ = ["phase_block", "render_lifecycle_overview"]


def phase_block(phase: Phase) -> str:
    """The id of a phase's composite (``phase_payment``): never a state's name."""
    return f"phase_{phase.value}"


@attrs.frozen
class _Move:
    """An edge of the overview: one lifecycle edge, or a call folded with its accepted answer."""

    source: str
    target: str
    within_phase: str  # its label inside one phase's composite
    across_phases: str  # its label between two composites


def render_lifecycle_overview(lifecycle: Lifecycle, title: str) -> str:
    """The lifecycle's ``stateDiagram-v2`` overview (see the module's docstring)."""
    moves = _folded_moves(lifecycle)
    phase_of = {name: lifecycle.state(name).phase for name in lifecycle.state_names}
    drawn: dict[str, None] = {lifecycle.initial: None}
    for move in moves:
        drawn.update(dict.fromkeys((move.source, move.target)))
    layout = Layout({})
    for phase in Phase:
        if any(phase_of[name] is phase for name in drawn):
            layout.composite(phase_block(phase), PHASE_WORDS[phase])
    for name in lifecycle.state_names:
        if name in drawn:
            layout.labels[name] = lifecycle.state(name).ru
            layout.parent[name] = phase_block(phase_of[name])

    across: list[Arc] = []
    entries: dict[str, None] = {lifecycle.initial: None}
    inside: dict[Phase, list[Arc]] = {}
    for move in moves:
        source, target = phase_of[move.source], phase_of[move.target]
        if source is target:
            inside.setdefault(source, []).append(Arc(move.source, move.target, move.within_phase))
            continue
        arc = Arc(phase_block(source), phase_block(target), move.across_phases)
        if arc not in across:
            across.append(arc)
        entries.setdefault(move.target)
    layout.starts.append(phase_block(phase_of[lifecycle.initial]))
    layout.starts += list(entries)
    for phase, arcs in inside.items():
        layout.arcs += group_shared_sources(lifecycle, layout, arcs, within=phase_block(phase))
    layout.arcs += across
    layout.ends += [name for name in lifecycle.state_names if name in lifecycle.final_states and name in drawn]
    layout.classes = state_classes(lifecycle, drawn)
    return render(layout, title, lifecycle.state_names)


def _folded_moves(lifecycle: Lifecycle) -> list[_Move]:
    """The lifecycle's edges between states, each call under way folded into the edge it makes."""
    edges = [edge for edge in edges_of_transitions(lifecycle, lifecycle.transitions) if edge.dest is not None]
    calls = {name for name in lifecycle.state_names if lifecycle.state(name).requested}
    inside = step_marks(lifecycle.transitions, name_phase=False)
    across = step_marks(lifecycle.transitions, name_phase=True)
    moves = []
    for edge in edges:
        if edge.source in calls:
            continue  # drawn with the request that led to it
        if edge.target not in calls:
            moves.append(_Move(edge.source, edge.target, edge_label(edge, inside), edge_label(edge, across)))
            continue
        for answer in edges:
            if answer.source != edge.target or _returns(lifecycle, answer) or answer.target == edge.source:
                continue  # a refused call, or one that ends where it started: the phase diagram has it
            moves.append(_Move(edge.source, answer.target, _folded_label(edge, answer, inside),
                               _folded_label(edge, answer, across)))
    return moves


def _returns(lifecycle: Lifecycle, edge: Edge) -> bool:
    """True for a refused call's edge: back to the state the call was requested from."""
    transition = lifecycle.transition(edge.trigger, edge.source)
    return transition is not None and isinstance(transition.dest, Resume)


def _folded_label(request: Edge, answer: Edge, marks: dict[tuple[str, str], list[str]]) -> str:
    """``request_invoice (шаг 2, 3)``: the request's trigger and guard, the steps of both."""
    steps = list(marks.get((request.trigger, request.source), []))
    steps += [m for m in marks.get((answer.trigger, answer.source), []) if m not in steps]
    label = edge_label(request, {})
    label = label[:label.rindex(" (")]
    return f"{label} ({_join_steps(steps)})"


def _join_steps(marks: list[str]) -> str:
    """``шаг 2`` and ``шаг 2`` → ``шаг 2``; ``шаг 2`` and ``шаг 3`` → ``шаг 2, 3``."""
    numbers = [m.rsplit(" ", 1)[1] for m in marks if m.rsplit(" ", 1)[0].endswith("шаг")]
    prefixes = {m.rsplit(" ", 1)[0] for m in marks if m.rsplit(" ", 1)[0].endswith("шаг")}
    if len(numbers) == len(marks) and len(prefixes) == 1:
        return f"{prefixes.pop()} {', '.join(numbers)}"
    return " / ".join(marks)

