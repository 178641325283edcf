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
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

import attrs
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from .connections import Held, HotConnections

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
    # what ``parameters`` does, worked out once from ``_binds``: the constants in place, the
    # given values by position, and the conversions by position
    _template: list[Any] = attrs.field(init=False, eq=False, repr=False)
    _given: tuple[tuple[int, str], ...] = attrs.field(init=False, eq=False, repr=False)
    _converted: tuple[tuple[int, Callable[[Any], Any]], ...] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        constants = [None if constant is _GIVEN else constant for _, _, constant in self._binds]
        object.__setattr__(self, "_template", constants)
        object.__setattr__(self, "_given", tuple((n, name) for n, (name, _, constant) in enumerate(self._binds)
                                                 if constant is _GIVEN))
        object.__setattr__(self, "_converted", tuple((n, process) for n, (_, process, _) in enumerate(self._binds)
                                                     if process is not None))

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
        bound = self._template.copy()
        for n, name in self._given:
            bound[n] = values[name]
        for n, process in self._converted:
            value = bound[n]
            if value is not None:
                bound[n] = process(value)
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
    """What running a statement gives back."""

    @property
    def rowcount(self) -> int: ...

    def first(self) -> Any: ...

    def all(self) -> Sequence[Any]: ...

    def deferred(self) -> tuple[Sequence[Any], Callable[[Sequence[Any]], Sequence[Any]]]:
        """The rows as the driver gave them, and what converts one into a row of :meth:`all`
        (for a caller that may need none of them converted)."""
        ...


class Runner(Protocol):
    """Runs the store's Core statements: on the driver's cursor (:class:`Cursor`), or through
    SQLAlchemy (:class:`Through`); rows are tuples in the statement's column order either way."""

    def execute(self, statement: Any, values: Mapping[str, Any]) -> Results: ...


class Cursor:
    """One hot connection running prepared statements (see :class:`Unit`)."""

    def __init__(self, statements: Statements, held: Held, *, keep: bool = False) -> None:
        self._statements = statements
        self._dialect = statements.engine.dialect
        self._held = held
        self._cursor = held.kept_cursor() if keep else held.dbapi.cursor()
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
            if self._dialect.is_disconnect(error, self._held.dbapi, self._cursor):
                self._held.broken = True  # never reused: the next unit of work connects anew
            raise sa_exc.DBAPIError.instance(sql, parameters, error, self._dialect.loaded_dbapi.Error) from None

    def first(self) -> list[Any] | None:
        raw = self._cursor.fetchone()
        return None if raw is None or self._prepared is None else self._prepared.row(raw)

    def all(self) -> list[list[Any]]:
        assert self._prepared is not None
        return [self._prepared.row(raw) for raw in self._cursor.fetchall()]

    def deferred(self) -> tuple[list[Any], Callable[[Sequence[Any]], Sequence[Any]]]:
        assert self._prepared is not None
        return self._cursor.fetchall(), self._prepared.row

    @property
    def rowcount(self) -> int:
        return int(self._cursor.rowcount)


@attrs.define
class Through:
    """The same statements through a SQLAlchemy connection (when the engine is watched)."""

    connection: Connection

    def execute(self, statement: Any, values: Mapping[str, Any]) -> Results:
        return _Converted(self.connection.execute(statement, dict(values)))


@attrs.define
class _Converted:
    """SQLAlchemy's result, whose rows are converted already."""

    result: Any

    @property
    def rowcount(self) -> int:
        return int(self.result.rowcount)

    def first(self) -> Any:
        return self.result.first()

    def all(self) -> Sequence[Any]:
        return list(self.result.all())

    def deferred(self) -> tuple[Sequence[Any], Callable[[Sequence[Any]], Sequence[Any]]]:
        return self.result.all(), _as_is


def _as_is(row: Sequence[Any]) -> Sequence[Any]:
    return row


class Unit:
    """One unit of work on a hot connection (:mod:`.connections`), as ``with Unit(...) as cursor``.

    ``autocommit`` (PostgreSQL): each statement is its own transaction. ``begin``: the statement
    that opens the transaction (SQLite ``BEGIN IMMEDIATE``), committed when the block ends and
    rolled back on an error. With neither, the block runs single statements (SQLite commits each
    by itself). ``translate`` turns a driver error into the store's own (a busy database), or
    returns None. A class rather than a generator: it runs on every read and write."""

    __slots__ = ("_autocommit", "_begin", "_connections", "_cursor", "_held", "_lock", "_statements", "_translate")

    def __init__(self, statements: Statements, connections: HotConnections, lock: AbstractContextManager[Any], *,
                 autocommit: bool, begin: str | None,
                 translate: Callable[[sa_exc.DBAPIError], Exception | None]) -> None:
        self._statements = statements
        self._connections = connections
        self._lock = lock
        self._autocommit = autocommit
        self._begin = begin
        self._translate = translate
        self._held: Held | None = None
        self._cursor: Cursor | None = None

    def __enter__(self) -> Cursor:
        self._lock.__enter__()
        try:
            held = self._held = self._connections.take()
            if self._autocommit and not held.dbapi.autocommit:
                held.dbapi.autocommit = True  # the hot path's connections stay in autocommit
            # psycopg's cursor costs more to make than a read: one per connection, kept (its rows are
            # client-side). Not sqlite3's: one left after a single-row read would hold its snapshot.
            cursor = self._cursor = Cursor(self._statements, held, keep=self._autocommit)
            if self._begin is not None:
                cursor._run(self._begin, ())
            return cursor
        except BaseException as error:
            self._release()
            self._raise_translated(error)
            raise

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, _tb: Any) -> None:
        try:
            if self._begin is not None:
                held, cursor = self._held, self._cursor
                assert held is not None and cursor is not None
                if error is None:
                    cursor._run("COMMIT", ())
                elif not held.broken:
                    held.dbapi.rollback()
        except BaseException as failed:
            self._release()
            self._raise_translated(failed)
            raise
        self._release()
        if error is not None:
            self._raise_translated(error)

    def _release(self) -> None:
        held, self._held, self._cursor = self._held, None, None
        try:
            if held is not None:
                self._connections.give(held)
        finally:
            self._lock.__exit__(None, None, None)

    def _raise_translated(self, error: BaseException) -> None:
        if isinstance(error, sa_exc.DBAPIError):
            translated = self._translate(error)
            if translated is not None:
                raise translated from error
