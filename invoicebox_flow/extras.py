"""Optional features and the extras that install them: one place for both.

``pip install invoicebox-flow`` is what a shop that embeds the library needs: the API client,
the models, the lifecycle engine, the store (SQLAlchemy) and the framework-free webhook handler.
Everything else is an extra, named for who uses it:

============  =====================================  ==============================================
extra         feature                                provides
============  =====================================  ==============================================
``sandbox``   the local InvoiceBox, the demo         Flask (and Werkzeug, which Flask brings)
``server``    ``invoicebox-flow webhook serve``      waitress
``postgres``  a PostgreSQL store                     psycopg 3
``svg``       ``invoicebox-flow diagrams --svg``     mermaidx
============  =====================================  ==============================================

A feature whose extra is missing fails with :class:`MissingExtraError`, whose message says
what to install. Only the standard library is imported here: checking costs no import.
"""

from __future__ import annotations

import importlib.util
import sys
from typing import NamedTuple

PROJECT = "invoicebox-flow"


class Extra(NamedTuple):
    name: str
    feature: str  # what it enables, as a message's subject: "the local sandbox needs …"
    modules: tuple[str, ...]  # top-level import names it installs


EXTRAS: dict[str, Extra] = {extra.name: extra for extra in (
    Extra("sandbox", "the local sandbox", ("flask", "werkzeug")),
    Extra("server", "the webhook server", ("waitress",)),
    Extra("postgres", "a PostgreSQL store", ("psycopg",)),
    Extra("svg", "rendering SVG", ("mermaidx",)),
)}


def install_command(extra: str) -> str:
    """``pip install 'invoicebox-flow[sandbox]'`` (quoted: brackets are a glob in most shells)."""
    return f"pip install '{PROJECT}[{EXTRAS[extra].name}]'"


class MissingExtraError(ImportError):
    """A feature needs an optional dependency that is not installed; the message names the extra."""

    def __init__(self, extra: str, feature: str | None = None) -> None:
        self.extra = EXTRAS[extra].name
        self.feature = feature or EXTRAS[extra].feature
        super().__init__(f"{self.feature} needs the '{self.extra}' extra: {install_command(extra)}")


def is_importable(module: str) -> bool:
    """True if ``module`` can be imported, without importing it."""
    if module in sys.modules:
        return sys.modules[module] is not None  # None: imports of it are blocked
    return importlib.util.find_spec(module) is not None


def is_installed(extra: str) -> bool:
    return all(is_importable(module) for module in EXTRAS[extra].modules)


def require(extra: str, feature: str | None = None) -> None:
    """Raise :class:`MissingExtraError` unless every module of ``extra`` can be imported."""
    if not is_installed(extra):
        raise MissingExtraError(extra, feature)


def extra_missing_for(error: ImportError) -> MissingExtraError | None:
    """The :class:`MissingExtraError` that explains ``error`` (an import of a module that an
    extra installs failed), or None when no extra provides the missing module."""
    if isinstance(error, MissingExtraError):
        return error
    top = (error.name or "").split(".")[0]
    for extra in EXTRAS.values():
        if top in extra.modules:
            return MissingExtraError(extra.name)
    return None
