"""The sequence diagrams of an extended flow: the documented sequences with the extension
transitions' messages put in where they happen."""

from __future__ import annotations

import attrs

from .definition import Lifecycle
from .steps import Message, Origin, Phase, Sequence, Step, StepKind, Transition


def extended_sequence(lc: Lifecycle, phase: Phase) -> Sequence:
    """The phase's documented sequence with the extension transitions' messages put in.

    Without extensions it is the documented sequence itlc."""
    seq = lc.sequence(phase)
    placed = [tr for tr in lc.transitions
              if tr.origin is Origin.EXTENSION and tr.message is not None and tr.phase is phase]
    if not placed:
        return seq
    steps: list[Step] = []
    for step in seq.steps:
        steps += [_message_step(tr) for tr in placed if tr.step == step.number]
        steps.append(step)
    steps += [_message_step(tr) for tr in placed if tr.step is None]
    participants = list(seq.participants)
    for tr in placed:
        assert tr.message is not None
        participants += [p for p in (tr.message.sender, tr.message.receiver) if p not in participants]
    numbered = tuple(attrs.evolve(step, number=n) for n, step in enumerate(steps, start=1))
    return attrs.evolve(seq, steps=numbered, participants=tuple(participants), flow=lc.flow)


def _message_step(tr: Transition) -> Step:
    assert tr.message is not None
    msg: Message = tr.message
    return Step(0, msg.sender, msg.receiver, msg.arrow, msg.text, StepKind.LOCAL, moves=(tr,),
                note=tr.description)
