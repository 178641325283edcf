"""The handlers of the crash test (``tests/test_events_crash.py``), in a module of their own so
that worker processes load them the way a shop's worker does: ``invoicebox-flow worker
--handlers event_handlers:handlers``.

Both fail 10 % of the time — before doing anything — until they have succeeded for an event
once:

* ``mail`` mails the buyer their payment link and the cancellation of their order. It stands for
  an outside system: its idempotency record is a SQLite file of its own
  (``$EVENTS_CRASH_RECORD``), keyed by the event id. It also logs every call, so the test can
  count how often a success was repeated after a kill.
* ``ledger`` books every event in the shop's own database through the connection it is given
  (``transactional=True``): the row commits with the record of its success, so it exists once.

``mail`` pauses briefly after its effect, where a kill does the most harm: the mail is sent,
its delivery not yet recorded. (``ledger`` does not: its effect and its record are one transaction.)
"""

from __future__ import annotations

import functools
import os
import random
import time

import sqlalchemy as sa

from invoicebox_flow import Handlers, OrderCanceled, OrderEvent, PaymentLinkIssued

RECORD_ENV = "EVENTS_CRASH_RECORD"
MAILED = (PaymentLinkIssued, OrderCanceled)
FAILURE_SHARE = 0.10
PAUSE_AFTER_EFFECT = 0.01

handlers = Handlers(max_attempts=2, retry_base_seconds=0.05, retry_cap_seconds=0.2, lease_seconds=1.0)

record_metadata = sa.MetaData()
sent = sa.Table("sent", record_metadata, sa.Column("event_id", sa.String, primary_key=True))
calls = sa.Table("calls", record_metadata, sa.Column("event_id", sa.String), sa.Column("handler", sa.String),
                 sa.Column("outcome", sa.String), sa.Column("pid", sa.Integer))
shop_metadata = sa.MetaData()
ledger = sa.Table("ledger", shop_metadata, sa.Column("event_id", sa.String), sa.Column("order_id", sa.String))

@functools.cache
def record() -> sa.Engine:
    """The mail service's own database (one engine per process)."""
    engine = sa.create_engine(f"sqlite:///{os.environ[RECORD_ENV]}", connect_args={"timeout": 60})

    @sa.event.listens_for(engine, "connect")
    def _fast(dbapi_connection, _record_info) -> None:  # the mail service's log: speed over durability
        dbapi_connection.execute("PRAGMA journal_mode = WAL")
        dbapi_connection.execute("PRAGMA synchronous = OFF")
    return engine


def _log(conn: sa.Connection, event: OrderEvent, handler: str, outcome: str) -> None:
    conn.execute(calls.insert().values(event_id=event.id, handler=handler, outcome=outcome, pid=os.getpid()))


def _maybe_fail(event: OrderEvent, handler: str) -> None:
    if random.random() < FAILURE_SHARE:
        with record().begin() as conn:
            _log(conn, event, handler, "raised")
        raise RuntimeError(f"{handler} is down (injected)")


@handlers.on(*MAILED, name="mail")
def mail(event: OrderEvent) -> None:
    with record().connect() as conn:
        known = conn.scalar(sa.select(sent.c.event_id).where(sent.c.event_id == event.id)) is not None
    if not known:
        _maybe_fail(event, "mail")
    with record().begin() as conn:  # sent once per event id, however often it is called
        first = conn.execute(sent.insert().prefix_with("OR IGNORE").values(event_id=event.id)).rowcount == 1
        _log(conn, event, "mail", "ok" if first else "repeat")
    time.sleep(PAUSE_AFTER_EFFECT)


@handlers.on(OrderEvent, name="ledger", transactional=True)
def book(event: OrderEvent, connection: sa.Connection) -> None:
    _maybe_fail(event, "ledger")
    connection.execute(ledger.insert().values(event_id=event.id, order_id=event.order_id))
