"""Opening the store a command names, with one-line errors for every way that can fail.

Read commands open with ``create=False``: a SQLite file that does not exist, or a database
without the store's tables, is an error and nothing is created (a typo in ``--db`` must not
leave an empty database behind and report "no orders"). Commands that write (the demo, the
webhook, the worker) create the tables when needed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from ..extras import extra_missing_for, install_command
from .failures import CliError, one_line
from .settings import DB_ENV

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from ..store import Store

log = logging.getLogger("invoicebox_flow.cli")

URL_FORMS = "sqlite:///FILE or postgresql+psycopg://USER:PASSWORD@HOST/DB"


def open_store(url: str, *, create: bool, announce_new: bool = False) -> Store:
    """The store at ``url``, checked to be usable now rather than half-way through a command.

    ``create=False``: the store must exist. ``announce_new``: say so (a warning) when a SQLite
    file is created, for long-running commands where a mistyped path would otherwise go unseen.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from ..store import Store

    parsed = _parse(url)
    shown = parsed.render_as_string(hide_password=True)
    _load_driver(parsed, shown)
    new_file = _sqlite_file(parsed, shown) if parsed.get_backend_name() == "sqlite" else None
    try:
        if not create:
            _check_exists(parsed, shown, new_file)
        store = Store(parsed)
        store.counts()  # connects, and creates the tables if they are missing (create=True only)
    except SQLAlchemyError as exc:
        raise CliError(f"cannot open the store {shown}: {one_line(exc)}") from exc
    if announce_new and new_file is not None:
        log.warning("%s did not exist: created a new, empty store there", new_file)
    return store


@contextmanager
def existing_store(url: str) -> Iterator[Store]:
    """``with existing_store(db) as store:`` — a read command's store (``create=False``),
    disposed of when the block ends."""
    store = open_store(url, create=False)
    try:
        yield store
    finally:
        store.dispose()


def _parse(url: str) -> URL:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url)
    except ArgumentError:
        # never echo the text: a mistyped URL may still hold a password
        raise CliError(f"the store URL (--db or {DB_ENV}) cannot be read; write {URL_FORMS}") from None


def _load_driver(url: URL, shown: str) -> None:
    """Import the URL's database driver now, so that a missing one is named clearly."""
    from sqlalchemy.exc import NoSuchModuleError

    try:
        url.get_dialect().import_dbapi()
    except NoSuchModuleError:
        raise CliError(f"cannot open the store {shown}: unknown kind of database {url.drivername!r}; "
                       f"write {URL_FORMS}") from None
    except ImportError as exc:
        if (exc.name or "").split(".")[0] == "psycopg2":
            raise CliError(f"cannot open the store {shown}: the URL asks for the psycopg2 driver; write "
                           f"postgresql+psycopg://… and {install_command('postgres')}") from None
        missing = extra_missing_for(exc)
        if missing is not None:
            raise CliError(str(missing)) from None
        raise CliError(f"cannot open the store {shown}: its database driver is not installed ({exc})") from None


def _sqlite_file(url: URL, shown: str) -> Path | None:
    """The SQLite file of ``url`` when it does not exist yet (None when it does)."""
    if url.database in (None, "", ":memory:"):
        raise CliError(f"{shown} is an in-memory database, gone when the command ends; name a file: sqlite:///FILE")
    path = Path(url.database)
    return None if path.exists() else path


def _check_exists(url: URL, shown: str, missing_file: Path | None) -> None:
    """Fail unless ``url`` holds a store; creates nothing (not even an empty SQLite file)."""
    if missing_file is not None:
        raise CliError(f"no store at {missing_file} ({missing_file.resolve()} does not exist); "
                       f"name the store with --db or {DB_ENV}")
    from sqlalchemy import create_engine, inspect
    from sqlalchemy.pool import NullPool

    from ..store import schema

    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            present = inspect(conn).has_table(schema.orders.name)
    finally:
        engine.dispose()
    if not present:
        raise CliError(f"{shown} holds no invoicebox-flow store (it has no {schema.orders.name!r} table)")
