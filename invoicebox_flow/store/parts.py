"""What each part of the :class:`~.store.Store` — the outbox, the event log, the deliveries, the
fulfilment decisions — needs from it: which database it is, and its transactions."""

from __future__ import annotations

from contextlib import AbstractContextManager

from sqlalchemy.engine import Connection


class StorePart:
    """A group of the store's methods, written against the store's transactions."""

    _is_postgres: bool

    def _read(self) -> AbstractContextManager[Connection]:
        """A connection for one read statement (see ``Store._read``)."""
        raise NotImplementedError

    def _write(self) -> AbstractContextManager[Connection]:
        """A write transaction (see ``Store._write``)."""
        raise NotImplementedError
