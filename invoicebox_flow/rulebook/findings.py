"""What a rule is, and what checking a request finds: refusals (:class:`Problem`) and things
InvoiceBox tolerates but a shop should know (:class:`RuleWarning`), gathered in a :class:`Report`.

A refusal becomes a typed error of :mod:`invoicebox_flow.errors` on the shop's side and an error
envelope on the sandbox's side, from the same :class:`Problem` objects, so both sides refuse
the same requests with the same codes.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Iterator
from typing import Literal

import attrs

from ..errors import ValidationError
from .sources import Source

__all__ = ["Collector", "Finding", "Problem", "Report", "Rule", "RuleWarning", "logger"]

logger = logging.getLogger("invoicebox_flow.rulebook")

Severity = Literal["error", "warning"]


@attrs.frozen
class Rule:
    """One rule of the book: what is checked, the code a breach is reported with, and why.

    ``decision`` says, where the sources disagree or are silent, which reading was chosen.
    ``error`` is the :class:`~invoicebox_flow.errors.ValidationError` subclass a refusal raises.
    """

    id: str
    code: str
    severity: Severity
    summary: str
    sources: tuple[Source, ...]
    decision: str = ""
    error: type[ValidationError] = ValidationError

    def exception(self, field: str, message: str) -> ValidationError:
        """The typed error of one breach, shaped like the API's error envelope."""
        return self.error(message, code=self.code, fields=[{"name": field, "code": self.code, "message": message}])


@attrs.frozen
class Finding:
    """One thing a check found: the ``code`` it is reported with, the JSON path of the
    ``field`` (``basketItems[0].totalVatAmount``), a readable ``message`` and the ``source``
    the rule rests on (its first one; :attr:`rule` names the rule, with all its sources)."""

    code: str
    field: str
    message: str
    source: Source
    rule: str

    def as_field(self) -> dict[str, str]:
        """``{"name", "code", "message"}``, the field shape of the API's error envelope."""
        return {"name": self.field, "code": self.code, "message": self.message}


@attrs.frozen
class Problem(Finding):
    """A refusal: the request must not be sent (client) or is answered 422 (sandbox)."""

    error: type[ValidationError] = ValidationError


@attrs.frozen
class RuleWarning(Finding):
    """Accepted, but the shop should know (e.g. a company without KPP gets incomplete documents)."""


@attrs.frozen
class Report:
    """Everything one check found. Empty ``problems``: the request may be sent."""

    problems: tuple[Problem, ...] = ()
    warnings: tuple[RuleWarning, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    def error(self) -> ValidationError | None:
        """The typed error of the first problem, listing every problem in ``fields``; None if ok."""
        if not self.problems:
            return None
        first = self.problems[0]
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        return first.error(first.message + more, code=first.code, fields=[p.as_field() for p in self.problems])

    def log_warnings(self, what: str) -> None:
        """One WARNING line naming each warning's field and code (never the values themselves:
        they may be a payer's personal data)."""
        if self.warnings:
            listed = "; ".join(f"{w.field}: {w.code}" for w in self.warnings)
            logger.warning("%s has %d warning(s): %s", what, len(self.warnings), listed)

    def raise_if_refused(self, what: str = "request") -> None:
        """Log the warnings, then raise the typed error if anything is refused."""
        self.log_warnings(what)
        error = self.error()
        if error is not None:
            raise error

    def __add__(self, other: Report) -> Report:
        return Report(self.problems + other.problems, self.warnings + other.warnings)


class Collector:
    """Gathers findings while a check walks a request; :meth:`report` freezes them."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.warnings: list[RuleWarning] = []
        self._scope: type[ValidationError] | None = None

    @contextlib.contextmanager
    def within(self, error: type[ValidationError]) -> Iterator[None]:
        """Refusals of general rules (a missing field, a too long text) inside a part of the
        request raise that part's error class: BasketError in the basket, CustomerError in the
        customer."""
        outer, self._scope = self._scope, error
        try:
            yield
        finally:
            self._scope = outer

    def refuse(self, rule: Rule, field: str, message: str) -> None:
        error = rule.error
        if self._scope is not None and not issubclass(error, self._scope):
            error = self._scope
        self.problems.append(Problem(code=rule.code, field=field, message=message, source=rule.sources[0],
                                     rule=rule.id, error=error))

    def warn(self, rule: Rule, field: str, message: str) -> None:
        self.warnings.append(RuleWarning(code=rule.code, field=field, message=message, source=rule.sources[0],
                                         rule=rule.id))

    def extend(self, report: Report) -> None:
        self.problems.extend(report.problems)
        self.warnings.extend(report.warnings)

    def refused(self, rules: Iterable[Rule] = ()) -> bool:
        """True if anything was refused (by one of ``rules``, when given)."""
        ids = {rule.id for rule in rules}
        return any(not ids or p.rule in ids for p in self.problems)

    def report(self) -> Report:
        return Report(tuple(self.problems), tuple(self.warnings))
