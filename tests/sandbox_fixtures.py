"""Fixtures the sandbox's own tests share, loaded with ``pytest_plugins = ("sandbox_fixtures",)``:
``receiver``, a shop's notification endpoint on loopback, and ``api``, plain HTTP calls
(:class:`sandbox_calls.Api`) to the test module's own ``ib`` sandbox."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sandbox_calls import Api

from invoicebox_flow.sandbox import Sandbox
from invoicebox_flow.sandbox.testing import NotificationReceiver


@pytest.fixture
def receiver() -> Iterator[NotificationReceiver]:
    with NotificationReceiver() as shop:
        yield shop


@pytest.fixture
def api(ib: Sandbox) -> Api:
    return Api(ib)
