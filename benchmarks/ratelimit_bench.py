"""How much of InvoiceBox's request limit the client's pacing uses, and how many 429s it meets.

    python benchmarks/ratelimit_bench.py [--limit 50] [--window 3.0] [--windows 5] [--threads 4]

A local sandbox enforces ``--limit`` requests per ``--window`` seconds (a sliding window, like
InvoiceBox's 100 per 30 s, shortened so the run takes seconds). ``--threads`` threads, each with
its own client, send ``limit × windows`` requests (``check_auth``, a GET, with retries off so a
429 is seen, not hidden) as fast as they are allowed to.

The fastest schedule the server's limit permits sends ``limit`` requests at once, then
``limit`` more exactly one window later, and so on: ``limit × windows`` requests need at least
``(windows − 1) × window`` seconds from the first to the last. The **efficiency** is that
minimum divided by the time the server really saw between the first and the last accepted
request: the share of the permitted rate used (target ≥ 95 %, with zero 429s).

Measured in the same run, on a fresh sandbox each:

* **paced**: one shared ``RateLimiter(limit, window)`` — the client's own pacing;
* **even spacing** (baseline): each request sent ``window / limit`` seconds after the previous
  one, the usual hand-written pacing;
* **unpaced** (baseline): no pacing at all, for as long as the paced run took — accepted
  requests and 429s.
"""

from __future__ import annotations

import argparse
import math
import threading
import time

from invoicebox_flow.client import InvoiceboxClient
from invoicebox_flow.errors import RateLimitError
from invoicebox_flow.ratelimit import RateLimiter
from invoicebox_flow.sandbox import Sandbox


class Load:
    """``threads`` clients sending requests until ``total`` were sent or ``until`` has passed."""

    def __init__(self, ib: Sandbox, threads: int, total: int | None, until: float | None, limiter=None,
                 spacing: float | None = None) -> None:
        self.ib = ib
        self.total = total
        self.until = until
        self.limiter = limiter
        self.spacing = spacing
        self.sent = 0
        self.refused = 0
        self.lock = threading.Lock()
        self.next_slot = time.monotonic()
        self.threads = [threading.Thread(target=self._run) for _ in range(threads)]

    def _may_send(self) -> bool:
        with self.lock:
            if (self.total is not None and self.sent >= self.total) or (
                    self.until is not None and time.monotonic() >= self.until):
                return False
            self.sent += 1
            if self.spacing is not None:  # even spacing: claim the next slot on a fixed grid
                slot, self.next_slot = self.next_slot, max(self.next_slot, time.monotonic()) + self.spacing
            else:
                slot = 0.0
        delay = slot - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        return True

    def _run(self) -> None:
        with InvoiceboxClient(self.ib.token, base_url=self.ib.url, rate_limit=self.limiter,
                              max_read_retries=0) as client:
            while self._may_send():
                try:
                    client.check_auth()
                except RateLimitError:
                    with self.lock:
                        self.refused += 1

    def run(self) -> float:
        start = time.monotonic()
        for t in self.threads:
            t.start()
        for t in self.threads:
            t.join()
        return time.monotonic() - start


def server_view(ib: Sandbox) -> tuple[int, int, float]:
    """Accepted requests, 429s, and seconds between the first and the last accepted one, as the
    sandbox logged them."""
    calls = [r for r in ib.requests() if r["endpoint"] == "check_auth"]
    accepted = sorted(r["at"] for r in calls if r["status"] == 200)
    refused = sum(1 for r in calls if r["status"] == 429)
    return len(accepted), refused, (accepted[-1] - accepted[0]) if len(accepted) > 1 else 0.0


def efficiency(requests: int, limit: int, window: float, span: float) -> float:
    fastest = window * (math.ceil(requests / limit) - 1)
    return fastest / span if span > 0 else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=50, help="requests per window at the sandbox")
    parser.add_argument("--window", type=float, default=3.0, help="seconds")
    parser.add_argument("--windows", type=int, default=5, help="windows' worth of requests to send")
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    total = args.limit * args.windows
    fastest = args.window * (args.windows - 1)
    print(f"sandbox limit {args.limit} requests / {args.window:g} s; {total} requests from {args.threads} threads; "
          f"the limit allows them in {fastest:g} s at best")

    with Sandbox(rate_limit=args.limit, rate_window=args.window) as ib:
        limiter = RateLimiter(args.limit, args.window)
        paced_wall = Load(ib, args.threads, total, None, limiter=limiter).run()
        accepted, refused, span = server_view(ib)
    paced = efficiency(accepted, args.limit, args.window, span)
    print(f"paced (RateLimiter)   {accepted:>5} accepted in {span:6.2f} s  efficiency {paced:6.1%}  "
          f"429s {refused:>4}   (target >= 95 % and 0: {'met' if paced >= 0.95 and refused == 0 else 'NOT met'})")

    with Sandbox(rate_limit=args.limit, rate_window=args.window) as ib:
        Load(ib, args.threads, total, None, spacing=args.window / args.limit).run()
        accepted, refused, span = server_view(ib)
    print(f"even spacing          {accepted:>5} accepted in {span:6.2f} s  efficiency "
          f"{efficiency(accepted, args.limit, args.window, span):6.1%}  429s {refused:>4}   (baseline)")

    with Sandbox(rate_limit=args.limit, rate_window=args.window) as ib:
        load = Load(ib, args.threads, None, time.monotonic() + paced_wall)
        load.run()
        accepted, refused, span = server_view(ib)
    permitted = args.limit * (math.floor(paced_wall / args.window) + 1)
    print(f"unpaced               {accepted:>5} accepted in {paced_wall:6.2f} s  "
          f"({accepted / permitted:.0%} of the {permitted} permitted)  429s {refused:>4} of {load.sent} sent   (baseline)")


if __name__ == "__main__":
    main()
