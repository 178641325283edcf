"""Which documented InvoiceBox-side step a sandbox event is.

The sandbox records each effect it performs for an order (its ``effect`` and ``receipt`` type,
see :meth:`Sequence.steps_for_effect`). Receipts name their phase by their type; reporting
documents say in the event ``detail`` whether they are for a refund (``refund_*`` kinds, a
``refundId``); returned money only happens in a refund.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..flows import Effect, Lifecycle, Phase, Sequence, Step

__all__ = ["event_steps"]


def event_steps(lifecycle: Lifecycle, events: Iterable[Mapping[str, Any]]) -> list[tuple[Sequence, Step, Mapping[str, Any]]]:
    """The sandbox events that are documented InvoiceBox-side steps of the lifecycle, with their step."""
    out = []
    for event in events:
        try:
            effect = Effect(event["effect"])
        except (KeyError, ValueError):
            continue  # not a documented effect
        phase = _phase_of_event(effect, event)
        for seq in lifecycle.sequences:
            if phase is not None and seq.phase is not phase:
                continue
            steps = seq.steps_for_effect(effect, event.get("receipt"))
            if event.get("receipt") is None:
                # an effect without a receipt type cannot stand for a receipt step
                steps = tuple(s for s in steps if s.receipt is None)
            if len(steps) == 1:
                out.append((seq, steps[0], event))
    return out


def _phase_of_event(effect: Effect, event: Mapping[str, Any]) -> Phase | None:
    """The phase an event belongs to when its effect alone does not say (None: any phase)."""
    if effect in (Effect.PAGE_INTERACTION, Effect.PAYMENT, Effect.REDIRECT_TO_SHOP):
        return Phase.PAYMENT
    if effect is Effect.MONEY_RETURNED:
        return Phase.REFUND
    if effect is Effect.DOCUMENTS_DELIVERED:
        detail = event.get("detail") or {}
        kinds = detail.get("kinds") or ()
        refund = bool(detail.get("refundId")) or any(str(k).startswith("refund_") for k in kinds)
        return Phase.REFUND if refund else Phase.SHIPMENT
    return None  # receipts: their type names the phase
