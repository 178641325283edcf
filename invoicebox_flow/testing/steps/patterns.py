"""Step patterns: the ``parse`` types the library's step texts use."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pytest_bdd import parsers


class _Type:
    """A ``parse`` field type: the text it matches and what it becomes."""

    def __init__(self, pattern: str, convert: Callable[[str], Any]) -> None:
        self.pattern = pattern
        self._convert = convert

    def __call__(self, text: str) -> Any:
        return self._convert(text)


TYPES: dict[str, Any] = {
    "Q": _Type(r'[^"]+', str),  # one quoted value: never spans a closing quote
    "Days": _Type(r"\d+ (?:день|дня|дней|days?)", lambda text: int(text.split(maxsplit=1)[0])),
    "Amount": _Type(r"\d+(?:[.,]\d+)?", str),
}


def text(pattern: str) -> parsers.parse:
    """A step pattern: ``"{name:Q}"`` is one quoted value, ``{n:d}`` an integer, ``{days:Days}``
    a number of days ("4 дня", "1 day"), ``{sum:Amount}`` an amount ("3420.50")."""
    return parsers.parse(pattern, extra_types=TYPES)


def display(pattern: str) -> str:
    """How the catalogue shows a pattern: ``"{who:Q}"`` → ``"{who}"``."""
    return re.sub(r"\{(\w+):\w+\}", r"{\1}", pattern)
