"""``invoicebox-flow demo``: every documented sequence, run for real against a local sandbox.

Four orders go through the shop's :class:`~invoicebox_flow.engine.OrderFlow` (:mod:`.orders`):
a private buyer paying for services (an online course), an organisation's order of services
(an act) and a sole proprietor's order of goods (TORG-12), each through the payment page, the
signed notification, shipment, a partial and then the final refund; and a private buyer's order
canceled before payment. Everything talks HTTP on loopback: the client to the
:class:`~invoicebox_flow.sandbox.Sandbox`, the simulated :class:`~invoicebox_flow.sandbox.Buyer`
to the payment page and back to the shop (:mod:`.shop`), the sandbox's webhook to the shop's
notification endpoint.

Modules: :mod:`.orders` (what runs), :mod:`.shop` (the shop's endpoints), :mod:`.running` (one
order, and its traced steps), :mod:`.verdict` (the checks), :mod:`.report` (what is printed),
:mod:`.run` (all of it). Needs the ``sandbox`` extra.
"""

from .orders import DemoOrder, demo_orders
from .run import DEMO_RETRY_DELAYS, run_demo
from .running import step_line

__all__ = ["DEMO_RETRY_DELAYS", "DemoOrder", "demo_orders", "run_demo", "step_line"]
