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


class Texts(parsers.StepParser):
    """One step's texts, in Russian and in English: it matches any of them.

    One parser (so one pytest fixture) per step rather than per text halves what loading the
    library costs. A text without ``{…}`` fields matches exactly; one with fields is a ``parse``
    pattern: ``"{name:Q}"`` is one quoted value, ``{n:d}`` an integer, ``{days:Days}`` a number
    of days ("4 дня", "1 day"), ``{sum:Amount}`` an amount ("3420.50").
    """

    def __init__(self, *patterns: str) -> None:
        super().__init__(" | ".join(patterns))  # pytest-bdd names the step's fixture after it
        self.patterns = patterns
        self._parsers = [parsers.parse(p, extra_types=TYPES) if "{" in p else parsers.string(p) for p in patterns]

    def is_matching(self, name: str) -> bool:
        return any(parser.is_matching(name) for parser in self._parsers)

    def parse_arguments(self, name: str) -> dict[str, Any] | None:
        for parser in self._parsers:
            if parser.is_matching(name):
                return parser.parse_arguments(name)
        return None


def display(pattern: str) -> str:
    """How the catalogue shows a pattern: ``"{who:Q}"`` → ``"{who}"``."""
    return re.sub(r"\{(\w+):\w+\}", r"{\1}", pattern)
