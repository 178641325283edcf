"""Database fixtures (registered for every test by ``conftest.py``): ``db_url`` and the one
``store`` fixture, on a real SQLite file by default.

A test (or a module, with ``pytestmark``) marked ``every_backend`` runs once per backend:
SQLite, and PostgreSQL when ``INVOICEBOX_FLOW_TEST_PG_URL`` is set (see ``.ci/postgres.sh``;
skipped without it). Each PostgreSQL test gets a schema of its own, dropped afterwards, so tests
never see each other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from invoicebox_flow.store import JournalEntry, OrderRecord, OutboxDraft, Store

PG_URL_ENV = "INVOICEBOX_FLOW_TEST_PG_URL"
PG_SKIP_REASON = "set INVOICEBOX_FLOW_TEST_PG_URL to run PostgreSQL tests"

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


def sqlite_url(directory: Any, name: str = "store.db") -> str:
    return f"sqlite:///{directory / name}"


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A fresh, empty schema in the test PostgreSQL database; yields a URL whose connections
    use it (``search_path``). Skips the test when no PostgreSQL URL is configured."""
    base = os.environ.get(PG_URL_ENV)
    if not base:
        pytest.skip(PG_SKIP_REASON)
    schema = f"test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base, poolclass=NullPool)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


EVERY_BACKEND = "every_backend"  # the marker: run on SQLite and on PostgreSQL


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{EVERY_BACKEND}: runs on SQLite and on PostgreSQL ({PG_URL_ENV})")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One run per backend for the tests marked ``every_backend``."""
    if "db_url" in metafunc.fixturenames and metafunc.definition.get_closest_marker(EVERY_BACKEND):
        metafunc.parametrize("db_url", BACKENDS, indirect=True)


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    """The URL of an empty database: a SQLite file in ``tmp_path``, or a PostgreSQL schema."""
    if getattr(request, "param", "sqlite") == "sqlite":
        yield sqlite_url(tmp_path)
    else:
        with postgres_schema() as url:
            yield url


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """The shop's store on the database at ``db_url``."""
    s = Store(db_url)
    yield s
    s.dispose()


# --- records -------------------------------------------------------------------------------


def new_order(n: int | str, *, state: str = "order_placed", variant: str = "private", **kwargs: Any) -> OrderRecord:
    data = kwargs.pop("data", {"amount": Decimal("2400.00"), "vatAmount": Decimal("400.00"), "counter": 0})
    return OrderRecord(id=f"o-{n}", merchant_order_id=f"SHOP-{n}", variant=variant, state=state, data=data, **kwargs)


def placed(order: OrderRecord, *, actor: str = "buyer") -> JournalEntry:
    return JournalEntry(order_id=order.id, trigger="place", from_state="new", to_state=order.state, actor=actor)


def step(order_id: str, from_state: str, to_state: str, *, trigger: str = "advance", actor: str = "shop", **kwargs: Any) -> JournalEntry:
    return JournalEntry(order_id=order_id, trigger=trigger, from_state=from_state, to_state=to_state, actor=actor, **kwargs)


def draft(order_id: str, action: str = "create_order", n: int = 0) -> OutboxDraft:
    return OutboxDraft(action=action, payload={"orderId": order_id, "amount": Decimal("2400.00")}, key=f"{action}:{order_id}:{n}")


def add(store: Store, n: int | str, *, outbox: int = 0, **kwargs: Any) -> OrderRecord:
    """Store order ``n`` with ``outbox`` pending intents."""
    order = new_order(n, **kwargs)
    return store.add_order(order, placed(order), [draft(order.id, n=i) for i in range(outbox)])
