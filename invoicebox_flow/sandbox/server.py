"""Run the sandbox from a shell until Ctrl-C.

``serve()`` prints four ``key: value`` lines — ``url``, ``token``, ``notification_key``,
``merchant_id`` — then serves. Printing the token is the point here: it is a throw-away local
credential that the developer pastes into the shop's configuration.

    python -m invoicebox_flow.sandbox.server --port 8080
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any, TextIO

from .core import NOTIFIABLE_STATUSES, REALISTIC_RETRY_DELAYS
from .instruments import DEFAULT_INSTRUMENT, PAGE_INSTRUMENTS
from .notification_body import SANDBOX, SHAPES
from .runtime import Sandbox


def serve(host: str = "127.0.0.1", port: int = 0, *, out: TextIO | None = None, **options: Any) -> None:
    """Start a :class:`Sandbox` (``options`` are its keyword arguments), print how to reach it
    and serve until interrupted."""
    out = out or sys.stdout
    with Sandbox(host=host, port=port, **options) as sandbox:
        print(f"url: {sandbox.url}", file=out)
        print(f"token: {sandbox.token}", file=out)
        print(f"notification_key: {sandbox.notification_key}", file=out)
        print(f"merchant_id: {sandbox.merchant_id}", file=out)
        out.flush()
        try:
            while sandbox.running:
                time.sleep(0.2)
        except KeyboardInterrupt:
            pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m invoicebox_flow.sandbox.server",
                                     description="Run a local InvoiceBox sandbox until Ctrl-C.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--token", help="API token (default: random)")
    parser.add_argument("--notification-key", help="notification signing key (default: random)")
    parser.add_argument("--merchant-id", help="merchant id (default: random UUID)")
    parser.add_argument("--notification-url", help="the shop-level notification URL")
    parser.add_argument("--rate-limit", type=int, default=100)
    parser.add_argument("--rate-window", type=float, default=30.0)
    parser.add_argument("--no-retry-after", action="store_true", help="answer 429 without Retry-After")
    parser.add_argument("--realistic-retries", action="store_true",
                        help="space notification retries over about 24 hours like the real service")
    parser.add_argument("--notification-shape", choices=SHAPES, default=SANDBOX,
                        help="'production': notification bodies shaped like the captured production one")
    parser.add_argument("--status-notification", action="append", choices=NOTIFIABLE_STATUSES, default=[],
                        dest="status_notifications", help="also notify this order status (repeatable)")
    parser.add_argument("--refund-payout-delay", type=float, default=0.0, metavar="SECONDS",
                        help="sandbox-clock seconds before a refund's money is returned")
    parser.add_argument("--auto-shipment", action="store_true", help="ship orders of services after payment")
    parser.add_argument("--payment-instrument", choices=PAGE_INSTRUMENTS, default=DEFAULT_INSTRUMENT,
                        help="how page payments are made (decides whether DELETE reverses them)")
    args = parser.parse_args(argv)
    options: dict[str, Any] = {"token": args.token, "notification_key": args.notification_key,
                               "merchant_id": args.merchant_id, "notification_url": args.notification_url,
                               "rate_limit": args.rate_limit, "rate_window": args.rate_window,
                               "rate_limit_retry_after": not args.no_retry_after,
                               "notification_shape": args.notification_shape,
                               "status_notifications": args.status_notifications,
                               "refund_payout_delay": args.refund_payout_delay, "auto_shipment": args.auto_shipment,
                               "payment_instrument": args.payment_instrument}
    if args.realistic_retries:
        options["notification_retry_delays"] = REALISTIC_RETRY_DELAYS
    serve(args.host, args.port, **options)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
