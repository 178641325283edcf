"""A WSGI app served over real HTTP on a loopback port, in a background thread.

The sandbox, the demo's shop endpoints and test receivers all need the same small thing:
werkzeug's threaded server on a free port, quiet, and quick to stop. (Production serving of the
webhook uses waitress: ``invoicebox-flow webhook serve``.)
"""

from __future__ import annotations

import threading
from typing import Any

from .extras import require

# werkzeug comes with the sandbox extra's Flask. This is the first module the sandbox imports
# that needs it, so `import invoicebox_flow.sandbox` without the extra fails here, clearly.
require("sandbox")

from werkzeug.serving import WSGIRequestHandler, make_server  # noqa: E402


class QuietRequestHandler(WSGIRequestHandler):
    """No access log (a request line never reaches a log); errors are still reported."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass

    def log(self, type: str, message: str, *args: Any) -> None:
        if type == "error":
            super().log(type, message, *args)


class LoopbackServer:
    """Serve ``app`` on ``host:port`` (port 0: a free one) until :meth:`close`."""

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int = 0, name: str = "wsgi",
                 start: bool = True) -> None:
        self._server = make_server(host, port, app, threaded=True, request_handler=QuietRequestHandler)
        self.port = self._server.server_port
        self.url = f"http://{host if ':' not in host else f'[{host}]'}:{self.port}"
        # a short poll interval keeps close() quick: tests start many servers
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"{name}-{self.port}", daemon=True)
        if start:
            self.start()

    def start(self) -> LoopbackServer:
        if not self._thread.is_alive():
            self._thread.start()
        return self

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def close(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(5)
        self._server.server_close()

    def __enter__(self) -> LoopbackServer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
