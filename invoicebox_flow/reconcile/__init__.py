"""Reconciliation: prove, any day, that the shop's books and InvoiceBox's agree, and heal what
drifted where a rule of the lifecycle says how.

``flow.reconcile()`` (or ``invoicebox-flow reconcile``, or ``invoicebox-flow worker
--reconcile-every``) sweeps a window of orders in batches, reading InvoiceBox's side with its list
calls, and returns a :class:`SweepReport` of :class:`Finding` values, one per :class:`Drift` kind
per order. With ``heal=True`` the safe kinds are healed through the engine's transitions
(journaled by the actor ``reconcile``); the others need a person. See docs/reconcile.md.
"""

from .heal import ACTOR
from .kinds import MEANINGS, Drift, Outcome
from .report import AGREE, HEALED, NEEDS_HUMAN, Finding, SweepReport
from .sweep import DEFAULT_BATCH, DEFAULT_DAYS, Sweeper

__all__ = ["ACTOR", "AGREE", "DEFAULT_BATCH", "DEFAULT_DAYS", "HEALED", "MEANINGS", "NEEDS_HUMAN", "Drift", "Finding",
           "Outcome", "SweepReport", "Sweeper"]
