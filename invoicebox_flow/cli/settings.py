"""The environment the commands read: the store's URL and InvoiceBox's settings.

Secrets (the API token, the notification key) only ever come from here, never from arguments.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from .failures import CliError

if TYPE_CHECKING:
    from ..client import InvoiceboxClient

DB_ENV = "INVOICEBOX_FLOW_DB"
DEFAULT_DB = "sqlite:///invoicebox-flow.db"  # the store's own default (tests/test_cli.py checks they agree)
TOKEN_ENV = "INVOICEBOX_TOKEN"
BASE_URL_ENV = "INVOICEBOX_BASE_URL"
NOTIFICATION_KEY_ENV = "INVOICEBOX_NOTIFICATION_KEY"
MERCHANT_ENV = "INVOICEBOX_MERCHANT_ID"


def optional_env(name: str) -> str | None:
    return os.environ.get(name) or None


def require_env(name: str) -> str:
    value = optional_env(name)
    if value is None:
        raise CliError(f"set {name} in the environment")
    return value


def base_url(override: str | None = None) -> str:
    """``override``, else ``$INVOICEBOX_BASE_URL``, else InvoiceBox's production API."""
    from ..client import DEFAULT_BASE_URL

    return override or optional_env(BASE_URL_ENV) or DEFAULT_BASE_URL


def api_client(url: str | None = None, **options: Any) -> InvoiceboxClient:
    """The InvoiceBox client the environment describes: ``$INVOICEBOX_TOKEN`` (required) and
    :func:`base_url`; ``options`` are the client's keyword arguments."""
    from ..client import InvoiceboxClient

    return InvoiceboxClient(require_env(TOKEN_ENV), base_url=base_url(url), **options)
