"""The shop's ``can_fulfil`` check, asked once per accepted payment.

Copies of one payment notification can arrive at once (InvoiceBox retries, proxies repeat).
Before the payment is committed, the process handling a copy claims the decision on that
notification in the store (:mod:`invoicebox_flow.store.decisions`): only the claim's winner
calls ``can_fulfil``, and it stores the answer before committing ``confirm_payment`` or
``refuse_shipping``. Every other copy — in this process or another — waits for that answer and
uses it; the commit itself then happens once (the notification's key is recorded with it).
A retry after a lost compare-and-set, or after a crash once the answer was stored, uses the
stored answer instead of asking again. ``can_fulfil`` is called a second time only if the
process died while it ran (or before its answer was stored): its claim runs out after the
flow's ``lease_seconds`` and the next copy asks.
"""

from __future__ import annotations

import time
import uuid

from .core import Core
from .views import Snapshot

WAIT_SECONDS = 5.0  # how long a copy waits for the claim holder's answer (InvoiceBox waits 20 s)
POLL_SECONDS = 0.02


def can_fulfil_once(core: Core, snap: Snapshot, key: str) -> bool | None:
    """The shop's answer for the payment notification ``key``: asked now, or given already to
    another copy of it. None: another copy is being decided and did not finish in time (answer
    ``out_of_service``: InvoiceBox delivers the notification again)."""
    can_fulfil = core.settings.can_fulfil
    if can_fulfil is None:
        return True
    store, claimant = core.store, uuid.uuid4().hex
    claim = store.claim_decision(key, snap.id, claimant, lease_seconds=core.lease_seconds)
    if claim.fulfil is not None:
        return claim.fulfil
    if not claim.won:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
            answer = store.decision(key)
            if answer is not None:
                return answer
        return None
    try:
        answer = bool(can_fulfil(core.view(snap)))
    except BaseException:
        store.release_decision(key, claimant)  # the next copy may ask at once
        raise
    if not store.record_decision(key, claimant, answer):
        return store.decision(key)  # our claim ran out and another copy answered meanwhile
    return answer
