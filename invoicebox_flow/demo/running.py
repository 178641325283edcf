"""Running one demo order through the shop's OrderFlow, and watching its documented steps.

Nothing printed is typed twice: each step is a traced message
(:func:`invoicebox_flow.tracing.collect` reads the store's journal and the sandbox's events)
drawn with the documented step it is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import requests

from .. import tracing
from ..engine import OrderFlow
from ..errors import FlowError, TransportError
from ..flows import Sequence, State, Variant, sequence
from ..flows.steps import Step
from ..sandbox import Buyer, Sandbox
from ..store import Store
from ..trace import Trace
from .orders import DemoOrder
from .shop import ShopServer

Echo = Callable[[str], Any]


def step_line(seq: Sequence, step: Step) -> str:
    """``[private-payment  8/10] ИнвойсБокс → Онлайн касса: Чек "предоплата 100%"``."""
    return f"[{seq.name:<15} {step.number:>2}/{len(seq.steps)}] {step.sender} → {step.receiver}: {step.text}"


class Progress:
    """Notices the documented steps an order went through since it last looked; prints them
    with ``details``, and counts them either way."""

    def __init__(self, echo: Echo, store: Store, sandbox: Sandbox, *, details: bool) -> None:
        self.echo = echo
        self.store = store
        self.sandbox = sandbox
        self.details = details
        self.steps: dict[str, int] = {}  # order id -> documented steps seen
        self._seen: set[tuple[str, int, float, str]] = set()

    def observe(self, order_id: str) -> None:
        sandbox_call(self.sandbox.wait_idle)  # receipts, documents and the webhook are done by now
        trace = Trace()
        tracing.collect(trace, self.store, self.sandbox.inspect, order_id)
        for message in trace.messages(order_ref=order_id):
            key = (message.sequence, message.step, message.at, message.source)
            if key in self._seen:
                continue
            self._seen.add(key)
            self.steps[order_id] = self.steps.get(order_id, 0) + 1
            if self.details:
                seq = sequence(message.sequence)
                self.echo("  " + step_line(seq, seq.step(message.step)))


def sandbox_call(call: Callable[..., Any], *args: Any) -> Any:
    """The sandbox's inspection API and the buyer speak plain HTTP: their failures become ours."""
    try:
        return call(*args)
    except requests.RequestException as exc:
        raise TransportError(f"the local sandbox did not answer: {type(exc).__name__}: {exc}") from exc
    except TimeoutError as exc:
        raise TransportError(f"the local sandbox stayed busy: {exc}", timeout=True) from exc


def _pay(flow: OrderFlow, buyer: Buyer, order: DemoOrder, progress: Progress) -> None:
    """Payment steps 4–10: to the payment page, pay, back to the shop, the notification."""
    payment_url = flow.redirect_buyer(order.order_id)
    sandbox_call(buyer.open, payment_url)
    location = sandbox_call(buyer.pay, payment_url)
    back = sandbox_call(buyer.session.get, location)  # the buyer follows the redirect to the shop
    if back.status_code != 200:
        raise FlowError(f"order {order.order_id}: the shop's return page answered HTTP {back.status_code}: "
                        f"{back.text[:200]}")
    progress.observe(order.order_id)
    state = flow.get(order.order_id).state
    if state is not State.PAID:
        raise FlowError(f"order {order.order_id}: still {state} after the payment notification")


def _refund(flow: OrderFlow, order: DemoOrder, items: Mapping[str, int] | None, progress: Progress) -> None:
    """Refund steps 1–3 (and, for organisations, the shop's own documents, step 6)."""
    flow.claim_refund(order.order_id, reason="покупатель передумал")
    flow.refundable_items(order.order_id)
    flow.refund(order.order_id, items)
    progress.observe(order.order_id)  # money returned, receipt or documents: InvoiceBox's steps
    if order.variant is Variant.LEGAL:
        flow.send_documents(order.order_id)
        progress.observe(order.order_id)


def run_order(flow: OrderFlow, buyer: Buyer, shop: ShopServer, order: DemoOrder, progress: Progress) -> None:
    """Place, pay, ship and refund ``order`` in two steps (or cancel it before payment).

    Prints ``order <id> — <label>: …``: with ``details`` the basket, then every step as it is
    observed; otherwise one line, when the order is done (its step count and final state).
    """
    echo = progress.echo
    if progress.details:
        echo(f"order {order.order_id} — {order.label}: " +
             ", ".join(f"{line.name} × {line.quantity}" for line in order.lines))
    flow.place(order.order_id, list(order.lines), order.customer, description=order.description,
               success_url=shop.return_url(order.order_id))
    progress.observe(order.order_id)
    if order.canceled:
        flow.cancel(order.order_id)
    else:
        _pay(flow, buyer, order, progress)
        flow.ship(order.order_id)
        progress.observe(order.order_id)
        if order.variant is Variant.LEGAL:
            flow.send_documents(order.order_id)
            progress.observe(order.order_id)
        _refund(flow, order, order.partial_refund, progress)
        _refund(flow, order, None, progress)  # whatever is left
    state = flow.get(order.order_id).state
    if not progress.details:
        echo(f"order {order.order_id} — {order.label}: {progress.steps.get(order.order_id, 0)} steps, {state}")
    elif order.canceled:
        echo(f"  canceled before payment: {state}")
