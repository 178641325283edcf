"""Where the integrator's shop plugs into the step library.

The scenarios never build an :class:`~invoicebox_flow.OrderFlow` themselves: they hand
:class:`ShopParts` — a client of the scenario's InvoiceBox, the store, the credentials and the
notification URL the plugin serves — to the ``invoicebox_flow_factory`` fixture's callable, and
use the flow it returns. Override that fixture to test *your* shop: your definition, your
``can_fulfil`` policy, your URLs::

    @pytest.fixture
    def invoicebox_flow_factory():
        def build(parts):
            return make_my_shop_flow(parts.client, parts.store, **parts.settings())
        return build
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..engine import OrderFlow, OrderView

NOTIFICATION_PATH = "/invoicebox/notification"
SUCCESS_URL = "http://shop.example/ok"
FAIL_URL = "http://shop.example/fail"


@dataclass(frozen=True)
class ShopParts:
    """Everything a shop's :class:`OrderFlow` needs in one scenario.

    Build the flow with these credentials and URLs rather than your configuration's: a scenario
    may change them (``Дано магазин настроен с неверным ключом уведомлений``). ``can_fulfil`` is
    the policy a scenario imposes (``Дано магазин не может выполнить ни одного заказа``), or
    ``None``: then use your own.
    """

    client: Any  # InvoiceboxClient of the scenario's sandbox
    store: Any  # Store (the ``invoicebox_store`` fixture)
    merchant_id: str
    notification_key: str
    notification_url: str
    success_url: str = SUCCESS_URL
    fail_url: str = FAIL_URL
    can_fulfil: Callable[[OrderView], bool] | None = None

    def __repr__(self) -> str:  # never the notification key
        return f"ShopParts(merchant_id={self.merchant_id!r}, notification_url={self.notification_url!r})"

    def settings(self) -> dict[str, Any]:
        """The keyword arguments of :class:`OrderFlow` after ``client`` and ``store``."""
        settings: dict[str, Any] = {
            "merchant_id": self.merchant_id, "notification_key": self.notification_key,
            "notification_url": self.notification_url, "success_url": self.success_url, "fail_url": self.fail_url,
        }
        if self.can_fulfil is not None:
            settings["can_fulfil"] = self.can_fulfil
        return settings


FlowFactory = Callable[[ShopParts], "OrderFlow"]
AppFactory = Callable[["OrderFlow"], Any]  # the flow → the shop's WSGI app that receives notifications


def default_flow_factory(parts: ShopParts) -> OrderFlow:
    """A plain :class:`OrderFlow` with the package's definitions."""
    from ..engine import OrderFlow

    return OrderFlow(parts.client, parts.store, **parts.settings())


def default_shop_app(flow: OrderFlow) -> Any:
    """The package's WSGI notification endpoint (:func:`invoicebox_flow.make_wsgi_app`)."""
    from ..webhook import make_wsgi_app

    return make_wsgi_app(flow, path=NOTIFICATION_PATH)
