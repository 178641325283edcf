"""``invoicebox-flow demo``, run as a process twice in one folder, the way the README says.

The expected output is derived from the sequence definitions (every step's progress line,
every title); the recorded diagrams are compared with the documented ones; the store is read
back to see the orders of both runs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from invoicebox_flow import demo
from invoicebox_flow.diagrams import render_sequence
from invoicebox_flow.flows import SEQUENCES
from invoicebox_flow.store import Store
from invoicebox_flow.trace import Trace

CLI = Path(sys.executable).parent / "invoicebox-flow"
RUN_TIMEOUT = 120  # a safety net against a hung demo, not a speed check
MERMAID_BLOCK = re.compile(r"```mermaid\n(.*?)```", re.DOTALL)

pytestmark = pytest.mark.skipif(not CLI.exists(), reason="the invoicebox-flow console script is not installed")


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INVOICEBOX_")}
    env.update(PYTHONIOENCODING="utf-8", NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    return subprocess.run([str(CLI), *args], capture_output=True, text=True, encoding="utf-8", env=env, cwd=cwd,
                          timeout=RUN_TIMEOUT)


def order_ids(output: str) -> list[str]:
    return re.findall(r"^order (\S+) — ", output, flags=re.MULTILINE)


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> tuple[Path, list[subprocess.CompletedProcess]]:
    """``invoicebox-flow demo`` with its defaults, twice in the same fresh folder."""
    folder = tmp_path_factory.mktemp("demo")
    return folder, [run_cli("demo", cwd=folder), run_cli("demo", cwd=folder)]


def test_both_runs_exit_0_and_say_so(two_runs):
    _, runs = two_runs
    for result in runs:
        assert result.returncode == 0, result.stdout + result.stderr
        assert "every documented sequence ended as documented" in result.stdout
        assert "FAIL" not in result.stdout
        assert "Traceback" not in result.stderr


def test_output_names_every_documented_sequence(two_runs):
    _, runs = two_runs
    for result in runs:
        for seq in SEQUENCES:
            assert seq.name in result.stdout
            assert seq.title in result.stdout


def test_one_progress_line_per_documented_step_with_its_number(two_runs):
    _, runs = two_runs
    out = runs[0].stdout
    assert '[private-payment  8/10] ИнвойсБокс → Онлайн касса: Чек "предоплата 100%"' in out
    for seq in SEQUENCES:
        for step in seq.steps:
            assert demo.step_line(seq, step) in out, (seq.name, step.number)
    # the legal refund ran twice for each of two orders: its last step is printed four times
    legal_refund = next(s for s in SEQUENCES if s.name == "legal-refund")
    assert out.count(demo.step_line(legal_refund, legal_refund.steps[-1])) == 4


def test_summary_table_shows_final_states_receipts_documents_and_notifications(two_runs):
    _, runs = two_runs
    out = runs[0].stdout
    rows = {line.split()[0]: line for line in out.splitlines() if line.startswith("DEMO-")}
    ids = order_ids(out)
    assert set(rows) == set(ids) and len(ids) == 4
    states = sorted(rows[i].split()[2] for i in ids)
    assert states == ["canceled", "refunded", "refunded", "refunded"]
    private = next(i for i in ids if i.endswith("-P"))
    assert "prepayment_full" in rows[private] and "refund ×2" in rows[private] and rows[private].endswith(" 1")
    goods = next(i for i in ids if i.endswith("-LG"))
    assert "torg12" in rows[goods] and "refund_torg12 ×2" in rows[goods]
    services = next(i for i in ids if i.endswith("-LS"))
    assert "act" in rows[services].split() or "act," in rows[services].split()
    canceled = next(i for i in ids if i.endswith("-C"))
    assert rows[canceled].endswith(" 0")


def test_trace_folder_holds_the_recorded_diagrams_of_both_runs(two_runs):
    folder, runs = two_runs
    diagrams = folder / "demo-diagrams"
    for result in runs:
        assert "demo-diagrams/" in result.stdout
    files = sorted(diagrams.glob("*.md"))
    for result in runs:
        for order_id in order_ids(result.stdout):
            assert any(order_id in f.name for f in files), order_id
    for seq in SEQUENCES:
        pages = [f.read_text(encoding="utf-8") for f in files if f.name.startswith(seq.name + "--")
                 and not f.name.split("--")[1].endswith("-C")]
        assert pages, seq.name
        documented = render_sequence(seq)
        for page in pages:
            assert "Equals the documented diagram: yes." in page
            assert MERMAID_BLOCK.search(page).group(1) == documented


def test_the_store_has_the_orders_of_both_runs(two_runs):
    folder, runs = two_runs
    first, second = order_ids(runs[0].stdout), order_ids(runs[1].stdout)
    assert len(first) == len(second) == 4 and not set(first) & set(second)
    store = Store(f"sqlite:///{folder / 'invoicebox-flow.db'}")
    try:
        stored = {record.id: record.state for record in store.list_orders(limit=100)}
    finally:
        store.dispose()
    assert set(stored) == set(first + second)
    assert sorted(stored.values()) == ["canceled"] * 2 + ["refunded"] * 6


def test_a_store_that_cannot_be_opened_is_one_line(tmp_path):
    result = run_cli("demo", "--db", "nosuchdialect://x", cwd=tmp_path)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "cannot open the store" in lines[0]
    assert not (tmp_path / "demo-diagrams").exists()


def test_the_verdict_fails_when_a_run_misses_a_documented_step():
    """The demo's exit status rests on this comparison; a missing receipt step must fail it."""
    orders = demo.demo_orders("T")
    private = orders[0]
    trace = Trace()
    at = 0.0
    for seq in SEQUENCES:
        if seq.variant is not private.variant:
            continue
        for _ in range(private.expected_runs()[seq.name]):
            for step in seq.steps:
                if seq.name == "private-shipment" and step.number == 2:
                    continue  # the "полный расчёт" receipt was never registered
                at += 1
                trace.record(seq.name, step.number, at=at, order_ref=private.order_id, source="journal")
    checks = {check.text.split()[0]: check.ok for check in demo._sequence_checks(trace, [private])}
    assert checks["private-payment"] and checks["private-refund"]
    assert not checks["private-shipment"]
    assert not checks["legal-payment"]  # planned for no order here: it never ran
