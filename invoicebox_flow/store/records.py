"""The records the store reads and writes: small attrs classes, no SQL.

Timestamps are always timezone-aware UTC: a naive ``datetime`` is refused (it would be read
back as UTC on one backend and as local time on another), an aware one is converted to UTC.
``variant``, ``state`` and ``trigger`` accept the ``str`` enums of :mod:`invoicebox_flow.flows` and keep
their plain values, so a record read back compares equal to the one written.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any, Final

import attrs

VARIANTS: Final = ("private", "legal")
JOURNAL_OUTCOMES: Final = ("ok", "failed", "refused")

# Outbox item statuses.
PENDING: Final = "pending"
CLAIMED: Final = "claimed"
DONE: Final = "done"
DEAD: Final = "dead"
OUTBOX_STATUSES: Final = (PENDING, CLAIMED, DONE, DEAD)


def utcnow() -> dt.datetime:
    """The current time, timezone-aware, in UTC."""
    return dt.datetime.now(dt.UTC)


def as_utc(value: dt.datetime) -> dt.datetime:
    """``value`` converted to UTC; a naive datetime is refused rather than guessed."""
    if not isinstance(value, dt.datetime):
        raise TypeError(f"expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()}: pass a timezone-aware one (UTC)")
    return value.astimezone(dt.UTC)


def _optional_utc(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else as_utc(value)


def _plain_str(value: Any) -> Any:
    """The value of a ``str`` enum member (``State.PAID`` → ``"paid"``), anything else as is."""
    return value.value if isinstance(value, enum.Enum) else value


def _non_empty(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{attribute.name} must be a non-empty string, got {value!r}")


class _Unchanged(enum.Enum):
    UNCHANGED = "UNCHANGED"

    def __repr__(self) -> str:
        return "UNCHANGED"


#: Default of :meth:`Store.update`'s ``invoicebox_id``: keep the stored value.
UNCHANGED: Final = _Unchanged.UNCHANGED


@attrs.define
class OrderRecord:
    """One order as stored: the columns the store queries by, and ``data`` for everything else.

    ``version`` starts at 1 and grows by one on every update; it is what compare-and-set checks.
    """

    id: str = attrs.field(validator=_non_empty)
    merchant_order_id: str = attrs.field(validator=_non_empty)
    variant: str = attrs.field(converter=_plain_str, validator=attrs.validators.in_(VARIANTS))
    state: str = attrs.field(converter=_plain_str, validator=_non_empty)
    version: int = 1
    invoicebox_id: str | None = attrs.field(
        default=None, validator=attrs.validators.optional(_non_empty)
    )
    data: dict[str, Any] = attrs.field(factory=dict, validator=attrs.validators.instance_of(dict))
    created_at: dt.datetime = attrs.field(factory=utcnow, converter=as_utc)
    updated_at: dt.datetime = attrs.field(factory=utcnow, converter=as_utc)
    #: The JSON text the store holds for ``data``, for a record it read or wrote (None for one
    #: built in code): what a change that keeps the data hands back (``Store.update``'s
    #: ``data_as_stored``), so that it is neither encoded nor written again.
    data_json: str | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen
class JournalEntry:
    """One line of an order's append-only history: a transition, a failed call or a refusal.

    ``actor`` says who caused it (``"shop"``, ``"buyer"``, ``"invoicebox-notification"``,
    ``"worker:<id>"``…); ``request_id`` is the ``X-Request-Id`` of the API call, if any.
    ``seq`` is assigned by the store (one global, increasing sequence) and set when read back.
    """

    order_id: str = attrs.field(validator=_non_empty)
    trigger: str = attrs.field(converter=_plain_str, validator=_non_empty)
    from_state: str = attrs.field(converter=_plain_str, validator=_non_empty)
    to_state: str = attrs.field(converter=_plain_str, validator=_non_empty)
    actor: str = attrs.field(validator=_non_empty)
    outcome: str = attrs.field(default="ok", validator=attrs.validators.in_(JOURNAL_OUTCOMES))
    request_id: str | None = None
    detail: dict[str, Any] = attrs.field(factory=dict, validator=attrs.validators.instance_of(dict))
    at: dt.datetime = attrs.field(factory=utcnow, converter=as_utc)
    seq: int | None = None


@attrs.frozen
class OutboxDraft:
    """An InvoiceBox call to make later, recorded in the same transaction as the state change.

    ``key`` is unique across the outbox: it names the intent (``"create_order:<order id>"``),
    so the same intent can never be queued twice.
    """

    action: str = attrs.field(validator=_non_empty)
    payload: dict[str, Any] = attrs.field(validator=attrs.validators.instance_of(dict))
    key: str = attrs.field(validator=_non_empty)


@attrs.frozen
class OutboxItem:
    """A queued call as stored, with its delivery bookkeeping.

    ``status`` is ``pending`` (waiting for ``available_at``), ``claimed`` (a worker holds it until
    ``claimed_until``), ``done`` (its outcome was committed with the order) or ``dead`` (given up).
    """

    id: int
    order_id: str
    action: str
    payload: dict[str, Any]
    key: str
    status: str
    attempts: int
    available_at: dt.datetime
    claimed_by: str | None
    claimed_until: dt.datetime | None
    last_error: str | None
    result: dict[str, Any] | None
    created_at: dt.datetime


@attrs.frozen
class EventDraft:
    """A lifecycle event to append in the same transaction as the change it describes.

    The engine decides ``type`` (a class of :mod:`invoicebox_flow.engine.events`) and
    ``payload`` (the order's identity: what its row holds besides state, version and data); the
    store adds what it writes with the change — the order's data, its new version, the time —
    and the feed position.
    """

    id: str = attrs.field(validator=_non_empty)
    type: str = attrs.field(validator=_non_empty)
    trigger: str = attrs.field(converter=_plain_str, validator=_non_empty)
    from_state: str = attrs.field(converter=_plain_str, validator=_non_empty)
    to_state: str = attrs.field(converter=_plain_str, validator=_non_empty)
    actor: str = attrs.field(validator=_non_empty)
    payload: dict[str, Any] = attrs.field(validator=attrs.validators.instance_of(dict))


@attrs.frozen
class StoredEvent:
    """An event as stored. ``position`` is its place in the feed (``Store.read_events``), an
    opaque string a consumer keeps to read on from there."""

    seq: int
    id: str
    position: str
    order_id: str
    order_version: int
    type: str
    trigger: str
    from_state: str
    to_state: str
    actor: str
    at: dt.datetime
    payload: dict[str, Any]
    order_data: dict[str, Any]


@attrs.frozen
class DeliveryClaim:
    """Deliveries to queue with an event, already claimed by ``worker`` for ``lease_seconds``:
    the handlers the committing process runs itself right after the commit."""

    handlers: tuple[str, ...]
    worker: str = attrs.field(validator=_non_empty)
    lease_seconds: float = 60.0


@attrs.frozen
class Delivery:
    """One event to hand to one handler, with its bookkeeping (statuses as in the outbox:
    ``pending``, ``claimed``, ``done``, ``dead``)."""

    id: int
    event_id: str
    handler: str
    order_id: str
    event_type: str
    status: str
    attempts: int
    available_at: dt.datetime
    claimed_by: str | None
    claimed_until: dt.datetime | None
    last_error: str | None
    created_at: dt.datetime
    done_at: dt.datetime | None
