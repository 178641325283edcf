"""Engine speed and memory, each figure printed next to a baseline measured in the same run.

    python benchmarks/engine_bench.py [--events 200000] [--persisted 3000] [--orders 100000]

1. events/s through the engine's state logic in memory (``engine.next_state``: the shared
   lifecycle machine, the guard turning a refusal into a typed error) next to a bare
   ``transitions`` machine with the same states and transitions, model attached, fired the
   usual way. Target: ≥ 0.8×.
2. persisted transitions/s on SQLite (``OrderFlow.claim_refund``: read the order, check the
   transition, compare-and-set update, journal row, commit) next to raw ``sqlite3`` doing the same
   reads and writes on the same schema settings. Target: ≥ 0.5×.
3. memory held per 100,000 orders processed through the whole lifecycle: traced memory after
   processing N orders, for growing N. Target: flat in N.
"""

from __future__ import annotations

import argparse
import gc
import sqlite3
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

from transitions import Machine

from invoicebox_flow import jsonutil
from invoicebox_flow.engine import OrderFlow, next_state
from invoicebox_flow.flows import Variant
from invoicebox_flow.flows.lifecycle import expand, states_of, transitions_for
from invoicebox_flow.store import JournalEntry, OrderRecord, Store

# One order's whole life: payment, shipment, a partial and a final refund.
LIFE = [("place", None), ("request_invoice", None), ("issue_payment_link", None), ("redirect_buyer", None),
        ("buyer_returned", None), ("confirm_payment", None), ("request_shipment", None),
        ("shipment_accepted", None), ("claim_refund", None), ("list_refundable", None), ("request_refund", None),
        ("refund_accepted", "partially_refunded"), ("request_refund", None), ("refund_accepted", "refunded")]


def bench_in_memory(events: int) -> tuple[float, float]:
    variant = Variant.PRIVATE

    class Model:
        def __init__(self):
            self.target = None

        def not_shipped(self):
            return True

        def __getattr__(self, name):
            if name.startswith("target_is_"):
                return lambda: self.target == name[len("target_is_"):]
            raise AttributeError(name)

    bare_model = Model()
    bare = Machine(model=bare_model, states=states_of(transitions_for(variant)), initial="new", auto_transitions=False)
    for tr in transitions_for(variant):
        for item in expand(tr):
            bare.add_transition(**item)

    rounds = events // len(LIFE)
    start = time.perf_counter()
    for _ in range(rounds):
        bare_model.state = "new"
        for trigger, target in LIFE:
            bare_model.target = target
            bare_model.trigger(trigger)
    bare_rate = rounds * len(LIFE) / (time.perf_counter() - start)

    start = time.perf_counter()
    for _ in range(rounds):
        state = "new"
        for trigger, target in LIFE:
            state = next_state(variant, state, trigger, target=target)
    engine_rate = rounds * len(LIFE) / (time.perf_counter() - start)
    assert state == "refunded"
    return engine_rate, bare_rate


def _paid_record(order_id: str) -> OrderRecord:
    now = datetime.now(UTC)
    data = {"currency": "RUB", "amount": "2400.00", "vatAmount": "400.00", "paidAmount": "2400.00",
            "refundedAmount": "0", "shipped": False, "refunds": [], "facts": [], "lines": []}
    return OrderRecord(id=order_id, merchant_order_id=order_id, variant="private", state="paid", version=1,
                       invoicebox_id=None, data=data, created_at=now, updated_at=now)


def bench_persisted(transitions: int, folder: Path, rounds: int = 10) -> tuple[float, float]:
    """Engine and raw driver take turns in ``rounds`` batches, so both see the same disk load."""
    store = Store(f"sqlite:///{folder / 'engine.db'}")
    flow = OrderFlow(client=None, store=store, merchant_id="m", notification_key="k")
    store.add_order(_paid_record("B-1"), JournalEntry(order_id="B-1", trigger="place", from_state="new",
                                                       to_state="paid", actor="bench"))
    # the raw driver works on a copy of the same database, with the store's settings
    # (WAL, default synchronous=FULL: a committed payment survives a power loss)
    raw = sqlite3.connect(folder / "raw.db", isolation_level=None)
    src = sqlite3.connect(folder / "engine.db")
    src.backup(raw)
    src.close()
    raw.execute("PRAGMA journal_mode=WAL")

    def raw_transition() -> None:
        # read in one transaction, decide, then compare-and-set in a write transaction: the
        # statements the store runs for one transition
        raw.execute("BEGIN")
        row = raw.execute("SELECT id, state, version, data FROM orders WHERE id = ?", ("B-1",)).fetchone()
        raw.execute("COMMIT")
        data = jsonutil.loads(row[3])
        now = datetime.now(UTC).isoformat()
        raw.execute("BEGIN IMMEDIATE")
        cur = raw.execute("UPDATE orders SET state = ?, data = ?, version = version + 1, updated_at = ? "
                          "WHERE id = ? AND version = ?", (row[1], jsonutil.dumps(data), now, row[0], row[2]))
        assert cur.rowcount == 1
        raw.execute("INSERT INTO journal (order_id, at, trigger, from_state, to_state, actor, outcome, request_id, "
                    "detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (row[0], now, "claim_refund", row[1], row[1], "buyer", "ok", None, "{}"))
        raw.execute("COMMIT")

    engine_time = raw_time = 0.0
    batch = max(1, transitions // rounds)
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(batch):
            flow.claim_refund("B-1")
        engine_time += time.perf_counter() - start
        start = time.perf_counter()
        for _ in range(batch):
            raw_transition()
        raw_time += time.perf_counter() - start
    store.dispose()
    raw.close()
    return batch * rounds / engine_time, batch * rounds / raw_time


def bench_memory(orders: int) -> list[tuple[int, int]]:
    """Traced bytes still held after processing n orders through their whole lifecycle."""
    points = []
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    done = 0
    for checkpoint in (orders // 10, orders // 2, orders):
        while done < checkpoint:
            state = "new"
            for trigger, target in LIFE:
                state = next_state(Variant.LEGAL if done % 2 else Variant.PRIVATE, state, trigger, target=target)
            done += 1
        gc.collect()
        points.append((done, tracemalloc.get_traced_memory()[0] - base))
    tracemalloc.stop()
    return points


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--persisted", type=int, default=3_000)
    parser.add_argument("--orders", type=int, default=100_000)
    args = parser.parse_args()

    engine_rate, bare_rate = bench_in_memory(args.events)
    print(f"in memory   engine {engine_rate:>10,.0f} events/s | bare transitions {bare_rate:>10,.0f} events/s "
          f"| ratio {engine_rate / bare_rate:.2f} (target >= 0.80)")
    with tempfile.TemporaryDirectory() as tmp:
        engine_rate, raw_rate = bench_persisted(args.persisted, Path(tmp))
    print(f"persisted   engine {engine_rate:>10,.0f} transitions/s | raw sqlite3 {raw_rate:>10,.0f} transitions/s "
          f"| ratio {engine_rate / raw_rate:.2f} (target >= 0.50)")
    points = bench_memory(args.orders)
    for n, held in points:
        print(f"memory      {n:>7,} orders processed: {held:>8,} bytes held ({held / n * 100_000:,.0f} per 100,000)")
    first, last = points[0][1], points[-1][1]
    print(f"memory      flat: {'yes' if last <= max(first * 1.5, first + 64 * 1024) else 'NO'} "
          f"(held after {points[-1][0]:,} orders vs after {points[0][0]:,})")


if __name__ == "__main__":
    main()
