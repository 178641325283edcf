""":class:`Sandbox`: a local InvoiceBox served over real HTTP on loopback, in a background thread.

::

    with Sandbox() as ib:
        client = InvoiceboxClient(ib.token, base_url=ib.url)
        ...
        ib.wait_idle()
        assert ib.receipts(order_id)[0]["type"] == "prepayment_full"

The server is werkzeug's threaded WSGI server around the Flask app of :mod:`.app`; the
inspection helpers go through :class:`~.inspect.SandboxInspector`, i.e. over HTTP too, exactly
as they would against a sandbox started from the command line.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from ..serving import LoopbackServer
from .app import create_app
from .core import DEFAULT_RETRY_DELAYS, DEFAULT_SHOP_NAME, SandboxSettings
from .engine import SandboxEngine
from .inspect import SandboxInspector
from .instruments import DEFAULT_INSTRUMENT
from .notification_body import SANDBOX
from .notifier import RESPONSE_DEADLINE


class Sandbox:
    """A running local InvoiceBox. Use it as a context manager, or ``start()``/``stop()``.

    Options beyond the credentials and the address (docs/sandbox.md explains each):

    * ``rate_limit``/``rate_window`` — requests per window per token; ``rate_limit_retry_after``
      False answers the 429 without ``Retry-After`` (the docs promise none);
    * ``notification_retry_delays``, ``notification_timeout`` — delivery of notifications;
      ``notification_shape`` ``"production"`` writes bodies like the captured production one;
    * ``status_notifications`` — statuses (``"canceled"``, ``"expired"``) notified like payments;
    * ``refund_payout_delay`` — seconds of sandbox clock a refund stays ``created`` before its
      money is returned (InvoiceBox: "up to two banking days");
    * ``auto_shipment`` — InvoiceBox ships an order of services itself right after payment;
    * ``payment_instrument`` — how page payments are made: ``preauthorized`` (default),
      ``card`` or ``guarantee``; it decides whether a DELETE may reverse a paid order.
    * ``shop_name`` — the shop as its payment page names it;
    * ``shipping_control`` — the shop setting «Контроль отгрузки на платёжной странице»: the
      payer waits on the page until the shop has answered the payment notification.
    """

    def __init__(
        self,
        token: str | None = None,
        notification_key: str | None = None,
        merchant_id: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        notification_url: str | None = None,
        rate_limit: int = 100,
        rate_window: float = 30.0,
        unique_merchant_order_id: bool = True,
        notification_retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS,
        notification_timeout: float = RESPONSE_DEADLINE,
        *,
        shop_name: str = DEFAULT_SHOP_NAME,
        shipping_control: bool = False,
        rate_limit_retry_after: bool = True,
        notification_shape: str = SANDBOX,
        status_notifications: Iterable[str] = (),
        refund_payout_delay: float = 0.0,
        auto_shipment: bool = False,
        payment_instrument: str = DEFAULT_INSTRUMENT,
    ) -> None:
        self._settings = SandboxSettings(
            token=token or secrets.token_hex(16),  # the v3 token shape: 32 hex digits
            notification_key=notification_key or secrets.token_urlsafe(24),
            merchant_id=merchant_id or str(uuid.uuid4()),
            notification_url=notification_url,
            rate_limit=rate_limit,
            rate_window=rate_window,
            unique_merchant_order_id=unique_merchant_order_id,
            notification_retry_delays=tuple(notification_retry_delays),
            notification_timeout=notification_timeout,
            shop_name=shop_name,
            shipping_control=shipping_control,
            rate_limit_retry_after=rate_limit_retry_after,
            notification_shape=notification_shape,
            status_notifications=tuple(status_notifications),
            refund_payout_delay=refund_payout_delay,
            auto_shipment=auto_shipment,
            payment_instrument=payment_instrument,
        )
        self.host = host
        self.port = port
        self._engine: SandboxEngine | None = None
        self._server: LoopbackServer | None = None
        self._inspector: SandboxInspector | None = None
        self._url: str | None = None

    def __repr__(self) -> str:  # never the token or the notification key
        return f"Sandbox(url={self._url!r}, merchant_id={self.merchant_id!r})"

    # --- credentials -----------------------------------------------------------------------------

    @property
    def token(self) -> str:
        return self._settings.token

    @property
    def notification_key(self) -> str:
        return self._settings.notification_key

    @property
    def merchant_id(self) -> str:
        return self._settings.merchant_id

    @property
    def notification_url(self) -> str | None:
        return self._settings.notification_url

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``; clients use it as base URL with the ``v3`` (or ``l3``) prefix."""
        if self._url is None:
            raise RuntimeError("the sandbox is not running: use `with Sandbox() as ib:` or call start()")
        return self._url

    @property
    def inspect(self) -> SandboxInspector:
        if self._inspector is None:
            raise RuntimeError("the sandbox is not running")
        return self._inspector

    @property
    def running(self) -> bool:
        return self._server is not None and self._server.running

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self) -> Sandbox:
        if self._server is not None:
            return self
        engine = SandboxEngine(self._settings)
        server = LoopbackServer(create_app(engine), host=self.host, port=self.port, name="invoicebox-sandbox",
                                start=False)
        self._url = engine.base_url = server.url
        self._engine, self._server = engine, server
        server.start()
        self._inspector = SandboxInspector(self._url)
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        assert self._engine is not None
        self._engine.stop()
        self._server.close()
        if self._inspector is not None:
            self._inspector.close()
        self._server = self._engine = self._inspector = None
        self._url = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # --- inspection, delegated to the inspection API ------------------------------------------------

    def orders(self) -> list[dict[str, Any]]:
        return self.inspect.orders()

    def order(self, order_id: str) -> dict[str, Any]:
        return self.inspect.order(order_id)

    def refunds(self, order_id: str | None = None) -> list[dict[str, Any]]:
        return self.inspect.refunds(order_id)

    def shipments(self, order_id: str | None = None) -> list[dict[str, Any]]:
        return self.inspect.shipments(order_id)

    def receipts(self, order_id: str | None = None) -> list[dict[str, Any]]:
        return self.inspect.receipts(order_id)

    def documents(self, order_id: str | None = None) -> list[dict[str, Any]]:
        return self.inspect.documents(order_id)

    def mailbox(self, address: str | None = None) -> list[dict[str, Any]]:
        return self.inspect.mailbox(address)

    def notifications(self, order_id: str | None = None) -> list[dict[str, Any]]:
        return self.inspect.notifications(order_id)

    def events(self, order_id: str | None = None) -> list[dict[str, Any]]:
        return self.inspect.events(order_id)

    def requests(self) -> list[dict[str, Any]]:
        return self.inspect.requests()

    def advance_clock(self, seconds: float) -> str:
        return self.inspect.advance_clock(seconds)

    def inject_fault(self, endpoint: str, kind: str, times: int = 1, delay: float | None = None) -> dict[str, Any]:
        return self.inspect.inject_fault(endpoint, kind, times, delay)

    def inject_notification_fault(self, kind: str, times: int = 1, delay: float | None = None) -> dict[str, Any]:
        return self.inspect.inject_notification_fault(kind, times, delay)

    def clear_faults(self) -> None:
        self.inspect.clear_faults()

    def send_test_notification(self, url: str | None = None) -> dict[str, Any]:
        return self.inspect.send_test_notification(url)

    def redeliver(self, order_id: str) -> None:
        self.inspect.redeliver(order_id)

    def inject_refund_fault(self, kind: str = "canceled", times: int = 1) -> dict[str, Any]:
        """The next ``times`` refunds end ``canceled``: no money returned, no receipt."""
        return self.inspect.inject_refund_fault(kind, times)

    def cancel_refund(self, refund_id: str) -> dict[str, Any]:
        """A refund still waiting for its payout (``refund_payout_delay``) ends ``canceled``."""
        return self.inspect.cancel_refund(refund_id)

    def order_settings(self, order_id: str) -> dict[str, Any]:
        return self.inspect.order_settings(order_id)

    def set_order_settings(self, order_id: str, *, payment_instrument: str | None = None,
                           auto_shipment: bool | None = None) -> dict[str, Any]:
        """One order's ``payment_instrument`` and ``auto_shipment``, set before the buyer pays."""
        return self.inspect.set_order_settings(order_id, payment_instrument=payment_instrument,
                                               auto_shipment=auto_shipment)

    def invoice_bank_transfer(self, order_id: str) -> dict[str, Any]:
        """The (legal) payer chose to pay by bank transfer: invoice mailed, order still unpaid."""
        return self.inspect.invoice_bank_transfer(order_id)

    def settle_bank_transfer(self, order_id: str) -> dict[str, Any]:
        """The transfer arrived: the order is paid now; receipt and notification follow late."""
        return self.inspect.settle_bank_transfer(order_id)

    # --- drift: changes at InvoiceBox the shop is not told about, journaled as "drift" events -------

    def drift_cancel_order(self, order_id: str) -> dict[str, Any]:
        """Cancel an unpaid order at InvoiceBox, with no notification."""
        return self.inspect.drift_cancel_order(order_id)

    def drift_expire_order(self, order_id: str) -> dict[str, Any]:
        """Expire an unpaid order at InvoiceBox now, with no notification."""
        return self.inspect.drift_expire_order(order_id)

    def drift_change_amount(self, order_id: str, amount: Decimal | int | str,
                            vat_amount: Decimal | int | str | None = None) -> dict[str, Any]:
        """Change the order's ``amount`` (and ``vatAmount``) at InvoiceBox; the basket stays."""
        return self.inspect.drift_change_amount(order_id, amount, vat_amount)

    def drift_refund(self, order_id: str, basket_items: list[dict[str, Any]] | None = None, *,
                     description: str | None = None, merchant_order_id: str | None = None) -> dict[str, Any]:
        """A refund made in the personal account (default: all that is left), paid out at once."""
        return self.inspect.drift_refund(order_id, basket_items, description=description,
                                         merchant_order_id=merchant_order_id)

    def drift_shipment(self, order_id: str, basket_items: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """A shipment registered at InvoiceBox by hand (default: the whole order), papers issued at once."""
        return self.inspect.drift_shipment(order_id, basket_items)

    def wait_idle(self, timeout: float = 10.0) -> None:
        self.inspect.wait_idle(timeout)

    def reset(self) -> None:
        self.inspect.reset()
