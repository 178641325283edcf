"""Former home of the sandbox's pytest fixtures, kept so that ``-p invoicebox_flow.sandbox.pytest_plugin``
and ``pytest_plugins = ["invoicebox_flow.sandbox.pytest_plugin"]`` keep working.

The fixtures now come from the ``invoicebox_flow`` plugin (:mod:`invoicebox_flow.testing.plugin`),
which the package registers with pytest on installation; this module only re-exports them.
"""

from __future__ import annotations

import pytest

from ..testing.fixtures import invoicebox_buyer, invoicebox_sandbox, invoicebox_sandbox_session, register_markers

__all__ = ["invoicebox_buyer", "invoicebox_sandbox", "invoicebox_sandbox_session"]


def pytest_configure(config: pytest.Config) -> None:
    register_markers(config)
