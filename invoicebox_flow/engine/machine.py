"""Firing a lifecycle's shared machine for one order, and the guards it consults.

One machine serves every order of a lifecycle (:mod:`invoicebox_flow.flows.machines`); it fires
on a throw-away :class:`_Cursor` that holds the state, the destination the engine chose for a
run-time choice, and a way to evaluate guards. A guard that does not hold makes `transitions`
return ``False``; that, like a trigger the state does not allow, becomes an
:class:`~invoicebox_flow.errors.IllegalTransitionError` naming the allowed actions — never a
silent no-op.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs
from transitions.core import MachineError

from ..errors import DefinitionError, IllegalTransitionError
from ..flows import Lifecycle, lifecycle_machine
from ..flows.machines import target_condition


@attrs.frozen
class Condition:
    """A named guard: what it checks on the order's view, and why an action is refused without it."""

    check: Callable[[Any], bool]
    refusal: str


#: The guards the documented lifecycle names.
BUILT_IN_CONDITIONS: Mapping[str, Condition] = {
    "something_to_ship": Condition(lambda view: any(ln.shippable_quantity > 0 for ln in view.lines),
                                   "nothing left to ship"),
}


def conditions_for(lifecycles: tuple[Lifecycle, ...], shop: Mapping[str, Callable[[Any], bool]]) -> dict[str, Condition]:
    """Every guard the lifecycles may consult: built-ins, the shop's named ones, and callables;
    a guard named but defined nowhere is a :class:`DefinitionError` now, not at the first order."""
    known: dict[str, Condition] = dict(BUILT_IN_CONDITIONS)
    known.update({name: Condition(check, f"{name} does not hold") for name, check in shop.items()})
    for lc in lifecycles:
        for key, check in lc.guards.items():
            known[key] = Condition(check, f"{key.partition('__')[2] or key} does not hold")
        for tr in lc.transitions:
            if isinstance(tr.guard, str) and tr.guard not in known:
                raise DefinitionError(f"{lc.flow}/{lc.variant.value}: trigger {tr.trigger!r} is guarded by "
                                      f"{tr.guard!r}, which is neither built in ({', '.join(BUILT_IN_CONDITIONS)}) "
                                      "nor given in the definition's or the flow's conditions")
    return known


class _Cursor:
    """The tiny model a shared machine fires on; lives for one transition."""

    __slots__ = ("_conditions", "_target", "_view", "failed", "state")

    def __init__(self, state: str, target: str | None, conditions: Mapping[str, Condition],
                 view: Callable[[], Any] | None) -> None:
        self.state = state
        self.failed: str | None = None
        self._target = target
        self._conditions = conditions
        self._view = view

    def __getattr__(self, name: str) -> Callable[[], bool]:
        if name.startswith("target_is_"):
            return lambda: self._target == name[len("target_is_"):]
        condition = self._conditions.get(name)
        if condition is None:
            raise AttributeError(name)
        return lambda: self._check(condition)

    def _check(self, condition: Condition) -> bool:
        if self._view is None:
            raise RuntimeError("a guarded transition was fired without the order's view")
        held = bool(condition.check(self._view()))
        if not held:
            self.failed = condition.refusal
        return held


# (machine, state, trigger) -> the destination, where nothing but the state decides it
_UNGUARDED: dict[tuple[Any, str, str], str | None] = {}


def _unguarded(machine: Any, state: str, trigger: str) -> str | None:
    """Where ``trigger`` leads from ``state`` when its transitions from there have no condition
    at all (no guard or ``unless``, no run-time choice): what `transitions` would decide, without firing it."""
    key = (machine, state, trigger)
    if key in _UNGUARDED:
        return _UNGUARDED[key]
    event = machine.events.get(trigger)
    candidates = event.transitions.get(state) if event is not None else None
    dest = None
    if candidates and not any(t.conditions or t.prepare or t.before or t.after for t in candidates):
        dest = candidates[0].dest if candidates[0].dest is not None else state
    _UNGUARDED[key] = dest
    return dest


def next_state(lifecycle: Lifecycle, state: str, trigger: str, *, order_id: str = "?", target: str | None = None,
               conditions: Mapping[str, Condition] = BUILT_IN_CONDITIONS,
               view: Callable[[], Any] | None = None) -> str:
    """The state after ``trigger`` fires in ``state``, or :class:`IllegalTransitionError`.

    Pure: nothing is stored. ``target`` chooses among run-time destinations; ``view`` gives the
    order's view to guards (built only if a guard is consulted).
    """
    machine = lifecycle_machine(lifecycle)
    if target is None:
        known = _unguarded(machine, state, trigger)
        if known is not None:
            return known
    event = machine.events.get(trigger)
    if event is None:
        raise IllegalTransitionError(order_id, trigger, state, lifecycle.allowed(state),
                                     reason=f"no such action for {lifecycle.variant.value} buyers")
    cursor = _Cursor(state, target, conditions, view)
    try:
        fired = event.trigger(cursor)
    except MachineError:
        raise IllegalTransitionError(order_id, trigger, state, lifecycle.allowed(state)) from None
    if not fired:
        reason = cursor.failed or (f"{target!r} is not where it can lead" if target else "its condition does not hold")
        raise IllegalTransitionError(order_id, trigger, state, lifecycle.allowed(state), reason=reason)
    return cursor.state


__all__ = ["BUILT_IN_CONDITIONS", "Condition", "conditions_for", "next_state", "target_condition"]
