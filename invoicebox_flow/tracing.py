"""What really happened to an order, as traced messages of the documented sequences.

Two witnesses tell it, each with its own clock reading and evidence:

- **the shop**: the store's journal. An ``ok`` entry (or one that committed a state change)
  whose trigger is the *first* trigger of a documented step — ``Step.triggers[0]``, the step
  itself; later triggers are its outcomes — is that step. Which step is found through the
  lifecycle transition that fired (trigger + ``from_state``), so ``send_documents`` lands on
  shipment step 3 after a shipment and on refund step 6 after a refund, and the payment
  notification on the payment sequence's last step, whatever its number;
- **InvoiceBox**: the sandbox's events for the order (its ``effect`` and ``receipt`` type, see
  :meth:`Sequence.steps_for_effect`). Receipts name their phase by their type; reporting
  documents say in the event ``detail`` whether they are for a refund (``refund_*`` kinds, a
  ``refundId``); returned money only happens in a refund.

:func:`collect` writes both into a :class:`~invoicebox_flow.trace.Trace`; ordered by time,
they render to the diagram of what ran. :func:`fired_transitions` reads the same journal to say
which lifecycle transitions an order went through (the coverage check of the specs).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from .diagrams.invoicebox_events import event_steps
from .flows import DOCUMENTED_FLOW, FlowDefinition, Lifecycle, Sequence, Step, Transition, Variant
from .store import JournalEntry
from .trace import Trace

__all__ = ["collect", "describe_transition", "event_steps", "fired_transitions", "journal_steps", "transition_of"]

# Event detail keys worth keeping as evidence (ids and amounts; no addresses or contents).
_EVENT_EVIDENCE = ("receiptId", "mailId", "documentIds", "kinds", "refundId", "amount")


class EventSource(Protocol):
    """A :class:`~invoicebox_flow.sandbox.Sandbox` or its ``SandboxInspector``."""

    def events(self, order_id: str | None = None) -> list[dict[str, Any]]: ...


class JournalSource(Protocol):
    def get(self, order_id: str) -> Any: ...

    def journal(self, order_id: str) -> list[JournalEntry]: ...


def collect(trace: Trace, store: JournalSource, sandbox_inspector: EventSource | None, order_id: str,
            definition: FlowDefinition = DOCUMENTED_FLOW) -> None:
    """Record in ``trace`` every documented step the order ``order_id`` went through.

    The shop side comes from ``store.journal(order_id)``; the InvoiceBox side from
    ``sandbox_inspector.events(order_id=<InvoiceBox order id>)`` once the order has one.
    Messages are recorded under the shop's order id, with their own timestamps.
    """
    record = store.get(order_id)
    lifecycle = definition.lifecycle(record.variant)
    for seq, step, entry in journal_steps(lifecycle, store.journal(order_id)):
        trace.record(seq.name, step.number, at=entry.at.timestamp(), order_ref=order_id, source="journal",
                     evidence=_entry_evidence(entry))
    if sandbox_inspector is None or not record.invoicebox_id:
        return
    for seq, step, event in event_steps(lifecycle, sandbox_inspector.events(order_id=record.invoicebox_id)):
        trace.record(seq.name, step.number, at=float(event["at"]), order_ref=order_id, source="sandbox",
                     evidence=_event_evidence(event))


def journal_steps(lifecycle: Lifecycle, journal: Iterable[JournalEntry]) -> list[tuple[Sequence, Step, JournalEntry]]:
    """The journal entries that *are* documented steps (not their outcomes), with their step."""
    out = []
    for entry in journal:
        transition = transition_of(lifecycle, entry)
        if transition is None or entry.outcome != "ok":
            continue
        step = lifecycle.step_of(transition)
        if step is None or not step.triggers or step.triggers[0] != entry.trigger:
            continue  # an undrawn path, or the outcome of a step already traced by its first trigger
        assert transition.phase is not None
        out.append((lifecycle.sequence(transition.phase), step, entry))
    return out


def fired_transitions(store: JournalSource, order_id: str,
                      definition: FlowDefinition = DOCUMENTED_FLOW) -> set[tuple[Variant, Transition]]:
    """The lifecycle transitions the order's journal shows fired, per buyer variant.

    An entry counts when it committed a transition: outcome ``ok``, or a state change (the
    refused outcome of a call). Failed attempts that changed nothing do not.
    """
    record = store.get(order_id)
    lifecycle = definition.lifecycle(record.variant)
    fired = set()
    for entry in store.journal(order_id):
        if entry.outcome != "ok" and entry.from_state == entry.to_state:
            continue
        transition = transition_of(lifecycle, entry)
        if transition is not None:
            fired.add((lifecycle.variant, transition))
    return fired


def describe_transition(lifecycle: Lifecycle, transition: Transition) -> str:
    """``private: request_shipment (paid, partially_refunded → shipment_requested)``."""
    dests = lifecycle.destinations(transition)
    dest = " | ".join(dests) if dests else "(stays)"
    return f"{lifecycle.variant.value}: {transition.trigger} ({', '.join(transition.sources)} → {dest})"


def transition_of(lifecycle: Lifecycle, entry: JournalEntry) -> Transition | None:
    """The transition of the lifecycle that this journal entry records, if any."""
    transition = lifecycle.transition(entry.trigger, entry.from_state)
    if transition is None:
        return None
    dests = lifecycle.destinations(transition) or (entry.from_state,)
    return transition if entry.to_state in dests else None


def _entry_evidence(entry: JournalEntry) -> dict[str, Any]:
    evidence: dict[str, Any] = {"trigger": entry.trigger, "actor": entry.actor,
                                "from": entry.from_state, "to": entry.to_state}
    if entry.seq is not None:
        evidence["journalSeq"] = entry.seq
    if entry.request_id:
        evidence["requestId"] = entry.request_id
    return evidence


def _event_evidence(event: Mapping[str, Any]) -> dict[str, Any]:
    evidence: dict[str, Any] = {"eventSeq": event.get("seq"), "effect": event.get("effect")}
    if event.get("receipt"):
        evidence["receipt"] = event["receipt"]
    detail = event.get("detail") or {}
    evidence.update({k: detail[k] for k in _EVENT_EVIDENCE if k in detail})
    return evidence
