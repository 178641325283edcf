"""Between rows and records: the inserts every write shares and the mapping of result rows.

Kept apart from :mod:`.store` so that the store's methods read as transactions, not as column
lists.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy import insert
from sqlalchemy.engine import Connection, Row

from ..errors import ValidationError
from . import backend
from .records import CLAIMED, PENDING, JournalEntry, OrderRecord, OutboxDraft, OutboxItem
from .schema import journal as journal_table
from .schema import orders as orders_table

_INSERT_JOURNAL = insert(journal_table)


def check_journal(entry: JournalEntry, order_id: str, state: str) -> None:
    if entry.order_id != order_id:
        raise ValueError(f"journal entry is for order {entry.order_id!r}, not {order_id!r}")
    if entry.to_state != state:
        raise ValueError(f"journal entry goes to {entry.to_state!r} but the order is stored in {state!r}")


def journal_row(entry: JournalEntry) -> dict[str, Any]:
    """The journal table's columns of ``entry``."""
    return {
        "order_id": entry.order_id,
        "at": entry.at,
        "trigger": entry.trigger,
        "from_state": entry.from_state,
        "to_state": entry.to_state,
        "actor": entry.actor,
        "outcome": entry.outcome,
        "request_id": entry.request_id,
        "detail": entry.detail,
    }


def insert_journal(conn: Connection, entry: JournalEntry) -> None:
    conn.execute(_INSERT_JOURNAL, journal_row(entry))


#: The outbox's columns a new intent sets (the others stay NULL).
OUTBOX_COLUMNS = ("order_id", "action", "payload", "key", "status", "attempts", "available_at", "claimed_by",
                  "claimed_until", "created_at")


def outbox_rows(order_id: str, drafts: Sequence[OutboxDraft], now: dt.datetime, claim_as: str | None,
                lease_seconds: float) -> tuple[dict[str, Any], ...]:
    """The outbox rows of new intents: pending, or already claimed by ``claim_as``."""
    if not drafts:
        return ()
    if claim_as is not None and lease_seconds <= 0:
        raise ValueError("lease_seconds must be > 0")
    claim: dict[str, Any] = {"status": PENDING, "attempts": 0, "claimed_by": None, "claimed_until": None}
    if claim_as is not None:
        claim = {"status": CLAIMED, "attempts": 1, "claimed_by": claim_as,
                 "claimed_until": now + dt.timedelta(seconds=lease_seconds)}
    return tuple({"order_id": order_id, "action": draft.action, "payload": draft.payload, "key": draft.key,
                  "available_at": now, "created_at": now, **claim} for draft in drafts)


def duplicate_error(error: sa_exc.IntegrityError, record: OrderRecord) -> Exception:
    violated = backend.unique_violation(error)
    if violated & {"orders.id", "orders.merchant_order_id"}:
        which = f"id {record.id!r}" if "orders.id" in violated else f"merchantOrderId {record.merchant_order_id!r}"
        return ValidationError(
            f"an order with {which} exists already",
            code="merchant_order_id_duplicate",
            fields=[{"name": "merchantOrderId", "code": "merchant_order_id_duplicate", "message": "already used"}],
        )
    if "orders.invoicebox_id" in violated:
        return ValidationError(
            f"InvoiceBox order {record.invoicebox_id} belongs to another order already", code="invoicebox_id_duplicate"
        )
    if "outbox.key" in violated:
        return ValidationError(f"order {record.id}: an outbox intent with this key exists already", code="outbox_key_duplicate")
    return error


#: Where ``data`` is in a row of the ``orders`` columns.
DATA_COLUMN = list(orders_table.c.keys()).index("data")


def order_of(row: Sequence[Any], stored: Sequence[Any] | None = None) -> OrderRecord:
    """The record of a row that starts with the ``orders`` columns, in the table's order;
    ``stored``, the same row as the driver gave it, keeps the data's JSON text with the record."""
    order_id, merchant_order_id, invoicebox_id, variant, state, version, data, created_at, updated_at = row[:9]
    text = None if stored is None else stored[DATA_COLUMN]
    return OrderRecord(id=order_id, merchant_order_id=merchant_order_id, variant=variant, state=state,
                       version=version, invoicebox_id=invoicebox_id, data=data, created_at=created_at,
                       updated_at=updated_at, data_json=text if isinstance(text, str) else None)


def journal_entry_of(row: Row[Any]) -> JournalEntry:
    return JournalEntry(
        order_id=row.order_id,
        trigger=row.trigger,
        from_state=row.from_state,
        to_state=row.to_state,
        actor=row.actor,
        outcome=row.outcome,
        request_id=row.request_id,
        detail=row.detail,
        at=row.at,
        seq=row.seq,
    )


def outbox_item_of(row: Row[Any]) -> OutboxItem:
    return OutboxItem(
        id=row.id,
        order_id=row.order_id,
        action=row.action,
        payload=row.payload,
        key=row.key,
        status=row.status,
        attempts=row.attempts,
        available_at=row.available_at,
        claimed_by=row.claimed_by,
        claimed_until=row.claimed_until,
        last_error=row.last_error,
        result=row.result,
        created_at=row.created_at,
    )
