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
from typing import Any

from ..serving import LoopbackServer
from .app import create_app
from .engine import DEFAULT_RETRY_DELAYS, DEFAULT_SHOP_NAME, SandboxEngine, SandboxSettings
from .inspect import SandboxInspector
from .notifier import RESPONSE_DEADLINE


class Sandbox:
    """A running local InvoiceBox. Use it as a context manager, or ``start()``/``stop()``.

    ``shop_name`` is the shop as its payment page names it; ``shipping_control=True`` is the
    shop setting «Контроль отгрузки на платёжной странице»: the payer waits on the page until
    the shop has answered the payment notification.
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
        shop_name: str = DEFAULT_SHOP_NAME,
        shipping_control: bool = False,
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

    def wait_idle(self, timeout: float = 10.0) -> None:
        self.inspect.wait_idle(timeout)

    def reset(self) -> None:
        self.inspect.reset()
