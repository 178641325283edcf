"""Did every order end as documented? The checks behind the demo's exit status.

The recorded diagram of every run is compared with the documented one
(:func:`invoicebox_flow.diagrams.render_sequence`), and the receipts, documents and notifications
InvoiceBox produced with what the documented steps promise. Each check has a full sentence (for
``--details``) and a short form (the compact summary).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import attrs

from ..diagrams import render_sequence
from ..engine import OrderFlow, OrderView
from ..flows import SEQUENCES, Phase, Sequence, sequences_of
from ..sandbox import Sandbox
from ..trace import Trace, TracedMessage
from .orders import DemoOrder
from .running import sandbox_call


@attrs.frozen
class Check:
    ok: bool
    text: str  # the full sentence
    short: str = ""  # the compact form ("" when the sentence is short already)

    @property
    def brief(self) -> str:
        return self.short or self.text


def _runs_of(trace: Trace, seq: Sequence, order_id: str) -> list[list[TracedMessage]]:
    return [run for run in trace.runs(seq.name) if run[0].order_ref == order_id]


def sequence_checks(trace: Trace, orders: list[DemoOrder]) -> list[Check]:
    """Each documented sequence ran in full, as often as planned, and drew the documented diagram."""
    checks = []
    for seq in SEQUENCES:
        documented = render_sequence(seq)
        planned = [(o, o.expected_runs().get(seq.name, 0)) for o in orders if o.expected_runs().get(seq.name)]
        problems, equal = [], 0
        for order, count in planned:
            runs = _runs_of(trace, seq, order.order_id)
            if len(runs) != count:
                problems.append(f"{order.order_id} ran it {len(runs)}×, not {count}×")
            for run in runs:
                if trace.render(seq, run) == documented:
                    equal += 1
                else:
                    steps = ",".join(str(m.step) for m in run)
                    problems.append(f"{order.order_id} ran steps {steps}")
        ok = bool(planned) and not problems
        trouble = "" if ok else " — " + "; ".join(problems or ["never ran"])
        checks.append(Check(ok, f"{seq.name:<16} {seq.title}: {equal} run(s) equal the documented diagram{trouble}",
                            f"{seq.name:<16} {_plural(equal, 'run')} as documented{trouble}"))
    return checks


@attrs.frozen
class Outcome:
    """How one order ended: in the store, and what InvoiceBox's side issued and sent for it."""

    order: DemoOrder
    view: OrderView
    receipts: list[str]
    documents: list[str]
    notifications: int  # payment notifications delivered to the shop
    remote_status: str | None  # the order's status at InvoiceBox
    steps: list[int]  # the documented steps traced for the order, in order
    sequences: set[str]  # the sequences they belong to

    def checks(self) -> list[Check]:
        o, v = self.order, self.view
        out = [Check(v.state is o.final_state, f"{o.order_id}: {v.state} (expected {o.final_state})"),
               Check(self.receipts == o.expected_receipts() and sorted(f.type for f in v.receipts) == self.receipts,
                     f"{o.order_id}: receipts {counted(self.receipts)} (expected {counted(o.expected_receipts())})"),
               Check(self.documents == o.expected_documents()
                     and sorted(f.type for f in v.documents) == self.documents,
                     f"{o.order_id}: documents {counted(self.documents)} "
                     f"(expected {counted(o.expected_documents())})"),
               Check(self.notifications == (0 if o.canceled else 1),
                     f"{o.order_id}: {self.notifications} payment notification(s) delivered")]
        if o.canceled:
            out.append(self._canceled_check())
        else:
            out.append(Check(v.refunded_amount == v.paid_amount == v.amount,
                             f"{o.order_id}: paid {v.paid_amount}, refunded {v.refunded_amount} of {v.amount}"))
        return out

    def _canceled_check(self) -> Check:
        """Canceled before payment: the payment sequence stopped after the payment link (step 3)."""
        seq = next(s for s in sequences_of(self.order.variant) if s.phase is Phase.PAYMENT)
        wanted = [step.number for step in seq.steps if step.number <= 3]
        return Check(self.steps == wanted and self.sequences <= {seq.name} and self.remote_status == "canceled",
                     f"{self.order.order_id}: {seq.name} steps {self.steps} then canceled "
                     f"(InvoiceBox says {self.remote_status!r})")

    def summary(self) -> str:
        """The order's ending in a few words: ``refunded 2400.00 RUB, 4 receipts, notified``."""
        v = self.view
        issued = (_plural(len(self.receipts), "receipt") if self.receipts else
                  _plural(len(self.documents), "document") if self.documents else "nothing issued")
        notified = {0: "not notified", 1: "notified"}.get(self.notifications, f"notified {self.notifications}×")
        if self.order.canceled:
            return f"canceled after step {max(self.steps, default=0)}, {issued}, {notified}"
        return f"{v.state} {v.refunded_amount} {v.currency}, {issued}, {notified}"


def outcome(flow: OrderFlow, sandbox: Sandbox, order: DemoOrder, trace: Trace) -> Outcome:
    view = flow.get(order.order_id)
    ib_id = view.invoicebox_id or ""
    receipts = sorted(r["type"] for r in sandbox_call(sandbox.receipts, ib_id))
    documents = sorted(d["kind"] for d in sandbox_call(sandbox.documents, ib_id))
    delivered = sum(1 for n in sandbox_call(sandbox.notifications, ib_id) if n.get("delivered"))
    remote: dict[str, Any] = sandbox_call(sandbox.order, ib_id) if ib_id else {}
    messages = trace.messages(order_ref=order.order_id)
    return Outcome(order, view, receipts, documents, delivered, remote.get("status"),
                   [m.step for m in messages], {m.sequence for m in messages})


def counted(items: list[str]) -> str:
    """``act, refund_act ×2`` (in order of first appearance), or ``none``."""
    if not items:
        return "none"
    return ", ".join(name if n == 1 else f"{name} ×{n}" for name, n in Counter(items).items())


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")
