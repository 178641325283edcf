"""The checks every lifecycle passes when it is built, each refusing with a clear message.

A lifecycle is strict only if its definition is: these rules make an integrator's extension
unable to break the documented lifecycle, and catch mistakes where they are made.

1. Names: states and triggers are ``lower_snake_case``; every state a transition names exists.
2. One transition per trigger and state: a trigger declared twice from the same state would
   make the lifecycle ambiguous.
3. The documented lifecycle stays whole: every transition the lifecycle was first built with
   (``base``: documented steps and undrawn paths) is still there with the same destination,
   and starts only from its original states or from states that *refine* them — an extension
   may insert a step before a documented one, never remove it or move it earlier.
4. An extension transition moves within one documented state's refinement (``paid`` →
   ``packed``), so it cannot skip or repeat documented steps; its message is Mermaid-safe.
5. Every state is reachable from the initial one.
"""

from __future__ import annotations

import re
from collections import deque
from typing import Protocol

from ..errors import DefinitionError
from ..mermaid import check_participant, escape_text
from .states import StateSpec
from .steps import OneOf, Origin, Resume, Transition, Variant


class Lifecycle(Protocol):
    """What the checks read of a :class:`~.definition.Lifecycle`."""

    @property
    def flow(self) -> str: ...
    @property
    def variant(self) -> Variant: ...
    @property
    def states(self) -> tuple[StateSpec, ...]: ...
    @property
    def transitions(self) -> tuple[Transition, ...]: ...
    @property
    def base(self) -> tuple[Transition, ...]: ...
    @property
    def initial(self) -> str: ...
    def destinations(self, tr: Transition) -> tuple[str, ...]: ...
    def family(self, name: str) -> str: ...

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def check_lifecycle(lc: Lifecycle) -> None:
    where = f"{lc.flow}/{lc.variant.value}"
    _check_names(lc, where)
    _check_unambiguous(lc, where)
    _check_documented_kept(lc, where)
    _check_extensions(lc, where)
    _check_reachable(lc, where)


def _check_names(lc: Lifecycle, where: str) -> None:
    seen: set[str] = set()
    for spec in lc.states:
        if spec.name in seen:
            raise DefinitionError(f"{where}: state {spec.name!r} is declared twice")
        seen.add(spec.name)
        if spec.refines is not None and spec.refines not in seen:
            raise DefinitionError(f"{where}: state {spec.name!r} refines {spec.refines!r}, which is not declared before it")
    if lc.initial not in seen:
        raise DefinitionError(f"{where}: the initial state {lc.initial!r} is not declared")
    for tr in lc.transitions:
        if not _NAME.match(tr.trigger):
            raise DefinitionError(f"{where}: trigger {tr.trigger!r} must be lower_snake_case ASCII")
        if not tr.sources:
            raise DefinitionError(f"{where}: trigger {tr.trigger!r} has no source state")
        for state in tr.sources + _named_destinations(tr):
            if state not in seen:
                raise DefinitionError(f"{where}: trigger {tr.trigger!r} names the unknown state {state!r}; "
                                      f"known: {', '.join(sorted(seen))}")


def _named_destinations(tr: Transition) -> tuple[str, ...]:
    if isinstance(tr.dest, OneOf):
        return tr.dest.states
    if tr.dest is None or isinstance(tr.dest, Resume):
        return ()
    return (tr.dest,)


def _check_unambiguous(lc: Lifecycle, where: str) -> None:
    fired: dict[tuple[str, str], Transition] = {}
    for tr in lc.transitions:
        for source in tr.sources:
            other = fired.get((tr.trigger, source))
            if other is not None:
                raise DefinitionError(
                    f"{where}: trigger {tr.trigger!r} is declared twice from state {source!r}"
                    + (" (an extension cannot reuse a documented trigger: name it differently)"
                       if Origin.EXTENSION in (tr.origin, other.origin) else ""))
            fired[(tr.trigger, source)] = tr


def _check_reachable(lc: Lifecycle, where: str) -> None:
    reached, queue = {lc.initial}, deque([lc.initial])
    while queue:
        state = queue.popleft()
        for tr in lc.transitions:
            if state in tr.sources:
                for dest in lc.destinations(tr):
                    if dest not in reached:
                        reached.add(dest)
                        queue.append(dest)
    unreachable = [s.name for s in lc.states if s.name not in reached]
    if unreachable:
        raise DefinitionError(f"{where}: state(s) {', '.join(unreachable)} cannot be reached from {lc.initial!r}: "
                              "add a transition into each")


def _check_documented_kept(lc: Lifecycle, where: str) -> None:
    current = {(tr.trigger, tr.phase): tr for tr in lc.transitions if tr.origin is not Origin.EXTENSION}
    for original in lc.base:
        label = _describe(original)
        found = current.get((original.trigger, original.phase))
        if found is None:
            raise DefinitionError(f"{where}: {label} cannot be removed")
        tr = found
        if not _same_destination(lc, tr.dest, original.dest) or (tr.call, tr.role, tr.origin, tr.step) != (
                original.call, original.role, original.origin, original.step):
            raise DefinitionError(f"{where}: {label} cannot be changed, only started from states that refine its own")
        for source in tr.sources:
            if source not in original.sources and lc.family(source) not in original.sources:
                raise DefinitionError(
                    f"{where}: {label} cannot start from {source!r}: it starts from {', '.join(original.sources)} "
                    "or a state refining one of them, else documented steps would be skipped or reordered")


def _same_destination(lc: Lifecycle, dest: object, original: object) -> bool:
    """``dest`` is ``original``'s, or (a way back, ``OneOf(back=True)``) it adds only states that
    refine one of the original's."""
    if dest == original:
        return True
    if not (isinstance(dest, OneOf) and isinstance(original, OneOf) and dest.back and original.back):
        return False
    added = [s for s in dest.states if s not in original.states]
    return set(original.states) <= set(dest.states) and all(lc.family(s) in original.states for s in added)


def _check_extensions(lc: Lifecycle, where: str) -> None:
    for tr in lc.transitions:
        if tr.origin is not Origin.EXTENSION:
            continue
        if isinstance(tr.dest, (OneOf, Resume)):
            raise DefinitionError(f"{where}: extension trigger {tr.trigger!r} needs one destination state")
        families = {lc.family(s) for s in tr.sources + _named_destinations(tr)}
        if len(families) > 1:
            raise DefinitionError(
                f"{where}: extension trigger {tr.trigger!r} would move between documented states "
                f"({', '.join(sorted(families))}) and skip documented steps; an extension moves within one "
                "documented state and the states that refine it")
        if tr.message is not None:
            try:
                check_participant(tr.message.sender)
                check_participant(tr.message.receiver)
                escape_text(tr.message.text)
            except ValueError as error:
                raise DefinitionError(f"{where}: the message of {tr.trigger!r} cannot be drawn: {error}") from None


def _describe(tr: Transition) -> str:
    if tr.origin is Origin.DOCUMENTED and tr.sequence and tr.step:
        return f"documented step {tr.trigger!r} ({tr.sequence} step {tr.step})"
    return f"the undrawn path {tr.trigger!r}"
