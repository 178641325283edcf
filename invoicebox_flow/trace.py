"""The trace of what a run actually exchanged, drawn as the documented diagram it should match.

While a scenario runs, whoever sees a message happen — the engine's journal (shop actions and
observations), the sandbox (InvoiceBox-side effects: the payment page, receipts, documents,
money returned) or the simulated buyer — records it against the documented step it is, with
the order it belongs to and the evidence (HTTP method and path, status, event id…).

A sequence's messages of one order form a *run*; an order can run the refund sequence several
times, so a new run starts each time the step number does not increase. A run renders with the
definition's header, participants and colour and one message per traced step, using the
step's documented sender, receiver, arrow and text. So the diagram of a run equals the
documented diagram exactly when the run executed every documented step once, in order — a
missing, repeated or reordered step shows as a different diagram.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from decimal import Decimal
from hashlib import sha1
from pathlib import Path
from typing import Any

import attrs

from . import jsonutil
from .diagrams.sequence import render_sequence, render_steps
from .errors import ValidationError
from .flows import sequences as definitions
from .flows.steps import Sequence

SOURCES = ("journal", "sandbox", "buyer")
HEADER = "<!-- written by the invoicebox-flow trace recorder -->"
# Evidence keys whose values are never written out, whoever put them there.
_SECRET_KEY = re.compile(r"token|authorization|secret|password|key", re.IGNORECASE)
_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


@attrs.frozen
class TracedMessage:
    """One message that was seen to happen, as the documented step it is."""

    sequence: str
    step: int
    at: float
    order_ref: str
    source: str = attrs.field(validator=attrs.validators.in_(SOURCES))
    evidence: dict[str, Any] = attrs.field(factory=dict, hash=False)


def _definition(sequence: str | Sequence) -> Sequence:
    if isinstance(sequence, Sequence):
        return sequence
    try:
        return definitions.sequence(sequence)
    except KeyError as exc:
        raise ValidationError(str(exc.args[0]), code="unknown_sequence") from None


class Trace:
    """Messages recorded during a run; thread-safe (the sandbox records from its own threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: list[TracedMessage] = []

    def record(
        self,
        sequence: str,
        step: int,
        *,
        at: float,
        order_ref: str,
        source: str,
        evidence: Mapping[str, Any] | None = None,
    ) -> None:
        """Record that ``step`` of ``sequence`` happened for the order ``order_ref`` at ``at``.

        Unknown sequences, step numbers and sources are refused with :class:`ValidationError`,
        so a wrong recording fails where it is made, not as a puzzling diagram later.
        """
        seq = _definition(sequence)
        if not 1 <= step <= len(seq.steps):
            raise ValidationError(
                f"{seq.name} has steps 1..{len(seq.steps)}, not {step}", code="unknown_step"
            )
        if source not in SOURCES:
            raise ValidationError(f"trace source must be one of {', '.join(SOURCES)}, not {source!r}",
                                  code="unknown_source")
        message = TracedMessage(seq.name, step, at, order_ref, source, dict(evidence or {}))
        with self._lock:
            self._messages.append(message)

    def messages(self, sequence: str | None = None, order_ref: str | None = None) -> list[TracedMessage]:
        """Recorded messages, optionally of one sequence and/or order, sorted by time then step."""
        with self._lock:
            chosen = [
                m for m in self._messages
                if (sequence is None or m.sequence == sequence) and (order_ref is None or m.order_ref == order_ref)
            ]
        return sorted(chosen, key=lambda m: (m.at, m.step))

    def runs(self, sequence: str) -> list[list[TracedMessage]]:
        """The runs of ``sequence``: per order, split each time the step number does not increase.

        Runs are ordered by the time of their first message.
        """
        by_order: dict[str, list[TracedMessage]] = {}
        for message in self.messages(sequence):
            by_order.setdefault(message.order_ref, []).append(message)
        runs: list[list[TracedMessage]] = []
        for messages in by_order.values():
            run: list[TracedMessage] = []
            for message in messages:
                if run and message.step <= run[-1].step:
                    runs.append(run)
                    run = []
                run.append(message)
            runs.append(run)
        return sorted(runs, key=lambda r: (r[0].at, r[0].order_ref))

    def render(self, sequence: str | Sequence, run: Iterable[TracedMessage]) -> str:
        """Mermaid ``sequenceDiagram`` of what ran: the definition's frame, one line per traced step."""
        seq = _definition(sequence)
        run = list(run)
        for message in run:
            if message.sequence != seq.name:
                raise ValidationError(
                    f"a {message.sequence} message cannot be drawn in the {seq.name} diagram", code="wrong_sequence"
                )
        return render_steps(seq, [seq.step(m.step) for m in run])

    def steps_seen(self) -> set[tuple[str, int]]:
        """Every ``(sequence, step)`` recorded at least once."""
        with self._lock:
            return {(m.sequence, m.step) for m in self._messages}

    def write(self, folder: Path) -> list[Path]:
        """One Markdown file per sequence and order run, for reading; returns the files written."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        recorded = {m.sequence for m in self.messages()}
        for seq in definitions.SEQUENCES:
            if seq.name not in recorded:
                continue
            counts: dict[str, int] = {}
            for run in self.runs(seq.name):
                ref = run[0].order_ref
                counts[ref] = counts.get(ref, 0) + 1
                path = folder / f"{seq.name}--{_file_part(ref)}--run{counts[ref]}.md"
                path.write_text(self._run_page(seq, run, counts[ref]), encoding="utf-8", newline="\n")
                written.append(path)
        return written

    def _run_page(self, seq: Sequence, run: list[TracedMessage], number: int) -> str:
        drawn = self.render(seq, run)
        matches = drawn == render_sequence(seq)
        done = [m.step for m in run]
        missing = [s.number for s in seq.steps if s.number not in done]
        verdict = "yes" if matches else "no" + (f" (steps not run: {', '.join(map(str, missing))})" if missing else "")
        lines = [
            HEADER,
            f"# {seq.name}: order {run[0].order_ref}, run {number}",
            "",
            f"{seq.title}. Equals the documented diagram: {verdict}.",
            "",
            "```mermaid",
            drawn.rstrip("\n"),
            "```",
            "",
            "| step | +s | source | text | evidence |",
            "|---|---|---|---|---|",
        ]
        start = run[0].at
        for m in run:
            cells = [str(m.step), f"{m.at - start:.3f}", m.source, seq.step(m.step).text, _evidence_text(m.evidence)]
            lines.append("| " + " | ".join(" ".join(c.split()).replace("|", "\\|") for c in cells) + " |")
        return "\n".join(lines) + "\n"


def _file_part(order_ref: str) -> str:
    """``order_ref`` usable in a file name; a digest keeps two altered refs apart."""
    safe = _UNSAFE_FILE_CHARS.sub("_", order_ref)[:60] or "order"
    if safe != order_ref:
        safe += "-" + sha1(order_ref.encode("utf-8")).hexdigest()[:8]
    return safe


def _evidence_text(evidence: Mapping[str, Any]) -> str:
    return jsonutil.dumps(_presentable(evidence)) if evidence else ""


def _presentable(value: Any) -> Any:
    """JSON-able copy with secret-looking keys masked and unknown objects as text."""
    if isinstance(value, Mapping):
        return {str(k): ("***" if _SECRET_KEY.search(str(k)) else _presentable(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_presentable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool, Decimal)):
        return value
    return str(value)
