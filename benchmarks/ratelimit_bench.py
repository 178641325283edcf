"""One InvoiceBox account, four worker processes: how much of the account's request budget they
use together, and how many 429s they draw — with the budget shared in the store, next to each
worker pacing itself, in the same run.

    python benchmarks/ratelimit_bench.py [--limit 20] [--window 2.0] [--windows 4] [--workers 4]
                                         [--repeats 3] [--pg-url URL]

**Scaling.** InvoiceBox allows an account 100 requests per 30 s. The sandbox here enforces
``--limit`` requests per ``--window`` seconds, a sliding window like InvoiceBox's: by default 20
per 2 s, the same kind of budget with a window 15× shorter and a limit 5× smaller (10 requests/s
instead of 3.3), so that a run takes seconds.

**A run.** A fresh sandbox; ``--workers`` processes, each with its own client, send ``check_auth``
(a GET; retries off, so that a 429 is seen, not hidden) as fast as their limiter lets them for
``--windows`` windows. Mid-run, in the middle of a window, worker 0 is killed (SIGKILL) and a
replacement starts at once — as a supervisor restarts a crashed worker. What the sandbox saw is
counted, from the start to the end of the run: **budget used** = accepted requests ÷ what the
limit permits in the run (``limit × windows``: a sliding window admits at most ``limit`` per
window), and the 429s, in all and within one window after the restart.

**Limiters compared** (each run ``--repeats`` times; min / median / max):

* ``StoreRateLimiter`` on SQLite (one host) and on PostgreSQL (``--pg-url`` or
  ``INVOICEBOX_FLOW_TEST_PG_URL``): one budget shared by every worker, in the database;
* baseline: each worker its own in-process ``RateLimiter(limit, window)``: four times the budget;
* baseline: each worker ``RateLimiter(limit // workers, window)``: the budget divided by hand.

Then **one busy worker** (the others idle): how much of the budget it can use with the shared
limiter, and with a divided one (at most ``1 / workers`` of it, whatever the others do).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import multiprocessing as mp
import os
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # _pg, run as a script

from _pg import PG_URL_ENV, pg_schema

from invoicebox_flow.sandbox import Sandbox

HOLD = 2.0  # StoreRateLimiter hold: the bench client's connect timeout bounds a request's way out


def worker(mode: str, url: str, token: str, db_url: str | None, limit: int, period: float, workers: int,
           ready: Any, go: Any, deadline: Any) -> None:
    """A worker process: ``check_auth`` as fast as its limiter allows, from ``go`` to ``deadline``."""
    from invoicebox_flow.client import InvoiceboxClient
    from invoicebox_flow.errors import RateLimitError
    from invoicebox_flow.ratelimit import RateLimiter
    from invoicebox_flow.store import Store, StoreRateLimiter

    store = Store(db_url) if db_url else None
    if store is not None:
        limiter: Any = StoreRateLimiter(store, key="account", limit=limit, period=period, hold=HOLD)
    else:
        limiter = RateLimiter(limit if mode == "full" else limit // workers, period)
    with InvoiceboxClient(token, base_url=url, rate_limit=limiter, max_read_retries=0, timeout=(HOLD, 5.0)) as client:
        ready.put(os.getpid())
        go.wait(120)
        while time.time() < deadline.value:
            with contextlib.suppress(RateLimitError):  # counted from the sandbox's log
                client.check_auth()
    if store is not None:
        store.dispose()


@contextmanager
def database(kind: str, pg_url: str | None) -> Iterator[str | None]:
    """A fresh database for one run's shared limiter (``None`` for in-process limiters)."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / 'bench.db'}"
    elif kind == "postgresql":
        assert pg_url is not None
        with pg_schema(pg_url) as url:
            yield url
    else:
        yield None


def prepare(db_url: str | None) -> None:
    """Create the tables before the workers race to."""
    if db_url:
        from invoicebox_flow.store import Store

        store = Store(db_url)
        store.schema_version()
        store.dispose()


def one_run(mode: str, db_url: str | None, args: argparse.Namespace, *, busy: int, restart: bool) -> dict[str, float]:
    """``busy`` workers for ``windows`` windows (worker 0 restarted mid-run when ``restart``)."""
    ctx = mp.get_context("spawn")
    period, limit = args.window, args.limit
    with Sandbox(rate_limit=limit, rate_window=period) as ib:
        deadline = ctx.Value("d", 0.0)
        go, go_again, ready = ctx.Event(), ctx.Event(), ctx.Queue()

        def spawn(event: Any) -> Any:
            proc = ctx.Process(target=worker, args=(mode, ib.url, ib.token, db_url, limit, period, args.workers,
                                                    ready, event, deadline))
            proc.start()
            return proc

        procs = [spawn(go) for _ in range(busy)]
        replacement = spawn(go_again) if restart else None
        for _ in range(busy + (replacement is not None)):
            ready.get(timeout=120)  # every process is up, its client and limiter made
        start = time.time()
        deadline.value = start + args.windows * period
        go.set()
        restarted_at = math.inf
        if replacement is not None:
            time.sleep((args.windows // 2 + 0.5) * period)
            os.kill(procs[0].pid, signal.SIGKILL)
            go_again.set()
            restarted_at = time.time()
            procs.append(replacement)
        for proc in procs:
            proc.join(60)
        # what the sandbox answered during the run (a worker waiting for its limiter when the
        # run ends still sends once more: that one is not counted)
        log = [r for r in ib.requests() if r["endpoint"] == "check_auth" and r["at"] < deadline.value]
    accepted = sum(1 for r in log if r["status"] == 200)
    refused = [r["at"] for r in log if r["status"] == 429]
    return {
        "used": accepted / (limit * args.windows),
        "429": len(refused),
        "429 after restart": sum(1 for at in refused if restarted_at <= at < restarted_at + period),
    }


def spread(values: list[float], fmt: Callable[[float], str]) -> str:
    return f"{fmt(min(values)):>6} {fmt(statistics.median(values)):>6} {fmt(max(values)):>6}"


def measure(title: str, mode: str, kind: str, args: argparse.Namespace, *, busy: int, restart: bool,
            note: str) -> None:
    runs = []
    for _ in range(args.repeats):
        with database(kind, args.pg_url) as db_url:
            prepare(db_url)
            runs.append(one_run(mode, db_url, args, busy=busy, restart=restart))
    percent = lambda v: f"{v:.0%}"  # noqa: E731
    count = lambda v: f"{v:.0f}"  # noqa: E731
    line = f"{title:<44} {spread([r['used'] for r in runs], percent)}   {spread([r['429'] for r in runs], count)}"
    if restart:
        line += f"   {spread([r['429 after restart'] for r in runs], count)}"
    print(f"{line}   {note}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=20, help="requests per window at the sandbox")
    parser.add_argument("--window", type=float, default=2.0, help="seconds")
    parser.add_argument("--windows", type=int, default=4, help="windows per run")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pg-url", default=os.environ.get(PG_URL_ENV))
    args = parser.parse_args()
    share = args.limit // args.workers
    print(f"sandbox limit {args.limit} requests / {args.window:g} s (InvoiceBox: 100 / 30 s); {args.workers} worker "
          f"processes for {args.windows} windows, worker 0 killed and replaced mid-window; {args.repeats} runs each")
    print(f"\n{args.workers} busy workers{'':<29} budget used (min med max)   429s (min med max)   "
          "429s in the window after the restart")
    measure("shared StoreRateLimiter, SQLite", "shared", "sqlite", args, busy=args.workers, restart=True,
            note="target: >= 90 % and 0")
    if args.pg_url:
        measure("shared StoreRateLimiter, PostgreSQL", "shared", "postgresql", args, busy=args.workers,
                restart=True, note="target: >= 90 % and 0")
    else:
        print(f"shared StoreRateLimiter, PostgreSQL: skipped (no --pg-url, no {PG_URL_ENV})")
    measure(f"baseline: RateLimiter({args.limit}) in each", "full", "none", args, busy=args.workers, restart=True,
            note=f"baseline: {args.workers}x the budget")
    measure(f"baseline: RateLimiter({args.limit}//{args.workers}={share}) in each", "divided", "none", args,
            busy=args.workers, restart=True, note="baseline: divided by hand")

    print(f"\n1 busy worker, {args.workers - 1} idle{'':<27} budget used (min med max)   429s (min med max)")
    measure("shared StoreRateLimiter, SQLite", "shared", "sqlite", args, busy=1, restart=False,
            note="the whole budget is there for whoever needs it")
    measure(f"baseline: RateLimiter({share}) (divided)", "divided", "none", args, busy=1, restart=False,
            note=f"at most 1/{args.workers} of the budget, whatever the others do")


if __name__ == "__main__":
    main()
