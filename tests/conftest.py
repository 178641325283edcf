"""Shared fixtures: a live sandbox, a real SQLite store, the client, and a shop whose
notification endpoint is served over HTTP so InvoiceBox's webhook really travels."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from invoicebox_flow.client import InvoiceboxClient
from invoicebox_flow.engine import OrderFlow
from invoicebox_flow.models import LegalCustomer
from invoicebox_flow.sandbox import Buyer, Sandbox
from invoicebox_flow.serving import LoopbackServer
from invoicebox_flow.store import Store
from invoicebox_flow.testing import examples
from invoicebox_flow.testing.examples import course_lines, goods_lines, private_customer  # noqa: F401 — re-exported
from invoicebox_flow.webhook import make_wsgi_app

PG_URL_ENV = "INVOICEBOX_FLOW_TEST_PG_URL"
FAST_RETRIES = (0.02, 0.05, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1)


class Shop:
    """The integrator's side in tests: the flow, its store and its notification URL."""

    def __init__(self, flow: OrderFlow, notification_url: str):
        self.flow = flow
        self.notification_url = notification_url


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(notification_retry_delays=FAST_RETRIES) as ib:
        yield ib


@pytest.fixture
def store(tmp_path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'flow.db'}")
    yield s
    s.dispose()


@pytest.fixture
def client(sandbox) -> Iterator[InvoiceboxClient]:
    with InvoiceboxClient(sandbox.token, base_url=sandbox.url, timeout=(2.0, 5.0), backoff_base=0.01) as c:
        yield c


def make_shop(client: InvoiceboxClient, store: Store, sandbox: Sandbox, **flow_kwargs) -> tuple[Shop, LoopbackServer]:
    holder: dict = {}

    def app(environ, start_response):  # the flow is created after the server has its URL
        return holder["wsgi"](environ, start_response)

    served = LoopbackServer(app)
    url = served.url + "/invoicebox/notification"
    flow = OrderFlow(client, store, merchant_id=sandbox.merchant_id, notification_key=sandbox.notification_key,
                     notification_url=url, success_url="http://shop.example/ok", fail_url="http://shop.example/fail",
                     **flow_kwargs)
    holder["wsgi"] = make_wsgi_app(flow)
    return Shop(flow, url), served


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


# --- order data: the samples the feature files name (invoicebox_flow.testing.examples) ---------


def legal_customer(sole_proprietor: bool = False) -> LegalCustomer:
    return examples.sole_proprietor() if sole_proprietor else examples.company()


def in_days(days: float) -> datetime:
    return datetime.now(timezone.utc) + timedelta(days=days)


def pg_url() -> str | None:
    return os.environ.get(PG_URL_ENV) or None


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
