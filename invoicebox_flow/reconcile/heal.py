"""Healing the safe differences of one order, through the engine and nothing else.

Each plan is carried out by the part of the engine the live path uses for the same fact —
``Notifications.sync`` (which confirms a payment by ``confirm_payment``, closes an order by
``cancel``/``expire``, records shipments and refund outcomes by ``shipment_observed`` and
``refund_canceled``), the outbox's ``resume`` and its ``accept``/``give_up`` — so every change is a
strict transition committed by :meth:`~invoicebox_flow.engine.core.Core.commit`, journaled under
the actor ``reconcile``. An order that changed since the sweep compared it is left alone (the
next sweep compares it again): a heal never acts on what it did not see.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import attrs

from ..engine.core import Core, describe
from ..engine.notifications import Notifications
from ..engine.outbox import Calls
from ..engine.views import Snapshot
from ..errors import ConcurrentUpdateError, InvoiceboxFlowError
from ..protocol import CREATE_ORDER
from .compare import Difference
from .kinds import Drift, Outcome

log = logging.getLogger("invoicebox_flow.reconcile")

ACTOR = "reconcile"


@attrs.frozen
class Healed:
    outcome: Outcome
    note: str | None = None


@attrs.define
class Healer:
    core: Core
    notifications: Notifications
    calls: Calls

    def heal(self, snap: Snapshot, differences: Sequence[Difference]) -> dict[Drift, Healed]:
        """Heal the safe ``differences`` of the order ``snap`` (as compared); the outcome of each."""
        safe = [d for d in differences if d.plan is not None]
        if not safe:
            return {}
        try:
            if self.core.load(snap.id).record.version != snap.record.version:
                return {d.kind: Healed(Outcome.SKIPPED, "the order changed since it was compared") for d in safe}
            out: dict[Drift, Healed] = {}
            if any(d.plan is not None and d.plan.how == "sync" for d in safe):
                changed = self.notifications.sync(snap.id).version != snap.record.version
                healed = Healed(Outcome.HEALED) if changed else Healed(Outcome.FAILED, "sync changed nothing")
                out.update({d.kind: healed for d in safe if d.plan is not None and d.plan.how == "sync"})
            for diff in safe:
                if diff.kind not in out:
                    out[diff.kind] = self._carry_out(snap, diff)
            return out
        except ConcurrentUpdateError:
            return {d.kind: Healed(Outcome.SKIPPED, "the order changed while it was healed") for d in safe}
        except InvoiceboxFlowError as exc:
            log.warning("order %s: could not heal %s: %s", snap.id, ", ".join(d.kind for d in safe), exc)
            return {d.kind: Healed(Outcome.FAILED, describe(exc)) for d in safe}

    def _carry_out(self, snap: Snapshot, diff: Difference) -> Healed:
        plan = diff.plan
        assert plan is not None
        if plan.how == "resume":
            views = self.calls.resume(snap.id, due_now=True, reconciled_by=ACTOR, report_claimed=True)
            done = any(view is not None and view.version != snap.record.version for view in views)
            return Healed(Outcome.HEALED) if done else Healed(Outcome.FAILED, "the outbox item could not be finished")
        assert plan.action is not None
        if plan.how == "finish":
            assert plan.payload is not None
            self.calls.accept(snap, plan.action, plan.payload, plan.result, actor=ACTOR)
            return Healed(Outcome.HEALED)
        back = self.calls.give_up(snap, plan.action, ACTOR, detail={
            "reason": "the outbox item was lost and InvoiceBox has nothing of the call"})
        if plan.action == CREATE_ORDER.name:  # the order cannot be paid without one: ask again, for a worker
            self.calls.start(back, CREATE_ORDER.name, {"request": back.doc.request}, defer=True)
        return Healed(Outcome.HEALED)


__all__ = ["ACTOR", "Healed", "Healer"]
