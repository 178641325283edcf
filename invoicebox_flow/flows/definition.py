"""The flow definition: a value the engine is given, built from the documented sequences.

A :class:`Lifecycle` is everything the engine, the diagrams and the specs need to know about
one buyer variant's order lifecycle: its documented sequences, its states (with labels and
traits) and its transitions (each naming the documented step it carries out, or saying it is an
undrawn path or an integrator's extension). A :class:`FlowDefinition` holds the two lifecycles
a shop runs — private buyers and legal ones — under one name, with the options that apply to
both.

Both are immutable. Integrators extend a definition without forking it
(:meth:`FlowDefinition.insert_state`, :meth:`FlowDefinition.add_transition`); every
definition is checked when it is built (:mod:`.checks`), so a definition that would remove or
reorder a documented step, leave a state unreachable or declare a trigger twice never exists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import cached_property
from typing import Any

import attrs

from ..errors import DefinitionError
from . import checks
from .states import StateSpec
from .steps import CallRole, Guard, Message, OneOf, Origin, Phase, Resume, Sequence, Step, Transition, Variant


@attrs.frozen
class CallTriggers:
    """The transitions of one InvoiceBox write: requested, accepted, refused."""

    request: Transition
    accepted: Transition
    refused: Transition | None


@attrs.frozen(eq=False)  # identity semantics: machines and indexes are built once per lifecycle
class Lifecycle:
    """One buyer variant's lifecycle: states, transitions and the documented sequences they come from.

    ``base`` are the transitions the lifecycle was first built with (documented and undrawn):
    an extension may refine where they start from, never remove them (see :mod:`.checks`).
    """

    variant: Variant
    flow: str
    sequences: tuple[Sequence, ...]
    states: tuple[StateSpec, ...]
    transitions: tuple[Transition, ...]
    base: tuple[Transition, ...]
    initial: str = "new"

    def __attrs_post_init__(self) -> None:
        checks.check_lifecycle(self)

    # --- states ------------------------------------------------------------------------------

    @cached_property
    def _states(self) -> dict[str, StateSpec]:
        return {s.name: s for s in self.states}

    @property
    def state_names(self) -> tuple[str, ...]:
        return tuple(self._states)

    def has_state(self, name: str) -> bool:
        return name in self._states

    def state(self, name: str) -> StateSpec:
        try:
            return self._states[name]
        except KeyError:
            raise KeyError(f"{self.flow}/{self.variant.value} has no state {name!r}; "
                           f"known: {', '.join(self._states)}") from None

    def family(self, name: str) -> str:
        """The documented state ``name`` refines (itself for a documented state)."""
        return self.state(name).refines or name

    @cached_property
    def paid_states(self) -> frozenset[str]:
        return frozenset(s.name for s in self.states if s.paid)

    @cached_property
    def final_states(self) -> frozenset[str]:
        return frozenset(s.name for s in self.states if s.final)

    @cached_property
    def awaiting_payment_states(self) -> frozenset[str]:
        """Where a payment notification confirms the payment: the sources of ``confirm_payment``."""
        return frozenset(self.sources_of("confirm_payment"))

    # --- transitions -------------------------------------------------------------------------

    @cached_property
    def _by_trigger(self) -> dict[str, tuple[Transition, ...]]:
        out: dict[str, list[Transition]] = {}
        for tr in self.transitions:
            out.setdefault(tr.trigger, []).append(tr)
        return {k: tuple(v) for k, v in out.items()}

    @property
    def triggers(self) -> tuple[str, ...]:
        return tuple(self._by_trigger)

    def transitions_of(self, trigger: str) -> tuple[Transition, ...]:
        return self._by_trigger.get(trigger, ())

    def transition(self, trigger: str, source: str) -> Transition | None:
        """The transition ``trigger`` fires from ``source`` (at most one: checked at build time)."""
        return next((tr for tr in self.transitions_of(trigger) if source in tr.sources), None)

    def sources_of(self, trigger: str) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for tr in self.transitions_of(trigger):
            seen.update(dict.fromkeys(tr.sources))
        return tuple(seen)

    def allowed(self, state: str) -> list[str]:
        """Triggers with a transition from ``state`` (guards not evaluated), sorted."""
        return sorted({tr.trigger for tr in self.transitions if state in tr.sources})

    def destinations(self, tr: Transition) -> tuple[str, ...]:
        """Where ``tr`` may lead: one state, several chosen at run time, or (internal) none."""
        if isinstance(tr.dest, OneOf):
            return tr.dest.states
        if isinstance(tr.dest, Resume):
            call = self.call(tr.call.name) if tr.call is not None else None
            return call.request.sources if call is not None else tr.sources
        return () if tr.dest is None else (tr.dest,)

    def is_dynamic(self, tr: Transition) -> bool:
        """True when the engine chooses the destination at run time."""
        return isinstance(tr.dest, (OneOf, Resume))

    @cached_property
    def _calls(self) -> dict[str, CallTriggers]:
        roles: dict[str, dict[CallRole, Transition]] = {}
        for tr in self.transitions:
            if tr.call is not None and tr.role in (CallRole.REQUEST, CallRole.ACCEPTED, CallRole.REFUSED):
                roles.setdefault(tr.call.name, {}).setdefault(tr.role, tr)
        return {name: CallTriggers(r[CallRole.REQUEST], r[CallRole.ACCEPTED], r.get(CallRole.REFUSED))
                for name, r in roles.items() if CallRole.REQUEST in r and CallRole.ACCEPTED in r}

    def call(self, name: str) -> CallTriggers:
        """The triggers of the InvoiceBox write ``name`` (``create_shipment``…)."""
        try:
            return self._calls[name]
        except KeyError:
            raise KeyError(f"{self.flow}/{self.variant.value} makes no call {name!r}") from None

    @property
    def calls(self) -> dict[str, CallTriggers]:
        return dict(self._calls)

    @cached_property
    def guards(self) -> dict[str, Callable[[Any], bool]]:
        """Callable guards by the name the machine knows them under."""
        return {guard_key(tr): tr.guard for tr in self.transitions if callable(tr.guard)}

    # --- the documented sequences ------------------------------------------------------------

    def sequence(self, phase: Phase) -> Sequence:
        return next(s for s in self.sequences if s.phase is phase)

    def step_of(self, tr: Transition) -> Step | None:
        """The documented step a transition carries out or observes (None: undrawn, extension)."""
        if tr.origin is not Origin.DOCUMENTED or tr.step is None or tr.phase is None:
            return None
        return self.sequence(tr.phase).step(tr.step)

    @property
    def documented(self) -> bool:
        """True when nothing was added to the documented lifecycle."""
        return self.transitions == self.base

    @cached_property
    def documented_part(self) -> Lifecycle:
        """The documented lifecycle this one extends (itself when nothing was added)."""
        if self.documented:
            return self
        states = tuple(s for s in self.states if s.refines is None)
        return Lifecycle(self.variant, self.flow, self.sequences, states, self.base, self.base, self.initial)

    # --- extending (FlowDefinition.insert_state / add_transition) ----------------------------

    def with_state(self, name: str, *, ru: str, en: str, after: str, enter: str,
                     before: str | Iterable[str], guard: Guard | None, message: Message | None,
                     inherit: bool, description: str) -> Lifecycle:
        """This lifecycle with ``name`` refining ``after`` (see :meth:`FlowDefinition.insert_state`)."""
        anchor = self.state(after)
        family = anchor.refines or anchor.name
        moved = {before} if isinstance(before, str) else set(before)
        unknown = sorted(t for t in moved if after not in self.sources_of(t))
        if unknown:
            raise DefinitionError(f"{self.flow}/{self.variant.value}: {', '.join(unknown)} cannot fire from {after!r}, "
                                  f"so {name!r} cannot be put before it; from {after!r}: {', '.join(self.allowed(after))}")
        state = StateSpec(name, ru, en, anchor.phase, paid=anchor.paid, final=anchor.final, refines=family)
        def rerouted(tr: Transition) -> Transition:
            if isinstance(tr.dest, OneOf) and tr.dest.back and after in tr.dest.states:
                tr = attrs.evolve(tr, dest=attrs.evolve(tr.dest, states=(*tr.dest.states, name)))
            if after not in tr.sources:
                return tr
            if tr.trigger in moved:  # now fires from the new state instead
                return attrs.evolve(tr, sources=tuple(name if s == after else s for s in tr.sources))
            return attrs.evolve(tr, sources=(*tr.sources, name)) if inherit else tr

        transitions = [rerouted(tr) for tr in self.transitions]
        first_before = min((step for t in moved for step in self._steps_of(t)), default=None, key=lambda s: s[1])
        phase, step = first_before if first_before is not None else (anchor.phase, None)
        entering = Transition(enter, (after,), name, guard=guard, message=message, description=description,
                              phase=phase, step=step, origin=Origin.EXTENSION)
        return attrs.evolve(self, states=(*self.states, state), transitions=(*transitions, entering))


    def with_transition(self, trigger: str, sources: str | Iterable[str], dest: str | None, *,
                       guard: Guard | None, message: Message | None, description: str) -> Lifecycle:
        """This lifecycle with one more extension transition."""
        sources = (sources,) if isinstance(sources, str) else tuple(sources)
        phase = self.state(sources[0]).phase if sources and self.has_state(sources[0]) else None
        tr = Transition(trigger, sources, dest, guard=guard, message=message, description=description,
                        phase=phase, origin=Origin.EXTENSION)
        return attrs.evolve(self, transitions=(*self.transitions, tr))


    def _steps_of(self, trigger: str) -> list[tuple[Phase | None, int]]:
        return [(tr.phase, tr.step) for tr in self.transitions_of(trigger)
                if tr.origin is Origin.DOCUMENTED and tr.step is not None]


def guard_key(tr: Transition) -> str:
    """The condition name a transition's guard is known under in the machine."""
    if isinstance(tr.guard, str):
        return tr.guard
    return f"{tr.trigger}__{tr.guard_name}"


@attrs.frozen(eq=False)
class FlowDefinition:
    """The lifecycles a shop runs: one for private buyers, one for legal ones.

    ``conditions`` names the guards its transitions refer to by name (``OrderFlow(conditions=...)``
    may add or replace them). ``auto_ship_services``: a paid order whose lines are all services is
    shipped right after
    its payment commits (documented: "Если услуга оказывается онлайн, отгрузка по заказу может
    быть установлена автоматически"); :meth:`OrderFlow.place` can set it per order.
    """

    name: str
    private: Lifecycle
    legal: Lifecycle
    auto_ship_services: bool = False
    # guards the lifecycles name, defined with the definition (OrderFlow(conditions=) may add more)
    conditions: Mapping[str, Callable[[Any], bool]] = attrs.field(factory=dict)

    def lifecycle(self, variant: Variant | str) -> Lifecycle:
        return self.private if Variant(variant) is Variant.PRIVATE else self.legal

    @property
    def lifecycles(self) -> tuple[Lifecycle, Lifecycle]:
        return (self.private, self.legal)

    def __iter__(self) -> Iterator[Lifecycle]:
        return iter(self.lifecycles)

    @property
    def state_names(self) -> tuple[str, ...]:
        """Every state of either lifecycle, documented ones first."""
        return tuple(dict.fromkeys(self.private.state_names + self.legal.state_names))

    def state(self, name: str) -> StateSpec:
        lifecycle = self.private if self.private.has_state(name) else self.legal
        return lifecycle.state(name)

    @property
    def documented(self) -> bool:
        return self.private.documented and self.legal.documented

    # --- extending ---------------------------------------------------------------------------

    def renamed(self, name: str) -> FlowDefinition:
        """The same flow under another name (the name prefixes its extended diagrams)."""
        return attrs.evolve(self, name=name, private=attrs.evolve(self.private, flow=name),
                            legal=attrs.evolve(self.legal, flow=name))

    def with_conditions(self, **named: Callable[[Any], bool]) -> FlowDefinition:
        """The named guards this definition's transitions refer to (``guard="in_stock"``)."""
        return attrs.evolve(self, conditions={**self.conditions, **named})

    def with_auto_shipment(self, enabled: bool = True) -> FlowDefinition:
        """Ship a paid order of online services automatically, right after its payment commits."""
        return attrs.evolve(self, auto_ship_services=enabled)

    def insert_state(self, name: str, *, ru: str, en: str, after: str, enter: str,
                     before: str | Iterable[str] = (), guard: Guard | None = None,
                     message: Message | None = None, inherit: bool = True,
                     variants: Iterable[Variant] = tuple(Variant), description: str = "") -> FlowDefinition:
        """A new state ``name`` that refines the documented state ``after``.

        ``enter`` is the new trigger from ``after`` to ``name`` (with an optional ``guard``).
        The triggers in ``before`` no longer fire from ``after`` but from ``name`` — that is
        what puts the state *between* ``after`` and them (``packed`` between ``paid`` and
        ``request_shipment``). With ``inherit`` (the default) every other trigger allowed in
        ``after`` is allowed in ``name`` too (a packed order can still be refunded). ``message``
        draws the new step in this flow's sequence diagrams (before the first ``before`` step,
        else at the end of ``after``'s phase).
        """
        return self._each(variants, lambda lc: lc.with_state(
            name, ru=ru, en=en, after=after, enter=enter, before=before, guard=guard, message=message,
            inherit=inherit, description=description))

    def add_transition(self, trigger: str, sources: str | Iterable[str], dest: str | None, *,
                       guard: Guard | None = None, message: Message | None = None,
                       variants: Iterable[Variant] = tuple(Variant), description: str = "") -> FlowDefinition:
        """A new transition among an extension's states (within one documented state's refinement)."""
        return self._each(variants, lambda lc: lc.with_transition(
            trigger, sources, dest, guard=guard, message=message, description=description))

    def _each(self, variants: Iterable[Variant], change: Callable[[Lifecycle], Lifecycle]) -> FlowDefinition:
        chosen = {Variant(v) for v in variants}
        return attrs.evolve(
            self,
            private=change(self.private) if Variant.PRIVATE in chosen else self.private,
            legal=change(self.legal) if Variant.LEGAL in chosen else self.legal,
        )
