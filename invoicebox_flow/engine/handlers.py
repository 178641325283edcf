"""The shop's event handlers, by name: what each one takes, and how its deliveries are retried.

::

    handlers = Handlers(max_attempts=8)

    @handlers.on(OrderPaid)
    def send_payment_mail(event: OrderPaid) -> None:
        mailer.send(event.order_id, idempotency_key=event.id)

    flow = OrderFlow(client, store, handlers=handlers)   # or @flow.on(OrderPaid) directly

A handler is known by a **stable name** (by default ``module.function``): deliveries are
recorded per (event, name), and the worker that runs them must have the same names — start it
from the shop's code (``Worker(flow)``) or with ``invoicebox-flow worker --handlers
myshop.events:handlers``. A lambda or a nested function has no stable name: give it ``name=``.

``transactional=True`` handlers are called as ``handler(event, connection)`` inside the store
transaction that records their success: what they write through ``connection`` (the store's
own database) commits with that record or not at all, so it happens exactly once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

import attrs

from ..errors import ValidationError
from .events import EVENT_TYPES, OrderEvent

F = TypeVar("F", bound=Callable[..., Any])


@attrs.frozen
class Subscription:
    """One handler: its name, the event classes (and, optionally, triggers) it takes."""

    name: str
    handler: Callable[..., object]
    types: tuple[type[OrderEvent], ...]
    triggers: frozenset[str] | None = None
    transactional: bool = False
    replay: bool = False  # also hand it the events committed before it was first registered

    def accepts(self, type_name: str, trigger: str) -> bool:
        """Whether it takes an event stored as ``type_name`` fired by ``trigger``."""
        cls = EVENT_TYPES.get(type_name)
        return cls is not None and issubclass(cls, self.types) and (self.triggers is None or trigger in self.triggers)


def _positive(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value > 0:
        raise ValidationError(f"Handlers({attribute.name}=...) must be > 0, not {value!r}", code="validation")


@attrs.define
class Handlers:
    """A registry of handlers and the delivery policy they share.

    A delivery whose handler raises is retried after ``retry_base_seconds`` × 2^(attempt − 1),
    at most ``retry_cap_seconds``, and parked ``dead`` after ``max_attempts`` (list and revive
    them with ``invoicebox-flow events list|retry``). ``lease_seconds`` is how long a worker
    holds a delivery: make it longer than the slowest handler, or a second worker may take the
    delivery over while the first is still running it.
    """

    max_attempts: int = attrs.field(default=10, validator=_positive)
    retry_base_seconds: float = attrs.field(default=1.0, validator=_positive)
    retry_cap_seconds: float = attrs.field(default=600.0, validator=_positive)
    lease_seconds: float = attrs.field(default=60.0, validator=_positive)
    _subscriptions: dict[str, Subscription] = attrs.field(factory=dict, init=False, repr=False)

    def on(self, *types: type[OrderEvent], name: str | None = None, triggers: Iterable[str] | None = None,
           transactional: bool = False, replay: bool = False) -> Callable[[F], F]:
        """Decorator form of :meth:`subscribe`: ``@handlers.on(OrderPaid)``."""
        def register(handler: F) -> F:
            self.subscribe(handler, *types, name=name, triggers=triggers, transactional=transactional, replay=replay)
            return handler
        return register

    def subscribe(self, handler: Callable[..., object], *types: type[OrderEvent], name: str | None = None,
                  triggers: Iterable[str] | None = None, transactional: bool = False,
                  replay: bool = False) -> Subscription:
        """Hand ``handler`` every event of ``types`` (``OrderEvent``: all of them), and only
        those fired by ``triggers`` when given. ``replay``: also the events committed before
        the handler was first registered in the store (otherwise it starts with the next one)."""
        if not types:
            raise ValidationError("subscribe to at least one event class (OrderEvent for all)", code="handler_types")
        unknown = [t for t in types if not (isinstance(t, type) and issubclass(t, OrderEvent))]
        if unknown:
            raise ValidationError(f"not event classes: {unknown!r}; subscribe to OrderPaid, OrderEvent …",
                                  code="handler_types")
        subscription = Subscription(name or _stable_name(handler), handler, tuple(types),
                                    None if triggers is None else frozenset(triggers), transactional, replay)
        known = self._subscriptions.get(subscription.name)
        if known is not None and known != subscription:
            raise ValidationError(f"a different handler is subscribed as {subscription.name!r} already",
                                  code="handler_name")
        self._subscriptions[subscription.name] = subscription
        return subscription

    def __iter__(self) -> Iterator[Subscription]:
        return iter(tuple(self._subscriptions.values()))

    def __len__(self) -> int:
        return len(self._subscriptions)

    def get(self, name: str) -> Subscription | None:
        return self._subscriptions.get(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._subscriptions)

    def retry_delay(self, attempts: int) -> float:
        """Seconds before the next try of a delivery that failed ``attempts`` times."""
        return float(min(self.retry_cap_seconds, self.retry_base_seconds * 2 ** min(max(attempts - 1, 0), 30)))


def _stable_name(handler: Callable[..., object]) -> str:
    module = getattr(handler, "__module__", None)
    qualname = getattr(handler, "__qualname__", None)
    if not module or not qualname or "<" in qualname:
        raise ValidationError(f"{handler!r} has no stable name (a lambda or a nested function): "
                              "subscribe it with name=...", code="handler_name")
    return f"{module}.{qualname}"
