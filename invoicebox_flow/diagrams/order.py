"""The sequence diagram of what happened to one order, from the shop's journal alone.

The shop's journal says what the shop did and saw: its calls to InvoiceBox and their answers,
the notifications it received, the buyer coming back, its own extension steps. Each entry that
*is* a documented step (``Step.triggers[0]``; later triggers are the step's outcome) is drawn
as that step; an extension transition with a ``message`` where the flow's extended sequence
puts it. Nothing depends on clocks: the journal's order is the order things happened in.

InvoiceBox-side effects the shop cannot see (the payment page, the payment, receipts and
documents, money returned) are *implied*: by a later step of the same run (a payment
notification means the buyer paid), or, at the end of a run, by the accepted answer of the
shop's call (a registered shipment means InvoiceBox issued its receipt). The buyer coming back
(step 7) is something the shop sees: it is drawn only when the journal has it. A sandbox (any
object with ``events(order_id=...)``) *confirms* implied effects, with their evidence, and
draws the effects it saw that nothing implied yet.

Each phase run is one ``rect`` block numbered as documented (``autonumber N`` where a step was
skipped or repeated), so a complete, in-order order draws the documented diagrams exactly.
What the documented diagrams do not draw (a declined payment, a refused or failed call, a
cancellation) is a ``Note`` in its place and a :class:`Deviation`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import attrs

from ..flows import (
    SHOP,
    Arrow,
    Effect,
    FlowDefinition,
    Lifecycle,
    Origin,
    Phase,
    Sequence,
    Step,
    StepKind,
    Transition,
    extended_sequence,
)
from ..flows.triggers import Trigger
from ..mermaid import check_participant, escape_text
from ..store import JournalEntry
from .invoicebox_events import event_steps
from .sequence import BLOCK_INDENT, INDENT, message_line
from .state import UNDRAWN

__all__ = ["Deviation", "Drawn", "OrderStory", "PhaseRun", "order_story", "story_of"]

# The effect step the shop itself observes, and the journal trigger that observes it.
OBSERVED_EFFECTS = {Effect.REDIRECT_TO_SHOP: Trigger.BUYER_RETURNED.value}

JOURNAL, IMPLIED, SANDBOX = "journal", "implied", "sandbox"


class EventSource(Protocol):
    """A :class:`~invoicebox_flow.sandbox.Sandbox` or its ``SandboxInspector``."""

    def events(self, order_id: str | None = None) -> list[dict[str, Any]]: ...


@attrs.frozen
class Drawn:
    """One line of a run: a step (``step`` set) or a note of what the documents do not draw."""

    step: Step | None
    source: str  # journal, implied or sandbox; a note's: journal
    text: str = ""  # a note's text
    entry: JournalEntry | None = None
    evidence: tuple[dict[str, Any], ...] = ()


@attrs.frozen
class Deviation:
    """Where the order left the documented sequence: ``after`` the step number it follows."""

    sequence: str
    run: int
    after: int
    text: str


@attrs.define
class PhaseRun:
    sequence: Sequence
    number: int  # the how-manieth run of this sequence (a second refund is run 2)
    lines: list[Drawn] = attrs.Factory(list)
    accepted: bool = False  # the run's last call was answered: its trailing effects follow

    def steps(self) -> list[Step]:
        return [line.step for line in self.lines if line.step is not None]


@attrs.frozen
class OrderStory:
    """What happened to one order, run by run, and where it left the documented sequences."""

    order_id: str
    runs: tuple[PhaseRun, ...]
    deviations: tuple[Deviation, ...]

    @property
    def documented(self) -> bool:
        """True when every run drew its documented sequence exactly."""
        return not self.deviations

    def diagram(self) -> str:
        """One Mermaid ``sequenceDiagram``: one ``rect`` per phase run, numbered as documented."""
        participants: list[str] = []
        for run in self.runs:
            participants += [p for p in run.sequence.participants if p not in participants]
        lines = ["sequenceDiagram", f"{INDENT}autonumber"]
        lines += [f"{INDENT}participant {check_participant(p)}" for p in participants]
        for index, run in enumerate(self.runs):
            r, g, b = run.sequence.rect
            expected = 1
            body: list[str] = []
            for line in run.lines:
                if line.step is None:
                    body.append(f"{BLOCK_INDENT}Note over {SHOP}: {escape_text(line.text)}")
                    continue
                if line.step.number != expected:
                    body.append(f"{BLOCK_INDENT}autonumber {line.step.number}")
                body.append(BLOCK_INDENT + message_line(line.step))
                expected = line.step.number + 1
            if index and not (body and body[0].lstrip().startswith("autonumber")):
                lines.append(f"{INDENT}autonumber 1")
            elif body and body[0].lstrip().startswith("autonumber"):
                body[0] = INDENT + body[0].lstrip()  # a run starting past step 1: number before the block
                lines.append(body.pop(0))
            lines.append(f"{INDENT}rect rgb({r}, {g}, {b})")
            lines += body
            lines.append(f"{INDENT}end")
        return "\n".join(lines) + "\n"

    def against_documented(self) -> str:
        """Step by step, each run next to its documented sequence: ``=`` as documented, ``~``
        implied (the shop cannot see it), ``-`` missing, ``+`` not in the documents, ``!`` a
        deviation."""
        out = [f"order {self.order_id}: " + ("as documented" if self.documented else
                                             f"{len(self.deviations)} deviation(s) from the documented sequences")]
        for run in self.runs:
            seq = run.sequence
            out += ["", f"{seq.name}, run {run.number}: {seq.title}"]
            drawn = {line.step.number for line in run.lines if line.step is not None}
            pending = [s for s in seq.steps if s.number not in drawn]
            for line in run.lines:
                if line.step is not None:
                    for missing in [s for s in pending if s.number < line.step.number]:
                        out.append(_listing("-", missing, "not seen"))
                        pending.remove(missing)
                    mark = "=" if line.source != IMPLIED else "~"
                    out.append(_listing(mark, line.step, _how(line)))
                else:
                    out.append(f"  +     {line.text}")
            out += [_listing("-", s, "not seen") for s in pending]
            out += [f"  !     after step {d.after}: {d.text}" for d in self.deviations
                    if d.sequence == seq.name and d.run == run.number]
        return "\n".join(out) + "\n"


def _listing(mark: str, step: Step, how: str) -> str:
    text = f"{step.sender}{step.arrow.value}{step.receiver}: {step.text}"
    return f"  {mark} {step.number:>3}  {text:<72}  {how}"


def _how(line: Drawn) -> str:
    if line.entry is not None:
        at = f"{line.entry.at:%Y-%m-%d %H:%M:%S}"
        seq = f"#{line.entry.seq} " if line.entry.seq is not None else ""
        return f"journal {seq}{line.entry.trigger} {at}" + (" (confirmed at InvoiceBox)" if line.evidence else "")
    if line.source == SANDBOX:
        return "seen at InvoiceBox only"
    return "implied" + (" (confirmed at InvoiceBox)" if line.evidence else " (InvoiceBox side: the shop cannot see it)")


def order_story(lifecycle: Lifecycle, order_id: str, journal: Iterable[JournalEntry],
                events: Iterable[Mapping[str, Any]] | None = None) -> OrderStory:
    """What happened to ``order_id``, from its journal (and the sandbox's ``events``, if given)."""
    builder = _Builder(lifecycle)
    for entry in journal:
        builder.read(entry)
    runs = [builder.with_effects(run) for run in builder.runs]
    if events is not None:
        seen = event_steps(lifecycle, events)
        runs = [_confirmed(run, [(step, event) for seq, step, event in seen if seq.phase is run.sequence.phase])
                for run in runs]
    deviations = builder.deviations + _gaps(runs, builder)
    return OrderStory(order_id, tuple(runs), tuple(deviations))


class JournalSource(Protocol):
    def get(self, order_id: str) -> Any: ...

    def journal(self, order_id: str) -> list[JournalEntry]: ...


def story_of(store: JournalSource, order_id: str, definition: FlowDefinition,
             inspector: EventSource | None = None) -> OrderStory:
    """:func:`order_story` of an order kept in ``store`` (``inspector``: the sandbox's, if any).

    Raises :class:`~invoicebox_flow.errors.OrderNotFoundError` for an unknown order."""
    record = store.get(order_id)
    lifecycle = definition.lifecycle(record.variant)
    events = inspector.events(order_id=record.invoicebox_id) if inspector is not None and record.invoicebox_id else None
    if inspector is not None and events is None:
        events = []
    return order_story(lifecycle, order_id, store.journal(order_id), events)


class _Builder:
    def __init__(self, lifecycle: Lifecycle) -> None:
        self.lifecycle = lifecycle
        self.sequences = {phase: extended_sequence(lifecycle, phase) for phase in Phase}
        self.runs: list[PhaseRun] = []
        self.deviations: list[Deviation] = []
        self.noted_since_step = False
        self.skipped_return: set[int] = set()  # ids of runs whose payment came before the buyer was back

    def read(self, entry: JournalEntry) -> None:
        lc = self.lifecycle
        transition = lc.transition(entry.trigger, entry.from_state)
        if entry.outcome != "ok" and entry.from_state == entry.to_state:
            if transition is not None:  # a call that failed (it is retried) or a refused action
                self._note(transition.phase, entry, f"{entry.trigger}: attempt failed, the order did not change")
            return
        if transition is None or not _lands(lc, transition, entry):
            return  # bookkeeping (confirm_facts…), not a transition
        step = self._step_of(transition, entry)
        if step is None:
            if transition.origin is not Origin.DOCUMENTED or lc.step_of(transition) is None:
                mark = UNDRAWN if transition.origin is Origin.UNDRAWN else "шаг магазина"
                self._note(transition.phase, entry, f"{entry.trigger} → {lc.state(entry.to_state).ru} ({mark})")
            elif self.runs:
                run = self.runs[-1]
                run.accepted = run.accepted or transition.role is not None
            return
        assert transition.phase is not None
        run = self._run_for(transition.phase, step)
        if (transition.phase is Phase.PAYMENT and entry.trigger == Trigger.CONFIRM_PAYMENT
                and not any(line.step is not None and line.step.effect in OBSERVED_EFFECTS for line in run.lines)):
            self.deviations.append(Deviation(run.sequence.name, run.number, step.number - 1,
                                             "the payment notification came before the buyer was back at the shop "
                                             f"(the order was {lc.state(entry.from_state).ru})"))
        run.lines.append(Drawn(step, JOURNAL, entry=entry))
        run.accepted = False
        self.noted_since_step = False

    def _step_of(self, transition: Transition, entry: JournalEntry) -> Step | None:
        """The (extended) sequence step this entry is, if it is one (not an outcome, not undrawn)."""
        if transition.phase is None:
            return None
        seq = self.sequences[transition.phase]
        if transition.origin is Origin.EXTENSION:
            return next((s for s in seq.steps if transition in s.moves), None)
        if entry.trigger in OBSERVED_EFFECTS.values():
            effect = next(e for e, t in OBSERVED_EFFECTS.items() if t == entry.trigger)
            return next((s for s in seq.steps if s.effect is effect), None)
        documented = self.lifecycle.step_of(transition)
        if documented is None or not documented.triggers or documented.triggers[0] != entry.trigger:
            return None
        return next((s for s in seq.steps if s.moves and s.moves[0].trigger == entry.trigger
                     and s.kind is documented.kind and s.text == documented.text), None)

    def _run_for(self, phase: Phase, step: Step) -> PhaseRun:
        last = self.runs[-1] if self.runs else None
        steps = last.steps() if last is not None else []
        repeated = bool(steps) and step.number <= steps[-1].number
        if last is None or last.sequence.phase is not phase or (repeated and not self.noted_since_step):
            count = sum(1 for run in self.runs if run.sequence.phase is phase)
            last = PhaseRun(self.sequences[phase], count + 1)
            self.runs.append(last)
        elif repeated:
            self.deviations.append(Deviation(last.sequence.name, last.number, steps[-1].number,
                                             f"step {step.number} again ({step.text})"))
        return last

    def _note(self, phase: Phase | None, entry: JournalEntry, text: str) -> None:
        if not self.runs or (phase is not None and self.runs[-1].sequence.phase is not phase):
            self.runs.append(PhaseRun(self.sequences[phase or Phase.PAYMENT],
                                      1 + sum(1 for r in self.runs if r.sequence.phase is (phase or Phase.PAYMENT))))
        run = self.runs[-1]
        run.lines.append(Drawn(None, JOURNAL, text=text, entry=entry))
        steps = run.steps()
        self.deviations.append(Deviation(run.sequence.name, run.number, steps[-1].number if steps else 0, text))
        self.noted_since_step = True

    def with_effects(self, run: PhaseRun) -> PhaseRun:
        """``run`` with the InvoiceBox-side effects its observed steps imply, in their places."""
        out: list[Drawn] = []
        done = {line.step.number for line in run.lines if line.step is not None}
        effects = [s for s in run.sequence.steps if _implied_kind(s) and s.number not in done]

        def before(number: int) -> None:
            while effects and effects[0].number < number:
                out.append(Drawn(effects.pop(0), IMPLIED))

        for line in run.lines:
            if line.step is not None:
                before(line.step.number)
            out.append(line)
        if run.accepted:  # the call was answered: what InvoiceBox does next is documented to follow
            before(len(run.sequence.steps) + 1)
        return attrs.evolve(run, lines=out)


def _implied_kind(step: Step) -> bool:
    return step.kind is StepKind.INVOICEBOX_EFFECT and step.effect not in OBSERVED_EFFECTS


def _lands(lifecycle: Lifecycle, transition: Transition, entry: JournalEntry) -> bool:
    return entry.to_state in (lifecycle.destinations(transition) or (entry.from_state,))


def _confirmed(run: PhaseRun, seen: list[tuple[Step, Mapping[str, Any]]]) -> PhaseRun:
    """``run`` with the sandbox's events as evidence of its effects, and the effects nothing
    implied but InvoiceBox did, in their documented places."""
    by_number: dict[int, list[dict[str, Any]]] = {}
    for step, event in seen:
        by_number.setdefault(step.number, []).append(dict(event))
    lines = []
    drawn = {line.step.number for line in run.lines if line.step is not None}
    extra = [s for s in run.sequence.steps if s.number in by_number and s.number not in drawn and _implied_kind(s)]
    for line in run.lines:
        while extra and line.step is not None and extra[0].number < line.step.number:
            step = extra.pop(0)
            lines.append(Drawn(step, SANDBOX, evidence=tuple(by_number[step.number])))
        if line.step is not None and line.step.number in by_number:
            lines.append(attrs.evolve(line, evidence=tuple(by_number[line.step.number])))
        else:
            lines.append(line)
    lines += [Drawn(s, SANDBOX, evidence=tuple(by_number[s.number])) for s in extra]
    return attrs.evolve(run, lines=lines)


def _gaps(runs: list[PhaseRun], builder: _Builder) -> list[Deviation]:
    """Documented steps a run skipped (before its last drawn step), and steps out of order."""
    out = []
    for run in runs:
        numbers = [s.number for s in run.steps()]
        for missing in sorted(set(range(1, max(numbers, default=0))) - set(numbers)):
            step = run.sequence.step(missing)
            if step.arrow is not Arrow.OPEN:  # the optional read (refund step 2) may be left out
                out.append(Deviation(run.sequence.name, run.number, missing - 1, f"step {missing} not seen ({step.text})"))
    return out
