"""The plugin's fixtures. Importing this module costs nothing: the sandbox, the store and the
engine are imported when a fixture is first used.

Provided for any test:

* ``invoicebox_sandbox`` — a fresh :class:`~invoicebox_flow.sandbox.Sandbox` per test; options go
  through a marker: ``@pytest.mark.invoicebox_sandbox(rate_limit=5, notification_url=...)``;
* ``invoicebox_sandbox_session`` — one sandbox for the whole session (fast); ``reset()`` it
  where a test needs a clean slate (the step library does, per scenario);
* ``invoicebox_buyer`` — a :class:`~invoicebox_flow.sandbox.Buyer`.

What the step library runs on, each one overridable in your ``conftest.py``:

* ``invoicebox_flow_factory`` — ``(ShopParts) -> OrderFlow``: **your shop** (see :mod:`.shop`);
* ``invoicebox_store`` — the store the flow keeps its orders in (SQLite in ``tmp_path``);
* ``invoicebox_shop_app`` — ``(OrderFlow) -> WSGI app``: the endpoint that receives
  InvoiceBox's notifications (the package's by default; yours to test your own handler), served
  at ``invoicebox_notification_path``;
* ``invoicebox_baskets`` / ``invoicebox_customers`` — the named baskets and buyers the steps know;
* ``invoicebox_world`` — the scenario's state the steps share (:class:`~.world.InvoiceboxWorld`);
* ``invoicebox_flow_record`` — what this session's scenarios did (traces, fired transitions).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from .shop import NOTIFICATION_PATH, AppFactory, FlowFactory, default_flow_factory, default_shop_app

if TYPE_CHECKING:
    from ..models import BasketItem
    from ..sandbox import Buyer, Sandbox
    from ..store import Store
    from .examples import Customer
    from .recording import FlowRecord
    from .world import InvoiceboxWorld

SANDBOX_MARKER = "invoicebox_sandbox"
RECORD = pytest.StashKey["FlowRecord"]()


def register_markers(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{SANDBOX_MARKER}(**options): options for the invoicebox_sandbox fixture "
                                       "(the keyword arguments of invoicebox_flow.sandbox.Sandbox)")


def flow_record(config: pytest.Config) -> FlowRecord:
    """The session's :class:`~.recording.FlowRecord`, created on first use."""
    if RECORD not in config.stash:
        from .recording import FlowRecord

        config.stash[RECORD] = FlowRecord()
    return config.stash[RECORD]


@pytest.fixture
def invoicebox_sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    from ..sandbox import Sandbox

    options: dict[str, Any] = {}
    for marker in reversed(list(request.node.iter_markers(SANDBOX_MARKER))):  # the closest marker wins
        options.update(marker.kwargs)
    with Sandbox(**options) as sandbox:
        yield sandbox


@pytest.fixture(scope="session")
def invoicebox_sandbox_session() -> Iterator[Sandbox]:
    from ..sandbox import Sandbox

    with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def invoicebox_buyer() -> Buyer:
    from ..sandbox import Buyer

    return Buyer()


@pytest.fixture
def invoicebox_store(tmp_path: Any) -> Iterator[Store]:
    from ..store import Store

    store = Store(f"sqlite:///{tmp_path / 'invoicebox-flow.db'}")
    yield store
    store.dispose()


@pytest.fixture
def invoicebox_flow_factory() -> FlowFactory:
    return default_flow_factory


@pytest.fixture
def invoicebox_shop_app() -> AppFactory:
    return default_shop_app


@pytest.fixture
def invoicebox_notification_path() -> str:
    return NOTIFICATION_PATH


@pytest.fixture
def invoicebox_baskets() -> dict[str, Callable[[], list[BasketItem]]]:
    from .examples import BASKETS

    return dict(BASKETS)


@pytest.fixture
def invoicebox_customers() -> dict[str, Callable[[], Customer]]:
    from .examples import CUSTOMERS

    return dict(CUSTOMERS)


@pytest.fixture
def invoicebox_world(request: pytest.FixtureRequest, invoicebox_flow_factory: FlowFactory,
                     invoicebox_shop_app: AppFactory, invoicebox_notification_path: str,
                     invoicebox_baskets: dict[str, Callable[[], list[BasketItem]]],
                     invoicebox_customers: dict[str, Callable[[], Customer]]) -> Iterator[InvoiceboxWorld]:
    from .world import InvoiceboxWorld

    world = InvoiceboxWorld(request, flow_factory=invoicebox_flow_factory, shop_app=invoicebox_shop_app,
                            notification_path=invoicebox_notification_path, baskets=invoicebox_baskets,
                            customers=invoicebox_customers)
    yield world
    world.close()


@pytest.fixture(scope="session")
def invoicebox_flow_record(request: pytest.FixtureRequest) -> FlowRecord:
    return flow_record(request.config)
