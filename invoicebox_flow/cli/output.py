"""What read commands print: JSON for programs (``--json``), tables for people (:mod:`..terminal`)."""

from __future__ import annotations

import enum
import json
from collections.abc import Collection
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs
import click

from ..terminal import table


def plain(value: Any) -> Any:
    """``value`` as JSON can hold it exactly: amounts as decimal strings, enums by value, times in ISO 8601."""
    if attrs.has(type(value)):
        return plain(attrs.asdict(value, recurse=False))
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return plain(value.value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def echo_json(value: Any) -> None:
    click.echo(json.dumps(plain(value), ensure_ascii=False, indent=2))


def echo_table(header: tuple[str, ...], rows: list[tuple[str, ...]], *, right: Collection[int] = (),
               shrink: Collection[int] = (), optional: Collection[int] = ()) -> None:
    """A table sized to the terminal (:func:`invoicebox_flow.terminal.table`)."""
    for line in table(header, rows, right=right, shrink=shrink, optional=optional):
        click.echo(line)
