"""The environment the commands read: the store's URL and InvoiceBox's settings.

Secrets (the API token, the notification key) only ever come from here, never from arguments.
"""

from __future__ import annotations

import hashlib
import importlib
import os
from typing import TYPE_CHECKING, Any

from .failures import CliError

if TYPE_CHECKING:
    from ..client import InvoiceboxClient
    from ..engine import Handlers
    from ..flows import FlowDefinition
    from ..store import Store

DB_ENV = "INVOICEBOX_FLOW_DB"
DEFAULT_DB = "sqlite:///invoicebox-flow.db"  # the store's own default (tests/test_cli.py checks they agree)
TOKEN_ENV = "INVOICEBOX_TOKEN"
BASE_URL_ENV = "INVOICEBOX_BASE_URL"
NOTIFICATION_KEY_ENV = "INVOICEBOX_NOTIFICATION_KEY"
MERCHANT_ENV = "INVOICEBOX_MERCHANT_ID"
DEFINITION_ENV = "INVOICEBOX_FLOW_DEFINITION"
HANDLERS_ENV = "INVOICEBOX_FLOW_HANDLERS"


def optional_env(name: str) -> str | None:
    return os.environ.get(name) or None


def require_env(name: str) -> str:
    value = optional_env(name)
    if value is None:
        raise CliError(f"set {name} in the environment")
    return value


def load_definition(spec: str | None) -> FlowDefinition:
    """The flow definition ``module:attribute`` names (the documented flow when None).

    The attribute is a :class:`~invoicebox_flow.flows.FlowDefinition`, or a callable without
    arguments returning one."""
    from ..flows import DOCUMENTED_FLOW, FlowDefinition

    if not spec:
        return DOCUMENTED_FLOW
    found = _load("definition", "flow definition", spec, "myshop.flows:PACKING")
    if callable(found) and not isinstance(found, FlowDefinition):
        found = found()
    if not isinstance(found, FlowDefinition):
        raise CliError(f"{spec} is a {type(found).__name__}, not a FlowDefinition")
    return found


def load_handlers(spec: str | None) -> Handlers:
    """The event handlers ``module:attribute`` names (none when None): a
    :class:`~invoicebox_flow.engine.Handlers` registry, the shop's ``OrderFlow`` (its
    handlers), or a callable without arguments returning either."""
    from ..engine import Handlers, OrderFlow

    if not spec:
        return Handlers()
    found = _load("handlers", "event handlers", spec, "myshop.events:handlers")
    if callable(found) and not isinstance(found, (Handlers, OrderFlow)):
        found = found()
    if isinstance(found, OrderFlow):
        found = found.handlers
    if not isinstance(found, Handlers):
        raise CliError(f"{spec} is a {type(found).__name__}, not a Handlers registry or an OrderFlow")
    return found


def _load(option: str, what: str, spec: str, example: str) -> Any:
    """The attribute ``spec`` (``module:attribute``) names, for ``--option``."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise CliError(f"--{option} takes MODULE:ATTRIBUTE (e.g. {example}), not {spec!r}")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as error:
        raise CliError(f"cannot load the {what} {spec!r}: {error}") from None


def base_url(override: str | None = None) -> str:
    """``override``, else ``$INVOICEBOX_BASE_URL``, else InvoiceBox's production API."""
    from ..client import DEFAULT_BASE_URL

    return override or optional_env(BASE_URL_ENV) or DEFAULT_BASE_URL


def api_client(url: str | None = None, *, store: Store | None = None, **options: Any) -> InvoiceboxClient:
    """The InvoiceBox client the environment describes: ``$INVOICEBOX_TOKEN`` (required) and
    :func:`base_url`; ``options`` are the client's keyword arguments.

    With ``store``, the client paces itself with the account's budget kept in that store
    (:class:`~invoicebox_flow.store.StoreRateLimiter`), shared by every worker and webhook
    process of the account: a restarted process cannot burst past InvoiceBox's limit."""
    from ..client import InvoiceboxClient

    token = require_env(TOKEN_ENV)
    if store is not None and "rate_limit" not in options:
        from ..store import StoreRateLimiter

        # the budget is the account's, and the token names the account; only a digest is stored
        options["rate_limit"] = StoreRateLimiter(store, key="token:" + hashlib.sha256(token.encode()).hexdigest()[:16])
    return InvoiceboxClient(token, base_url=base_url(url), **options)
