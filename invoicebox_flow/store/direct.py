"""The hot path's statements, run on the database driver's own cursor.

Every statement is still written once, in SQLAlchemy Core, against the tables of :mod:`.schema`;
each statement of the hot path (a notification, a state change, reading an order) is compiled
once per database (:class:`Prepared`) and then executed on the pooled driver connection,
its parameters and results converted by the same SQLAlchemy types. Executing through
SQLAlchemy's ``Connection`` costs, per statement, several times what SQLite needs to run it
(execution contexts, events, result metadata): on a SQLite notification that was the largest
part of the time. Connections come from and return to SQLAlchemy's pool, so pinging, recycling
and forking work as for every other statement; driver errors are raised as SQLAlchemy's
(``sqlalchemy.exc.DBAPIError.instance``), so the store reads them in one way.

Tools that watch SQLAlchemy's statements (``echo``, its ``sqlalchemy.engine`` log at INFO,
``before_cursor_execute`` listeners: an APM's instrumentation) would not see these: while any of
them is on, :func:`watched` says so and the store runs the same statements through SQLAlchemy.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

import attrs
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

Processor = Callable[[Any], Any] | None


_GIVEN = object()  # a parameter the caller gives (as opposed to a constant of the statement)


@attrs.frozen
class Prepared:
    """A Core statement compiled for one dialect, with its parameters' and result's conversions."""

    sql: str
    names: tuple[str, ...]  # the parameters, in the order the driver takes them
    by_name: bool  # psycopg takes a mapping; sqlite3 a sequence, in ``names`` order
    _binds: tuple[tuple[str, Processor, Any], ...]  # (name, conversion, constant or _GIVEN)
    _results: tuple[tuple[int, Callable[[Any], Any]], ...]  # (column, conversion) where there is one

    @classmethod
    def of(cls, statement: ClauseElement, dialect: Dialect) -> Prepared:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        params: dict[str, tuple[Processor, Any]] = {}
        for bind, name in compiled.bind_names.items():
            constant = _GIVEN if bind.required else bind.effective_value
            params[name] = (bind.type.dialect_impl(dialect).bind_processor(dialect), constant)
        names = tuple(compiled.positiontup or ()) if compiled.positional else tuple(params)
        columns = getattr(statement, "exported_columns", ())
        processors = (c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns)
        results = tuple((n, p) for n, p in enumerate(processors) if p is not None)
        return cls(compiled.string, names, not compiled.positional, tuple((n, *params[n]) for n in names), results)

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        bound = [values[name] if constant is _GIVEN else constant for name, _, constant in self._binds]
        for n, (_, process, _) in enumerate(self._binds):
            if process is not None and bound[n] is not None:
                bound[n] = process(bound[n])
        return dict(zip(self.names, bound, strict=True)) if self.by_name else bound

    def row(self, raw: Sequence[Any]) -> list[Any]:
        values = list(raw)
        for n, process in self._results:
            if values[n] is not None:
                values[n] = process(values[n])
        return values


_SQL_LOG = logging.getLogger("sqlalchemy.engine.Engine")  # where SQLAlchemy logs statements


def watched(engine: Engine) -> bool:
    """Whether someone watches the engine's statements — ``echo``, a listener, SQLAlchemy's
    statement log switched on — so that they must go through SQLAlchemy."""
    return bool(engine.echo or engine.dispatch.before_cursor_execute or engine.dispatch.after_cursor_execute
                or _SQL_LOG.isEnabledFor(logging.INFO))


class Statements:
    """An engine's hot statements, each compiled on first use and kept."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._prepared: dict[Any, Prepared] = {}

    def __getitem__(self, statement: Any) -> Prepared:
        prepared = self._prepared.get(statement)
        if prepared is None:
            prepared = self._prepared[statement] = Prepared.of(statement, self.engine.dialect)
        return prepared


class Results(Protocol):
    """What running a statement gives back (a SQLAlchemy ``CursorResult`` is one)."""

    @property
    def rowcount(self) -> int: ...

    def first(self) -> Any: ...

    def all(self) -> Sequence[Any]: ...


class Runner(Protocol):
    """Runs the store's Core statements: on the driver's cursor (:class:`Cursor`), or through
    SQLAlchemy (:class:`Through`); rows are tuples in the statement's column order either way."""

    def execute(self, statement: Any, values: Mapping[str, Any]) -> Results: ...


class Cursor:
    """One checked-out driver connection running prepared statements."""

    def __init__(self, statements: Statements, connection: Any) -> None:
        self._statements = statements
        self._dialect = statements.engine.dialect
        self._connection = connection  # the pool's proxy of the driver connection
        self._cursor = connection.cursor()
        self._prepared: Prepared | None = None

    def execute(self, statement: Any, values: Mapping[str, Any]) -> Results:
        prepared = self._statements[statement]
        self._run(prepared.sql, prepared.parameters(values))
        self._prepared = prepared
        return self

    def _run(self, sql: str, parameters: Any) -> None:
        try:
            self._cursor.execute(sql, parameters)
        except self._dialect.loaded_dbapi.Error as error:
            if self._dialect.is_disconnect(error, self._connection.dbapi_connection, self._cursor):
                self._connection.invalidate(error)  # the pool connects anew
            raise sa_exc.DBAPIError.instance(sql, parameters, error, self._dialect.loaded_dbapi.Error) from None

    def first(self) -> list[Any] | None:
        raw = self._cursor.fetchone()
        return None if raw is None or self._prepared is None else self._prepared.row(raw)

    def all(self) -> list[list[Any]]:
        assert self._prepared is not None
        return [self._prepared.row(raw) for raw in self._cursor.fetchall()]

    @property
    def rowcount(self) -> int:
        return int(self._cursor.rowcount)


@attrs.define
class Through:
    """The same statements through a SQLAlchemy connection (when the engine is watched)."""

    connection: Connection

    def execute(self, statement: Any, values: Mapping[str, Any]) -> Results:
        return self.connection.execute(statement, dict(values))


@contextmanager
def checkout(statements: Statements, lock: AbstractContextManager[Any], *, autocommit: bool = False,
             begin: str | None = None) -> Iterator[Cursor]:
    """A pooled driver connection for one unit of work. ``autocommit`` (PostgreSQL): each
    statement is its own transaction. ``begin``: the statement that opens the transaction
    (SQLite ``BEGIN IMMEDIATE``), committed when the block ends, rolled back on an error. With
    neither, the block runs single statements (SQLite commits each by itself)."""
    engine = statements.engine
    with lock:
        connection = engine.raw_connection()
        dbapi: Any = connection.dbapi_connection
        try:
            if autocommit:
                dbapi.autocommit = True
            cursor = Cursor(statements, connection)
            if begin is None:
                yield cursor
                return
            cursor._run(begin, ())
            try:
                yield cursor
            except BaseException:
                dbapi.rollback()
                raise
            cursor._run("COMMIT", ())
        finally:
            if autocommit and connection.is_valid:
                dbapi.autocommit = False  # as the pool hands it to SQLAlchemy
            connection.close()
