""":class:`SandboxInspector`: the HTTP client of the sandbox's inspection API (``/_sandbox/``).

It works against any running sandbox — one started in-process with ``Sandbox()`` or one
started with ``invoicebox-flow sandbox`` — since it only needs the base URL. Numbers come back
as ``Decimal`` (amounts) except the real-time stamps ``at``, which are ``float`` seconds.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import requests

from .. import jsonutil
from .rules import api_error

PREFIX = "/_sandbox"


def _floats_at(items: Any) -> Any:
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

    # --- reading -----------------------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        return self._call("GET", "/info")

    def orders(self) -> list[dict[str, Any]]:
        return self._call("GET", "/orders")

    def order(self, order_id: str) -> dict[str, Any]:
        return self._call("GET", f"/orders/{order_id}")

    def refunds(self, order_id: str | None = None) -> list[dict[str, Any]]:
        return self._call("GET", "/refunds", params={"orderId": order_id})

    def shipments(self, order_id: str | None = None) -> list[dict[str, Any]]:
        return self._call("GET", "/shipments", params={"orderId": order_id})

    def receipts(self, order_id: str | None = None) -> list[dict[str, Any]]:
        return self._call("GET", "/receipts", params={"orderId": order_id})

    def documents(self, order_id: str | None = None) -> list[dict[str, Any]]:
        return self._call("GET", "/documents", params={"orderId": order_id})

    def mailbox(self, address: str | None = None) -> list[dict[str, Any]]:
        return self._call("GET", "/mailbox", params={"address": address})

    def notifications(self, order_id: str | None = None) -> list[dict[str, Any]]:
        return _floats_at(self._call("GET", "/notifications", params={"orderId": order_id}))

    def events(self, order_id: str | None = None) -> list[dict[str, Any]]:
        return _floats_at(self._call("GET", "/events", params={"orderId": order_id}))

    def requests(self) -> list[dict[str, Any]]:
        return _floats_at(self._call("GET", "/requests"))

    def faults(self) -> dict[str, Any]:
        return self._call("GET", "/faults")

    # --- steering ----------------------------------------------------------------------------------

    def advance_clock(self, seconds: float) -> str:
        """Move the sandbox clock forward; returns its new time (ATOM string)."""
        return self._call("POST", "/clock/advance", body={"seconds": seconds})["now"]

    def inject_fault(self, endpoint: str, kind: str, times: int = 1, delay: float | None = None) -> dict[str, Any]:
        return self._call("POST", "/faults", body={"endpoint": endpoint, "kind": kind, "times": times, "delay": delay})

    def inject_notification_fault(self, kind: str, times: int = 1, delay: float | None = None) -> dict[str, Any]:
        return self._call("POST", "/notification-faults", body={"kind": kind, "times": times, "delay": delay})

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def send_test_notification(self, url: str | None = None) -> dict[str, Any]:
        """Deliver the monitoring test notification now; returns the attempt record."""
        return _floats_at(self._call("POST", "/test-notification", body={"url": url},
                                     timeout=self.timeout + 30.0))

    def redeliver(self, order_id: str) -> None:
        self._call("POST", f"/redeliver/{order_id}")

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Block until background work is done; raises ``TimeoutError`` if it is not in time."""
        if not self._call("GET", "/idle", params={"timeout": timeout}, timeout=timeout + self.timeout)["idle"]:
            raise TimeoutError(f"sandbox still busy after {timeout:g} s")

    def reset(self) -> None:
        self._call("POST", "/reset")
