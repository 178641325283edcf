"""PostgreSQL for the benchmarks: a throwaway schema per run, so figures never mix data."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

PG_URL_ENV = "INVOICEBOX_FLOW_TEST_PG_URL"


@contextmanager
def pg_schema(base_url: str) -> Iterator[str]:
    """A fresh schema in the PostgreSQL database, dropped afterwards; yields a URL using it."""
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base_url, poolclass=NullPool)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()
