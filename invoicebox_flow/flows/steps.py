"""The vocabulary the documented sequences and the lifecycle are written in.

A :class:`Sequence` is one documented diagram: its participants, the colour of its ``rect``
block and its numbered :class:`Step` s. A step keeps what the diagram says (sender, receiver,
arrow, text) and adds what it means for the software (:class:`StepKind`) and the lifecycle
:class:`Transition` s that carry it out or observe it — declared *on the step*, so the trigger,
the step number and the API call of a documented transition are written once.

Everything else — the state machines, the Mermaid diagrams, the trace checks, the Gherkin
coverage — is derived from these objects, never typed again.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from typing import Any

import attrs

from ..fiscal import Receipt
from ..protocol import Endpoint

BUYER = "Покупатель"
SHOP = "Магазин"
INVOICEBOX = "ИнвойсБокс"
CASH_REGISTER = "Онлайн касса"


class Arrow(enum.StrEnum):
    """Mermaid arrow kinds used by the documented diagrams."""

    SYNC = "->>"  # solid line, arrowhead: a call or a delivered message
    REPLY = "-->>"  # dotted line, arrowhead: an interaction or optional delivery
    OPEN = "-->"  # dotted line, no arrowhead: a read ("Получение списка позиций в заказе")


class StepKind(enum.StrEnum):
    """What a documented step means for the software."""

    SHOP_ACTION = "shop_action"  # the shop calls InvoiceBox
    SHOP_OBSERVATION = "shop_observation"  # InvoiceBox answers, notifies, or the buyer comes back
    INVOICEBOX_EFFECT = "invoicebox_effect"  # payment page, receipts, documents, money movement
    LOCAL = "local"  # buyer and shop between themselves (placing an order, a redirect, documents)


class Variant(enum.StrEnum):
    """Buyer variant; it follows the customer type."""

    PRIVATE = "private"  # natural person: fiscal receipts
    LEGAL = "legal"  # organisation or sole proprietor: reporting documents


class Phase(enum.StrEnum):
    PAYMENT = "payment"
    SHIPMENT = "shipment"
    REFUND = "refund"


class Effect(enum.StrEnum):
    """InvoiceBox-side effects a step stands for; the sandbox emits events with these names."""

    PAGE_INTERACTION = "page_interaction"
    PAYMENT = "payment"
    REDIRECT_TO_SHOP = "redirect_to_shop"
    RECEIPT_REGISTERED = "receipt_registered"
    RECEIPT_DELIVERED = "receipt_delivered"
    DOCUMENTS_DELIVERED = "documents_delivered"
    MONEY_RETURNED = "money_returned"


class CallRole(enum.StrEnum):
    """The part a transition plays in one InvoiceBox API call.

    A write is split in two so that two workers cannot both make it: the *request* commits the
    ``*_requested`` state and the outbox intent before the call, the *outcome* (accepted or
    refused) commits after it. A read is one transition journaled with its answer.
    """

    REQUEST = "request"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    READ = "read"


class Origin(enum.StrEnum):
    """Where a transition comes from."""

    DOCUMENTED = "documented"  # carries out or observes a step of a documented diagram
    UNDRAWN = "undrawn"  # a path real orders take that the diagrams do not draw
    EXTENSION = "extension"  # added by an integrator between documented steps


def _plain(value: str) -> str:
    # the plain value of an enum member (State.PAID -> "paid"): what is stored and compared
    return value.value if isinstance(value, enum.Enum) else str(value)


def _states(value: str | Iterable[str]) -> tuple[str, ...]:
    return (_plain(value),) if isinstance(value, str) else tuple(_plain(v) for v in value)


def _dest(value: object) -> object:
    return _plain(value) if isinstance(value, str) else value


@attrs.frozen
class OneOf:
    """A destination chosen at run time among ``states`` (a refund ends partially or fully refunded).

    ``back``: the order goes back to one of the states it was in before (a canceled refund), so a
    state a shop inserts after one of them (``packed`` after ``paid``) is one of them too."""

    states: tuple[str, ...] = attrs.field(converter=_states)
    back: bool = False


@attrs.frozen
class Resume:
    """The destination of a refused call: back to the state the call was requested from."""


RESUME = Resume()

#: A guard: a named condition (the engine's built-ins or the shop's own), or a callable taking
#: the order's view and returning whether the transition may fire.
Guard = str | Callable[[Any], bool]


@attrs.frozen
class Message:
    """How an extension transition appears in a sequence diagram of the extended flow."""

    sender: str
    receiver: str
    text: str
    arrow: Arrow = Arrow.SYNC


@attrs.frozen
class Transition:
    """One lifecycle transition: ``trigger`` moves an order from one of ``sources`` to ``dest``.

    ``dest`` is a state name, ``None`` for an internal transition (the trigger runs and is
    journaled, the state stays), a :class:`OneOf` chosen at run time, or :data:`RESUME`.
    ``call`` and ``role`` say which InvoiceBox API call the transition requests, reads or
    records the outcome of. The builder of a definition fills ``phase``, ``sequence`` and
    ``step`` (for documented transitions: the step that declares them) and ``origin``.
    """

    trigger: str = attrs.field(converter=_plain)
    sources: tuple[str, ...] = attrs.field(converter=_states)
    dest: str | OneOf | Resume | None = attrs.field(default=None, converter=_dest)
    guard: Guard | None = None
    call: Endpoint | None = None
    role: CallRole | None = None
    description: str = ""
    message: Message | None = None
    phase: Phase | None = None
    sequence: str | None = None  # the documented sequence (``private-shipment``) it belongs to
    # Documented: the number of the step it carries out or observes. Extension with a message:
    # the documented step it is drawn before (None: at the end of its phase).
    step: int | None = None
    origin: Origin = Origin.DOCUMENTED

    @property
    def guard_name(self) -> str | None:
        """The guard as it is named in diagrams and errors."""
        if self.guard is None:
            return None
        if isinstance(self.guard, str):
            return self.guard
        return getattr(self.guard, "__name__", "guard")


@attrs.frozen
class Step:
    """One numbered message of a documented diagram, and the transitions that carry it out."""

    number: int
    sender: str
    receiver: str
    arrow: Arrow
    text: str
    kind: StepKind
    # Lifecycle transitions that perform or observe this step: the first one is the step itself,
    # later ones are its outcomes (the API answer that completes the shop's call).
    moves: tuple[Transition, ...] = ()
    # InvoiceBox-side effect the step stands for, if any (emitted by the sandbox).
    effect: Effect | None = None
    # The receipt (private buyers) the effect concerns.
    receipt: Receipt | None = None
    # One sentence on what happens, in the words of the documentation.
    note: str = ""

    @property
    def triggers(self) -> tuple[str, ...]:
        return tuple(move.trigger for move in self.moves)

    @property
    def api_call(self) -> str | None:
        """The name of the InvoiceBox API method the step calls (``create_shipment``), if any."""
        return next((move.call.name for move in self.moves
                     if move.call is not None and move.role in (CallRole.REQUEST, CallRole.READ)), None)


@attrs.frozen
class Sequence:
    """One documented sequence diagram (or its extension in an integrator's flow)."""

    variant: Variant
    phase: Phase
    title: str  # the section heading in the documentation
    participants: tuple[str, ...]
    rect: tuple[int, int, int]
    steps: tuple[Step, ...]
    flow: str | None = None  # the extended flow's name; None: the documented sequence

    @property
    def name(self) -> str:
        """``<variant>-<phase>``, e.g. ``private-payment``: file names, test ids, trace keys.
        An extended flow's sequence is ``<flow>-<variant>-<phase>``."""
        base = f"{self.variant.value}-{self.phase.value}"
        return f"{self.flow}-{base}" if self.flow else base

    def step(self, number: int) -> Step:
        return self.steps[number - 1]

    def step_id(self, step: Step) -> str:
        """Stable id of a step, e.g. ``private-payment-08``."""
        return f"{self.name}-{step.number:02d}"

    def steps_for_trigger(self, trigger: str) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if trigger in s.triggers)

    def steps_for_effect(self, effect: Effect, receipt: str | None = None) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.effect is effect and (receipt is None or s.receipt == receipt))
