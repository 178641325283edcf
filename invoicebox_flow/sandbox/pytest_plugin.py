"""pytest fixtures for a local InvoiceBox (registered as the ``invoicebox_sandbox`` plugin).

* ``invoicebox_sandbox`` — a fresh :class:`~invoicebox_flow.sandbox.Sandbox` per test. Options
  go through a marker: ``@pytest.mark.invoicebox_sandbox(rate_limit=5, notification_url=...)``.
* ``invoicebox_sandbox_session`` — one sandbox for the whole session (fast); call ``reset()``
  where a test needs a clean slate.
* ``invoicebox_buyer`` — a :class:`~invoicebox_flow.sandbox.Buyer`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .buyer import Buyer
from .runtime import Sandbox

MARKER = "invoicebox_sandbox"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}(**options): options for the invoicebox_sandbox fixture "
                                       "(the keyword arguments of invoicebox_flow.sandbox.Sandbox)")


@pytest.fixture
def invoicebox_sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    options: dict[str, Any] = {}
    for marker in reversed(list(request.node.iter_markers(MARKER))):  # the closest marker wins
        options.update(marker.kwargs)
    with Sandbox(**options) as sandbox:
        yield sandbox


@pytest.fixture(scope="session")
def invoicebox_sandbox_session() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def invoicebox_buyer() -> Buyer:
    return Buyer()
