"""Test helpers for code that receives InvoiceBox notifications.

:class:`NotificationReceiver` is a tiny shop endpoint on loopback: it records the exact bytes
and headers of every POST it gets and answers from a script (by default
``{"status": "success"}``), so a test can check signatures, retries and duplicates without
writing a web app::

    with NotificationReceiver() as shop, Sandbox(notification_url=shop.url) as ib:
        shop.answer_with(out_of_service(), out_of_service())  # then success
        ...
        ib.wait_idle()
        assert len(shop.received) == 3
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import attrs
from werkzeug.wrappers import Request, Response

from ..jsonutil import loads
from ..serving import LoopbackServer

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

SUCCESS = (200, '{"status":"success"}')


def error_answer(code: str | None, status: int = 200) -> tuple[int, str]:
    """The shop's error answer (§8.3); ``code=None`` leaves the code out."""
    body: dict[str, Any] = {"status": "error"}
    if code is not None:
        body["code"] = code
    return status, json.dumps(body)


def out_of_service() -> tuple[int, str]:
    return error_answer("out_of_service")


@attrs.frozen
class Received:
    body: bytes
    headers: dict[str, str]
    path: str
    at: float

    @property
    def signature(self) -> str | None:
        return {k.lower(): v for k, v in self.headers.items()}.get("x-signature")

    def json(self) -> Any:
        return loads(self.body)


class NotificationReceiver:
    """A loopback HTTP endpoint recording every request; answers in the scripted order."""

    def __init__(self, answers: Iterable[tuple[int, str]] = (), default: tuple[int, str] = SUCCESS) -> None:
        self.received: list[Received] = []
        self._answers = list(answers)
        self._default = default
        self._cond = threading.Condition()
        self._server = LoopbackServer(self._app, name="notification-receiver")
        self.url = f"{self._server.url}/invoicebox/notification"

    def answer_with(self, *answers: tuple[int, str], default: tuple[int, str] | None = None) -> None:
        """Answer the next requests with ``answers`` (``(status, body)``), then with ``default``."""
        with self._cond:
            self._answers = list(answers)
            if default is not None:
                self._default = default

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Block until at least ``count`` requests arrived; raises ``TimeoutError`` otherwise."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.received) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"got {len(self.received)} of {count} notifications")
                self._cond.wait(remaining)
            return list(self.received)

    def close(self) -> None:
        self._server.close()

    def __enter__(self) -> NotificationReceiver:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _app(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        with self._cond:
            self.received.append(Received(request.get_data(), dict(request.headers), request.path, time.time()))
            status, body = self._answers.pop(0) if self._answers else self._default
            self._cond.notify_all()
        return Response(body, status=status, mimetype="application/json")(environ, start_response)
