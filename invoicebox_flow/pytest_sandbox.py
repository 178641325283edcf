"""The ``invoicebox_sandbox`` pytest plugin's entry point (registered in pyproject.toml).

pytest loads every installed plugin at start-up, in every project of the environment. Without
the ``sandbox`` extra this entry point registers nothing instead of failing pytest on a missing
Flask; with it, the fixtures of :mod:`invoicebox_flow.sandbox.pytest_plugin` are available.
"""

from __future__ import annotations

from .extras import is_installed

if is_installed("sandbox"):
    from .sandbox.pytest_plugin import (
        invoicebox_buyer,
        invoicebox_sandbox,
        invoicebox_sandbox_session,
        pytest_configure,
    )

    __all__ = ["invoicebox_buyer", "invoicebox_sandbox", "invoicebox_sandbox_session", "pytest_configure"]
