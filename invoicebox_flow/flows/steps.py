"""The vocabulary the six documented sequences are written in.

A :class:`Sequence` is one documented diagram: its participants, the colour of its ``rect``
block and its numbered :class:`Step` s. A step keeps what the diagram says (sender, receiver,
arrow, text) and adds what it means for the software (:class:`StepKind`), the lifecycle
triggers that carry it out or observe it, and the InvoiceBox API call it makes, if any.

Everything else — the state machines, the Mermaid diagrams, the trace checks, the Gherkin
coverage test — is derived from these objects, never typed again.
"""

from __future__ import annotations

import enum

import attrs

from ..fiscal import Receipt

BUYER = "Покупатель"
SHOP = "Магазин"
INVOICEBOX = "ИнвойсБокс"
CASH_REGISTER = "Онлайн касса"


class Arrow(str, enum.Enum):
    """Mermaid arrow kinds used by the documented diagrams."""

    SYNC = "->>"  # solid line, arrowhead: a call or a delivered message
    REPLY = "-->>"  # dotted line, arrowhead: an interaction or optional delivery
    OPEN = "-->"  # dotted line, no arrowhead: a read ("Получение списка позиций в заказе")


class StepKind(str, enum.Enum):
    """What a documented step means for the software."""

    SHOP_ACTION = "shop_action"  # the shop calls InvoiceBox
    SHOP_OBSERVATION = "shop_observation"  # InvoiceBox answers, notifies, or the buyer comes back
    INVOICEBOX_EFFECT = "invoicebox_effect"  # payment page, receipts, documents, money movement
    LOCAL = "local"  # buyer and shop between themselves (placing an order, a redirect, documents)


class Variant(str, enum.Enum):
    """Buyer variant; it follows the customer type."""

    PRIVATE = "private"  # natural person: fiscal receipts
    LEGAL = "legal"  # organisation or sole proprietor: reporting documents


class Phase(str, enum.Enum):
    PAYMENT = "payment"
    SHIPMENT = "shipment"
    REFUND = "refund"


class Effect(str, enum.Enum):
    """InvoiceBox-side effects a step stands for; the sandbox emits events with these names."""

    PAGE_INTERACTION = "page_interaction"
    PAYMENT = "payment"
    REDIRECT_TO_SHOP = "redirect_to_shop"
    RECEIPT_REGISTERED = "receipt_registered"
    RECEIPT_DELIVERED = "receipt_delivered"
    DOCUMENTS_DELIVERED = "documents_delivered"
    MONEY_RETURNED = "money_returned"


@attrs.frozen
class Step:
    """One numbered message of a documented diagram."""

    number: int
    sender: str
    receiver: str
    arrow: Arrow
    text: str
    kind: StepKind
    # Lifecycle triggers that perform or observe this step (the first one is the step itself;
    # later ones are its outcomes, e.g. the API answer that completes the shop's call).
    triggers: tuple[str, ...] = ()
    # InvoiceBox API call the step makes (a method name of InvoiceboxClient), if any.
    api_call: str | None = None
    # InvoiceBox-side effect the step stands for, if any (emitted by the sandbox).
    effect: Effect | None = None
    # The receipt (private buyers) the effect concerns.
    receipt: Receipt | None = None
    # One sentence on what happens, in the words of the documentation.
    note: str = ""


@attrs.frozen
class Sequence:
    """One documented sequence diagram."""

    variant: Variant
    phase: Phase
    title: str  # the section heading in the documentation
    participants: tuple[str, ...]
    rect: tuple[int, int, int]
    steps: tuple[Step, ...]

    @property
    def name(self) -> str:
        """``<variant>-<phase>``, e.g. ``private-payment``: file names, test ids, trace keys."""
        return f"{self.variant.value}-{self.phase.value}"

    def step(self, number: int) -> Step:
        return self.steps[number - 1]

    def step_id(self, step: Step) -> str:
        """Stable id of a step, e.g. ``private-payment-08``."""
        return f"{self.name}-{step.number:02d}"

    def steps_for_trigger(self, trigger: str) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if trigger in s.triggers)

    def steps_for_effect(self, effect: Effect, receipt: str | None = None) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.effect is effect and (receipt is None or s.receipt == receipt))
