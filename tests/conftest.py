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
# test so the record is complete when it runs, and told how many spec scenarios this process
# ran. Under pytest-xdist (`-n auto --dist loadgroup`, the README's command) both modules are one
# xdist_group, so one worker runs the scenarios and then their checks; a process that ran only
# some of them (another --dist mode, -k, --lf) makes the checks run the scenarios themselves.

SPEC_MODULE = "test_specs.py"
SPEC_COVERAGE_MARK = "spec_coverage"
_SPECS_RUN = pytest.StashKey[int]()


def pytest_configure(config):
    config.addinivalue_line("markers", f"{SPEC_COVERAGE_MARK}: checks what the spec scenarios of the session did; "
                                       "runs after every other test")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    """Coverage checks last, after every scenario has been recorded."""
    items.sort(key=lambda item: item.get_closest_marker(SPEC_COVERAGE_MARK) is not None)  # stable


def pytest_runtest_setup(item):
    if item.path.name == SPEC_MODULE:
        item.config.stash[_SPECS_RUN] = item.config.stash.get(_SPECS_RUN, 0) + 1


@pytest.fixture(scope="session")
def spec_scenarios_run(request) -> int:
    """How many scenarios of ``test_specs.py`` this process had run when first asked (by the
    coverage checks, which run after them)."""
    return request.config.stash.get(_SPECS_RUN, 0)
