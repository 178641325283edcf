"""Shared fixtures: a live sandbox, the client, and a shop whose notification endpoint is served
over HTTP so InvoiceBox's webhook really travels; the store (SQLite, or every backend for tests
marked ``every_backend``) comes from ``db_fixtures.py``, the sandbox tests' receiver and raw API
from ``sandbox_fixtures.py``. The helpers behind them live in ``helpers.py``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from helpers import FAST_RETRIES, Shop, make_shop

from invoicebox_flow.client import InvoiceboxClient
from invoicebox_flow.engine import OrderFlow
from invoicebox_flow.sandbox import Buyer, Sandbox

pytest_plugins = ("db_fixtures", "sandbox_fixtures")


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(notification_retry_delays=FAST_RETRIES) as ib:
        yield ib


@pytest.fixture
def client(sandbox) -> Iterator[InvoiceboxClient]:
    with InvoiceboxClient(sandbox.token, base_url=sandbox.url, timeout=(2.0, 5.0), backoff_base=0.01) as c:
        yield c


@pytest.fixture
def shop(client, store, sandbox) -> Iterator[Shop]:
    s, served = make_shop(client, store, sandbox)
    yield s
    served.close()


@pytest.fixture
def flow(shop) -> OrderFlow:
    return shop.flow


@pytest.fixture
def buyer() -> Buyer:
    return Buyer()


# --- executable specs: the coverage checks run after the scenarios they check -------------
#
# The invoicebox_flow plugin records what each scenario did (traces, fired transitions);
# tests/test_trace_matches_definitions.py reads that record. It is ordered after every other
# test so the record is complete when it runs, and told how many spec scenarios were selected.

SPEC_MODULE = "test_specs.py"
SPEC_COVERAGE_MARK = "spec_coverage"
_SPECS_SELECTED = pytest.StashKey[int]()


def pytest_configure(config):
    config.addinivalue_line("markers", f"{SPEC_COVERAGE_MARK}: checks what the spec scenarios of the session did; "
                                       "runs after every other test")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    """Coverage checks last (after every scenario has been recorded); count the spec scenarios
    that will run (after -k, -m, node ids, --lf …)."""
    config.stash[_SPECS_SELECTED] = sum(1 for item in items if item.path.name == SPEC_MODULE)
    items.sort(key=lambda item: item.get_closest_marker(SPEC_COVERAGE_MARK) is not None)  # stable


@pytest.fixture(scope="session")
def spec_scenarios_selected(request) -> int:
    """How many scenarios of ``test_specs.py`` this session runs."""
    return request.config.stash.get(_SPECS_SELECTED, 0)
