"""A sweep over 5,000 orders with 3 % drift of mixed kinds, killed with SIGKILL midway and run again.

Every drifted order is found once, each safe one healed once (its journal has one entry by
``reconcile``), the ones that need a person are left alone, and InvoiceBox's rate limit is never
exceeded: the sandbox's request log shows no 429, the budget living in the store survives the kill.
Run with ``-s`` to see the sweep's cost.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections import Counter

import pytest
from bulk_orders import make_orders
from cli_helpers import CLI, clean_env
from helpers import FAST_RETRIES

from invoicebox_flow.reconcile import ACTOR
from invoicebox_flow.sandbox import Sandbox
from invoicebox_flow.store import Store, SweepLog

# each starts several processes for minutes: one xdist worker runs these in turn, beside the light tests
pytestmark = pytest.mark.xdist_group("heavy")

ORDERS = 5000
WINDOW = 30.0  # the sandbox's default: 100 requests per 30 s per token


def busiest_window(stamps: list[float]) -> int:
    """The most requests answered within any WINDOW seconds."""
    stamps, most, start = sorted(stamps), 0, 0
    for end, at in enumerate(stamps):
        while at - stamps[start] >= WINDOW:
            start += 1
        most = max(most, end - start + 1)
    return most


@pytest.mark.slow
def test_a_sweep_of_5000_orders_killed_midway_finds_each_drift_once_and_heals_it_once(tmp_path):
    with Sandbox(unique_merchant_order_id=False, notification_retry_delays=FAST_RETRIES) as ib:
        store = Store(f"sqlite:///{tmp_path / 'shop.db'}")
        drift = make_orders(ib, store, ORDERS)
        assert len(drift) == ORDERS * 3 // 100
        env = clean_env(INVOICEBOX_TOKEN=ib.token, INVOICEBOX_BASE_URL=ib.url, INVOICEBOX_FLOW_DB=store.url)
        before = len(ib.requests())
        started = time.monotonic()

        first = subprocess.Popen([str(CLI), "reconcile", "--heal", "--json"], env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE)
        sweeps = SweepLog(store)
        while (sweep := sweeps.latest()) is None or sweep.orders < ORDERS * 2 // 5:
            assert first.poll() is None, first.stderr.read() if first.stderr else ""
            assert time.monotonic() - started < 120, "the first sweep did not get far enough"
            time.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.wait()
        killed_after = sweeps.latest().orders
        assert killed_after < ORDERS

        second = subprocess.run([str(CLI), "reconcile", "--heal", "--json"], check=False, env=env, capture_output=True, text=True,
                                timeout=170)
        elapsed = time.monotonic() - started
        assert second.returncode == 2, second.stderr  # some drift needs a person
        report = json.loads(second.stdout)
        assert report["resumed"] and report["orders"] == ORDERS

        found = Counter(f["order"] for f in report["findings"])
        assert set(found.values()) == {1}, "an order was found more than once"
        assert {f["order"]: f["kind"] for f in report["findings"]} == {k: v.value for k, v in drift.items()}
        for finding in report["findings"]:
            assert finding["outcome"] == ("healed" if finding["safe"] else "found"), finding
            healed = [e.trigger for e in store.journal(finding["order"]) if e.actor == ACTOR]
            assert len(healed) == (1 if finding["safe"] else 0), (finding, healed)

        requests = ib.requests()[before:]
        statuses = Counter(r["status"] for r in requests)
        assert statuses[429] == 0 and set(statuses) == {200}, statuses
        assert len(requests) >= report["api_calls"]  # the killed run's calls are in the log too
        print(f"\n{ORDERS} orders, {len(drift)} drifted ({Counter(drift.values())}); killed after "
              f"{killed_after} orders; {len(requests)} API requests in all ({report['api_calls']} counted by the "
              f"sweep: {report['calls_per_order']} per order), at most {busiest_window([r['at'] for r in requests])} "
              f"in any {WINDOW:g} s, none refused with 429; {elapsed:.0f} s")
        store.dispose()
