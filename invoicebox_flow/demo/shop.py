"""The shop's web side in the demo: InvoiceBox's notifications and the page the buyer returns to."""

from __future__ import annotations

from collections.abc import Iterable
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from ..engine import OrderFlow
from ..errors import InvoiceboxFlowError
from ..serving import LoopbackServer
from ..webhook import make_wsgi_app

NOTIFICATION_PATH = "/invoicebox/notification"
RETURN_PATH = "/shop/return/"


class ShopServer:
    """The shop's HTTP endpoints on a free loopback port: InvoiceBox's notifications and the page
    the buyer comes back to from the payment page (it records ``buyer_returned``)."""

    def __init__(self) -> None:
        self._flow: OrderFlow | None = None
        self._notifications: WSGIApplication | None = None
        self._server = LoopbackServer(self._app, name="invoicebox-flow-demo-shop", start=False)
        self.url = self._server.url

    @property
    def notification_url(self) -> str:
        return self.url + NOTIFICATION_PATH

    def return_url(self, order_id: str) -> str:
        return f"{self.url}{RETURN_PATH}{order_id}"

    def serve(self, flow: OrderFlow) -> None:
        """Start answering; the flow needs our URL first, hence the two steps."""
        self._flow = flow
        self._notifications = make_wsgi_app(flow, path=NOTIFICATION_PATH)
        self._server.start()

    def close(self) -> None:
        self._server.close()

    def _app(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(RETURN_PATH) and self._flow is not None:
            return self._buyer_returned(path[len(RETURN_PATH):], start_response)
        assert self._notifications is not None, "serve() starts the server after setting the app"
        return self._notifications(environ, start_response)

    def _buyer_returned(self, order_id: str, start_response: StartResponse) -> list[bytes]:
        assert self._flow is not None
        try:
            self._flow.buyer_returned(order_id)  # adapts to a notification that came first
            start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
            return ["Спасибо за оплату!".encode()]
        except InvoiceboxFlowError as exc:
            start_response("409 Conflict", [("Content-Type", "text/plain; charset=utf-8")])
            return [str(exc).encode()]
