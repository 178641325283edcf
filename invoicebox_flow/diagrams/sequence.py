"""Mermaid ``sequenceDiagram`` text of a documented sequence, laid out like the documentation.

The output is line for line the diagram of InvoiceBox's interaction scheme: ``autonumber``,
the ``participant`` lines in order, one ``rect rgb(...)`` block holding the messages with
their documented arrows, ``end``. Indentation follows the documentation (4 spaces, 6 inside
the block). The trace renderer uses the same function with the steps that actually ran, so a
complete, in-order run draws exactly the documented diagram.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..errors import ValidationError
from ..flows.steps import Sequence, Step
from ..mermaid import UNRENDERABLE, check_participant, escape_text

INDENT = " " * 4
BLOCK_INDENT = " " * 6


def message_line(step: Step) -> str:
    """``Sender->>Receiver: text`` of one step, text escaped for Mermaid."""
    return f"{step.sender}{step.arrow.value}{step.receiver}: {escape_text(step.text)}"


def render_steps(seq: Sequence, steps: Iterable[Step]) -> str:
    """The diagram of ``seq`` (header, participants, colour) drawing only ``steps``, in that order."""
    participants = [check_participant(p) for p in seq.participants]
    lines = ["sequenceDiagram", f"{INDENT}autonumber"]
    lines += [f"{INDENT}participant {p}" for p in participants]
    r, g, b = seq.rect
    lines.append(f"{INDENT}rect rgb({r}, {g}, {b})")
    for step in steps:
        for who in (step.sender, step.receiver):
            if who not in participants:
                raise ValidationError(
                    f"{seq.name} step {step.number}: {who!r} is not a participant of the diagram",
                    code=UNRENDERABLE,
                )
        lines.append(BLOCK_INDENT + message_line(step))
    lines.append(f"{INDENT}end")
    return "\n".join(lines) + "\n"


def render_sequence(seq: Sequence) -> str:
    """The Mermaid ``sequenceDiagram`` of one documented sequence, every step in order."""
    return render_steps(seq, seq.steps)
