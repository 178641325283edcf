"""The whole demo: a sandbox, the shop's endpoints, the four orders, the verdict."""

from __future__ import annotations

import time
from contextlib import ExitStack
from pathlib import Path

from .. import tracing
from ..client import InvoiceboxClient
from ..engine import OrderFlow
from ..sandbox import Buyer, Sandbox
from ..store import Store
from ..terminal import terminal_width, truncate
from ..trace import Trace
from .orders import demo_orders, new_run_id
from .report import verdict_lines
from .running import Echo, Progress, run_order
from .shop import ShopServer
from .verdict import outcome, sequence_checks

# Ten compressed retries: the real schedule spreads them over a day (reference §8.3).
DEMO_RETRY_DELAYS = (0.02, 0.05, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1)


def run_demo(store: Store, trace_dir: Path = Path("demo-diagrams"), echo: Echo = print, *,
             details: bool = False) -> bool:
    """Run every documented sequence against a fresh local sandbox; True if all ended as documented.

    Orders are kept in ``store`` (new ids on every run, so runs can share a store); the recorded
    sequence diagrams are written to ``trace_dir``. ``details`` prints every documented step as
    it happens and every check in full; otherwise the output is a compact summary.
    """
    started = time.monotonic()
    orders = demo_orders(run_id := new_run_id())
    trace_dir = Path(trace_dir)
    trace_dir.mkdir(parents=True, exist_ok=True)  # an unusable folder fails now, not after the run
    with ExitStack() as stack:
        sandbox = stack.enter_context(Sandbox(notification_retry_delays=DEMO_RETRY_DELAYS))
        shop = ShopServer()
        stack.callback(shop.close)
        client = stack.enter_context(InvoiceboxClient(sandbox.token, base_url=sandbox.url, timeout=(2.0, 10.0),
                                                      backoff_base=0.01))
        flow = OrderFlow(client, store, merchant_id=sandbox.merchant_id, notification_key=sandbox.notification_key,
                         notification_url=shop.notification_url)
        shop.serve(flow)
        buyer = Buyer()
        stack.callback(buyer.session.close)

        width = terminal_width()
        echo(f"invoicebox-flow demo {run_id}")
        for name, value in (("InvoiceBox sandbox", sandbox.url), ("shop notifications", shop.notification_url),
                            ("store", store.url)):
            echo(truncate(f"  {name:<20} {value}", width))
        echo("")
        progress = Progress(echo, store, sandbox, details=details)
        for order in orders:
            run_order(flow, buyer, shop, order, progress)

        trace = Trace()
        for order in orders:
            tracing.collect(trace, store, sandbox.inspect, order.order_id)
        checks = sequence_checks(trace, orders)
        outcomes = [outcome(flow, sandbox, order, trace) for order in orders]

    echo("")
    for line in verdict_lines(checks, outcomes, details=details):
        echo(line)
    ok = all(check.ok for check in checks) and all(c.ok for o in outcomes for c in o.checks())
    written = trace.write(trace_dir)
    echo("")
    where = f"{trace_dir}/" + (f" ({trace_dir.resolve()})" if details else "")
    echo(f"wrote {len(written)} recorded sequence diagrams of this run to {where}")
    verdict = "every documented sequence ended as documented" if ok else "some sequences did NOT end as documented"
    echo(f"{verdict} ({time.monotonic() - started:.1f} s)")
    return ok
