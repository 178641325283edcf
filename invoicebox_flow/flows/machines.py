"""The `transitions` machines of a lifecycle: built once per lifecycle value, never per order.

A machine per order costs ~77 KiB and attaching many orders to one machine gets slower with
each (DESIGN §4), so each lifecycle gets one machine with ``model=None`` and
``auto_transitions=False``, and the engine fires it on a throw-away cursor holding only the
state. A transition whose destination is chosen at run time (a refund ends partially or fully
refunded; a refused call goes back to where it started) becomes one machine transition per
possible destination, guarded by ``target_is_<state>`` so the engine chooses which one fires.
Guards become conditions the cursor answers.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from typing import Any

from transitions import Machine

from .definition import Lifecycle, guard_key
from .steps import Phase, Transition

_LIFECYCLE_MACHINES: weakref.WeakKeyDictionary[Lifecycle, Machine] = weakref.WeakKeyDictionary()
_PHASE_MACHINES: weakref.WeakKeyDictionary[Lifecycle, dict[Phase, Machine]] = weakref.WeakKeyDictionary()


def target_condition(state: str) -> str:
    return f"target_is_{state}"


def machine_items(lc: Lifecycle, tr: Transition) -> list[dict[str, Any]]:
    """The `transitions` transition dicts of one lifecycle transition."""
    conditions = [guard_key(tr)] if tr.guard is not None else []
    if lc.is_dynamic(tr):
        return [{"trigger": tr.trigger, "source": list(tr.sources), "dest": dest,
                 "conditions": [*conditions, target_condition(dest)]} for dest in lc.destinations(tr)]
    item: dict[str, Any] = {"trigger": tr.trigger, "source": list(tr.sources), "dest": tr.dest}
    if conditions:
        item["conditions"] = conditions
    return [item]


def _build(lc: Lifecycle, transitions: Iterable[Transition], initial: str, name: str) -> Machine:
    transitions = tuple(transitions)
    used: dict[str, None] = {}
    for tr in transitions:
        used.update(dict.fromkeys(tr.sources))
        used.update(dict.fromkeys(lc.destinations(tr)))
    states = [s for s in lc.state_names if s in used or s == initial]
    machine = Machine(model=None, states=states, initial=initial, auto_transitions=False, send_event=False, name=name)
    for tr in transitions:
        for item in machine_items(lc, tr):
            machine.add_transition(**item)
    return machine


def lifecycle_machine(lc: Lifecycle) -> Machine:
    """The whole lifecycle of one buyer variant: payment, shipment and refund phases."""
    machine = _LIFECYCLE_MACHINES.get(lc)
    if machine is None:
        machine = _LIFECYCLE_MACHINES[lc] = _build(lc, lc.transitions, lc.initial, f"{lc.flow}-{lc.variant.value}-lifecycle")
    return machine


def phase_transitions(lc: Lifecycle, phase: Phase) -> tuple[Transition, ...]:
    return tuple(tr for tr in lc.transitions if tr.phase is phase)


def phase_initial(lc: Lifecycle, phase: Phase) -> str:
    """Where a phase's machine starts: the payment phase from the start, the others once paid."""
    return lc.initial if phase is Phase.PAYMENT else "paid"


def phase_machine(lc: Lifecycle, phase: Phase) -> Machine:
    """The machine of one documented sequence's phase, with its undrawn paths (for diagrams)."""
    machines = _PHASE_MACHINES.setdefault(lc, {})
    if phase not in machines:
        machines[phase] = _build(lc, phase_transitions(lc, phase), phase_initial(lc, phase),
                                 lc.sequence(phase).name)
    return machines[phase]
