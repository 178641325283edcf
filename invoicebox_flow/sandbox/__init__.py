"""A faithful local InvoiceBox for tests, demos and integrators' own test suites.

* :class:`Sandbox` — InvoiceBox API v3 over real HTTP on loopback, with the payment page, the
  online cash register, reporting documents, signed notifications, a controllable clock,
  injectable faults and an inspection API (``/_sandbox/``);
* :class:`Buyer` — a simulated buyer that pays, pays by bank transfer or declines on the payment
  page over HTTP;
* :class:`SandboxInspector` — the client of the inspection API, for a sandbox running anywhere.

From pytest, the plugin :mod:`invoicebox_flow.sandbox.pytest_plugin` provides the fixtures
``invoicebox_sandbox`` and ``invoicebox_sandbox_session``; from a shell,
``invoicebox-flow sandbox --port N`` (see :func:`invoicebox_flow.sandbox.server.serve`).
"""

from ..protocol import TEST_NOTIFICATION_ID
from .buyer import Buyer
from .core import DEFAULT_RETRY_DELAYS, REALISTIC_RETRY_DELAYS
from .inspect import SandboxInspector
from .runtime import Sandbox

__all__ = [
           "DEFAULT_RETRY_DELAYS",
           "REALISTIC_RETRY_DELAYS",
           "TEST_NOTIFICATION_ID",
           "Buyer",
           "Sandbox",
           "SandboxInspector",
]
