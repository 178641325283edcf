""":class:`SandboxInspector`: the HTTP client of the sandbox's inspection API (``/_sandbox/``).

It works against any running sandbox — one started in-process with ``Sandbox()`` or one
started with ``invoicebox-flow sandbox`` — since it only needs the base URL. Numbers come back
as ``Decimal`` (amounts) except the real-time stamps ``at``, which are ``float`` seconds.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypeVar, cast

import requests

from .. import jsonutil
from .rules import api_error

PREFIX = "/_sandbox"


_T = TypeVar("_T")


def _floats_at(items: _T) -> _T:
    """``at`` is ``time.time()``: give it back as the float it was."""
    for item in items if isinstance(items, list) else [items]:
        if isinstance(item, dict) and isinstance(item.get("at"), Decimal):
            item["at"] = float(item["at"])
    return items


class SandboxInspector:
    def __init__(self, url: str, session: requests.Session | None = None, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        if session is None:
            session = requests.Session()
            session.trust_env = False  # a loopback tool: never through an environment proxy
        self.session = session

    def __repr__(self) -> str:
        return f"SandboxInspector({self.url!r})"

    def close(self) -> None:
        self.session.close()

    # --- transport ---------------------------------------------------------------------------------

    def _call(self, method: str, path: str, *, params: dict[str, Any] | None = None,
              body: dict[str, Any] | None = None, timeout: float | None = None) -> Any:
        params = {k: v for k, v in (params or {}).items() if v is not None}
        data = jsonutil.dumps(body).encode("utf-8") if body is not None else None
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        response = self.session.request(method, self.url + PREFIX + path, params=params, data=data,
                                        headers=headers, timeout=timeout or self.timeout)
        try:
            payload = jsonutil.loads(response.content) if response.content else {}
        except ValueError:
            payload = {}
        if response.status_code >= 400:
            error = payload.get("error") if isinstance(payload, dict) else None
            error = error if isinstance(error, dict) else {}
            raise api_error(response.status_code, error.get("code") or "sandbox_error",
                            error.get("message") or response.reason or "sandbox error", error.get("fields"),
                            request_id=response.headers.get("X-Request-Id"), method=method, path=PREFIX + path)
        return payload.get("data") if isinstance(payload, dict) else payload

    def _list(self, path: str, **params: Any) -> list[dict[str, Any]]:
        return cast(list[dict[str, Any]], self._call("GET", path, params=params))

    def _post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        return cast(dict[str, Any], self._call("POST", path, body=body))

    # --- reading -----------------------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        """Where the sandbox runs, its merchant id, clock and options."""
        return cast(dict[str, Any], self._call("GET", "/info"))

    def orders(self) -> list[dict[str, Any]]:
        return self._list("/orders")

    def order(self, order_id: str) -> dict[str, Any]:
        return cast(dict[str, Any], self._call("GET", f"/orders/{order_id}"))

    def refunds(self, order_id: str | None = None) -> list[dict[str, Any]]:
        return self._list("/refunds", orderId=order_id)

    def shipments(self, order_id: str | None = None) -> list[dict[str, Any]]:
        return self._list("/shipments", orderId=order_id)

    def receipts(self, order_id: str | None = None) -> list[dict[str, Any]]:
        return self._list("/receipts", orderId=order_id)

    def documents(self, order_id: str | None = None) -> list[dict[str, Any]]:
        return self._list("/documents", orderId=order_id)

    def mailbox(self, address: str | None = None) -> list[dict[str, Any]]:
        return self._list("/mailbox", address=address)

    def notifications(self, order_id: str | None = None) -> list[dict[str, Any]]:
        return _floats_at(self._list("/notifications", orderId=order_id))

    def events(self, order_id: str | None = None) -> list[dict[str, Any]]:
        return _floats_at(self._list("/events", orderId=order_id))

    def requests(self) -> list[dict[str, Any]]:
        return _floats_at(self._list("/requests"))

    def faults(self) -> dict[str, Any]:
        return cast(dict[str, Any], self._call("GET", "/faults"))

    def order_settings(self, order_id: str) -> dict[str, Any]:
        """The order's InvoiceBox-side settings: ``paymentInstrument``, ``autoShipment`` and the
        marks ``bankTransferRequested``, ``shippingUnavailable``."""
        return cast(dict[str, Any], self._call("GET", f"/orders/{order_id}/settings"))

    # --- steering ----------------------------------------------------------------------------------

    def advance_clock(self, seconds: float) -> str:
        """Move the sandbox clock forward; returns its new time (ATOM string)."""
        return cast(str, self._post("/clock/advance", {"seconds": seconds})["now"])

    def inject_fault(self, endpoint: str, kind: str, times: int = 1, delay: float | None = None) -> dict[str, Any]:
        return self._post("/faults", {"endpoint": endpoint, "kind": kind, "times": times, "delay": delay})

    def inject_notification_fault(self, kind: str, times: int = 1, delay: float | None = None) -> dict[str, Any]:
        return self._post("/notification-faults", {"kind": kind, "times": times, "delay": delay})

    def inject_refund_fault(self, kind: str = "canceled", times: int = 1) -> dict[str, Any]:
        """The next ``times`` refunds end with ``kind`` (``canceled``) instead of being paid out."""
        return self._post("/refund-faults", {"kind": kind, "times": times})

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def send_test_notification(self, url: str | None = None) -> dict[str, Any]:
        """Deliver the monitoring test notification now; returns the attempt record."""
        return _floats_at(cast(dict[str, Any], self._call("POST", "/test-notification", body={"url": url},
                                                          timeout=self.timeout + 30.0)))

    def redeliver(self, order_id: str) -> None:
        self._call("POST", f"/redeliver/{order_id}")

    def set_order_settings(self, order_id: str, *, payment_instrument: str | None = None,
                           auto_shipment: bool | None = None) -> dict[str, Any]:
        """Set how the buyer pays (``card``, ``preauthorized``, ``guarantee``) and whether InvoiceBox
        ships the order automatically after payment; set them before the buyer pays."""
        changes: dict[str, Any] = {}
        if payment_instrument is not None:
            changes["paymentInstrument"] = payment_instrument
        if auto_shipment is not None:
            changes["autoShipment"] = auto_shipment
        return self._post(f"/orders/{order_id}/settings", changes)

    def invoice_bank_transfer(self, order_id: str) -> dict[str, Any]:
        """The payer chose to pay by bank transfer (as on the payment page): the order stays unpaid."""
        return self._post(f"/orders/{order_id}/bank-transfer")

    def settle_bank_transfer(self, order_id: str) -> dict[str, Any]:
        """The bank transfer arrived: the order is paid now and notified late."""
        return self._post(f"/orders/{order_id}/bank-transfer/settle")

    def cancel_refund(self, refund_id: str) -> dict[str, Any]:
        """A refund still waiting for its payout ends ``canceled``."""
        return self._post(f"/refunds/{refund_id}/cancel")

    # --- drift: changes at InvoiceBox the shop is not told about --------------------------------------

    def drift_cancel_order(self, order_id: str) -> dict[str, Any]:
        return self._post(f"/drift/orders/{order_id}/cancel")

    def drift_expire_order(self, order_id: str) -> dict[str, Any]:
        return self._post(f"/drift/orders/{order_id}/expire")

    def drift_change_amount(self, order_id: str, amount: Decimal | int | str,
                            vat_amount: Decimal | int | str | None = None) -> dict[str, Any]:
        return self._post(f"/drift/orders/{order_id}/amount", {"amount": amount, "vatAmount": vat_amount})

    def drift_refund(self, order_id: str, basket_items: list[dict[str, Any]] | None = None, *,
                     description: str | None = None, merchant_order_id: str | None = None) -> dict[str, Any]:
        return self._post(f"/drift/orders/{order_id}/refund", {"basketItems": basket_items, "description": description,
                                                               "merchantOrderId": merchant_order_id})

    def drift_shipment(self, order_id: str, basket_items: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        return self._post(f"/drift/orders/{order_id}/shipment", {"basketItems": basket_items})

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Block until background work is done; raises ``TimeoutError`` if it is not in time."""
        if not self._call("GET", "/idle", params={"timeout": timeout}, timeout=timeout + self.timeout)["idle"]:
            raise TimeoutError(f"sandbox still busy after {timeout:g} s")

    def reset(self) -> None:
        self._call("POST", "/reset")
