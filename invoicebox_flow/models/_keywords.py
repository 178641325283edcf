"""No silent typo: constructors and builders refuse a keyword they do not take, naming the
closest one they do (``vat_cod`` → ``vat_code``), with a typed
:class:`~invoicebox_flow.errors.UnknownArgumentError` (also a ``TypeError``)."""

from __future__ import annotations

import difflib
import functools
import inspect
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from ..errors import UnknownArgumentError, ValidationError

__all__ = ["refuse_unknown_keywords", "strict_init", "strict_keywords"]

C = TypeVar("C", bound=type)
F = TypeVar("F", bound=Callable[..., Any])

_NAMED = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def _keywords(func: Callable[..., Any], skip_first: bool) -> frozenset[str]:
    parameters = list(inspect.signature(func).parameters.values())
    return frozenset(p.name for p in parameters[1 if skip_first else 0:] if p.kind in _NAMED)


def refuse_unknown_keywords(owner: str, accepted: frozenset[str], given: Iterable[str]) -> None:
    """Raise :class:`UnknownArgumentError` for the first of ``given`` not in ``accepted``."""
    for key in given:
        if key in accepted:
            continue
        close = difflib.get_close_matches(key, sorted(accepted), n=1, cutoff=0.6) or sorted(
            name for name in accepted if name.startswith(key) or key.startswith(name))[:1]
        hint = f"did you mean {close[0]!r}?" if close else f"valid: {', '.join(sorted(accepted))}"
        message = f"{owner}() got an unexpected keyword argument {key!r}; {hint}"
        raise UnknownArgumentError(message, code="unknown_argument",
                                   fields=[{"name": key, "code": "unknown_argument", "message": message}])


def strict_keywords(target: F) -> F:
    """Wrap a function so an unknown keyword names the closest valid one (the signature, and
    so what type checkers see, is unchanged)."""
    accepted = _keywords(target, skip_first=False)

    @functools.wraps(target)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not accepted.issuperset(kwargs):
            refuse_unknown_keywords(target.__name__, accepted, kwargs)
        return target(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def strict_init(cls: C) -> C:
    """The same for a class's ``__init__`` (put it above ``@attrs.frozen``). A class with a
    ``_name_error(kwargs, error)`` classmethod also gets to say which argument a
    :class:`~invoicebox_flow.errors.ValidationError` raised while converting came from."""
    init: Callable[..., None] = cls.__dict__["__init__"]
    accepted = _keywords(init, skip_first=True)
    name_error = getattr(cls, "_name_error", None)

    @functools.wraps(init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if not accepted.issuperset(kwargs):
            refuse_unknown_keywords(cls.__name__, accepted, kwargs)
        try:
            init(self, *args, **kwargs)
        except ValidationError as error:
            if name_error is None or any(f.get("name") for f in error.fields):
                raise
            raise name_error(kwargs, error) from None

    cls.__init__ = __init__  # type: ignore[misc]
    return cls
