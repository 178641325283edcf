"""``invoicebox-flow demo``, run as a process twice in one folder, the way the README says:
first as is (the compact summary), then with ``--details``.

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
from invoicebox_flow.demo.report import verdict_lines
from invoicebox_flow.demo.verdict import sequence_checks
from invoicebox_flow.diagrams import render_sequence
from invoicebox_flow.flows import SEQUENCES
from invoicebox_flow.store import Store
from invoicebox_flow.trace import Trace

CLI = Path(sys.executable).parent / "invoicebox-flow"
RUN_TIMEOUT = 120  # a safety net against a hung demo, not a speed check
MERMAID_BLOCK = re.compile(r"```mermaid\n(.*?)```", re.DOTALL)

pytestmark = pytest.mark.skipif(not CLI.exists(), reason="the invoicebox-flow console script is not installed")


README = Path(__file__).resolve().parent.parent / "README.md"


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INVOICEBOX_")}
    env.update(PYTHONIOENCODING="utf-8", NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost",
               COLUMNS="80")
    return subprocess.run([str(CLI), *args], check=False, capture_output=True, text=True, encoding="utf-8", env=env, cwd=cwd,
                          timeout=RUN_TIMEOUT)


def order_ids(output: str) -> list[str]:
    return re.findall(r"^order (\S+) — ", output, flags=re.MULTILINE)


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> tuple[Path, list[subprocess.CompletedProcess]]:
    """``invoicebox-flow demo`` with its defaults, then with ``--details``, in the same fresh folder."""
    folder = tmp_path_factory.mktemp("demo")
    return folder, [run_cli("demo", cwd=folder), run_cli("demo", "--details", cwd=folder)]


def test_both_runs_exit_0_and_say_so(two_runs):
    _, runs = two_runs
    for result in runs:
        assert result.returncode == 0, result.stdout + result.stderr
        assert "every documented sequence ended as documented" in result.stdout
        assert "FAIL" not in result.stdout
        assert "Traceback" not in result.stderr


def test_the_summary_fits_80_columns_one_line_per_order_and_per_check(two_runs):
    _, runs = two_runs
    out = runs[0].stdout
    assert all(len(line) <= 80 for line in out.splitlines()), [line for line in out.splitlines() if len(line) > 80]
    ids = order_ids(out)
    assert len(ids) == 4
    # one line per order as it ends: its steps and its final state
    private, services, goods, canceled = ids
    assert re.search(rf"^order {private} — private buyer, services: 25 steps, refunded$", out, re.MULTILINE)
    assert re.search(rf"^order {goods} — sole proprietor, goods: 23 steps, refunded$", out, re.MULTILINE)
    assert re.search(rf"^order {canceled} — private buyer, canceled: 3 steps, canceled$", out, re.MULTILINE)
    # one line per documented sequence ...
    for seq in SEQUENCES:
        assert len(re.findall(rf"^ok   {seq.name} +\d runs? as documented$", out, re.MULTILINE)) == 1, seq.name
    # ... and one per order, with what its checks looked at
    verdicts = {line.split()[1]: line for line in out.splitlines() if re.match(r"^(ok  |FAIL) DEMO-", line)}
    assert verdicts[private].endswith("refunded 2400.00 RUB, 4 receipts, notified")
    assert verdicts[services].endswith("refunded 25000.00 RUB, 6 documents, notified")
    assert verdicts[goods].endswith("refunded 3420.50 RUB, 6 documents, notified")
    assert verdicts[canceled].endswith("canceled after step 3, nothing issued, not notified")
    assert all(line.startswith("ok   ") for line in verdicts.values())
    assert "[private-payment  1/10]" not in out  # steps are details
    assert "invoicebox-flow demo --details" in out


def test_details_name_every_documented_sequence_and_print_every_step(two_runs):
    _, runs = two_runs
    out = runs[1].stdout
    for seq in SEQUENCES:
        assert seq.name in out and seq.title in out
    assert '[private-payment  8/10] ИнвойсБокс → Онлайн касса: Чек "предоплата 100%"' in out
    for seq in SEQUENCES:
        for step in seq.steps:
            assert demo.step_line(seq, step) in out, (seq.name, step.number)
    # the legal refund ran twice for each of two orders: its last step is printed four times
    legal_refund = next(s for s in SEQUENCES if s.name == "legal-refund")
    assert out.count(demo.step_line(legal_refund, legal_refund.steps[-1])) == 4


def test_details_show_the_counts_table_and_every_receipt_and_document(two_runs):
    _, runs = two_runs
    out = runs[1].stdout
    ids = order_ids(out)
    assert re.search(r"^order +state +amount +refunded +receipts +documents +notified$", out, re.MULTILINE)
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.startswith("DEMO-")}
    assert set(rows) == set(ids) and len(ids) == 4
    private, services, goods, canceled = ids
    assert rows[private][1:] == ["refunded", "2400.00", "2400.00", "4", "0", "1"]
    assert rows[goods][1:] == ["refunded", "3420.50", "3420.50", "0", "6", "1"]
    assert rows[canceled][1:] == ["canceled", "2970.00", "0.00", "0", "0", "0"]
    assert f"ok   {private}: receipts full_settlement, prepayment_full, refund ×2 (expected " in out
    assert f"ok   {goods}: documents refund_torg12 ×2, refund_transfer_report ×2, torg12, transfer_report" in out
    assert f"ok   {services}: documents act, refund_act ×2" in out


def test_the_readme_says_what_the_demo_runs():
    orders = {order.label: order for order in demo.demo_orders("T")}
    assert set(orders) == {"private buyer, services", "organisation, services", "sole proprietor, goods",
                           "private buyer, canceled"}
    assert "act" in orders["organisation, services"].documents
    assert "torg12" in orders["sole proprietor, goods"].documents
    quick_start = README.read_text(encoding="utf-8").split("## Quick start", 1)[1].split("\n## ", 1)[0]
    text = " ".join(quick_start.split())
    for phrase in ("a private buyer's services order", "an organisation's services order with an act",
                   "a sole proprietor's goods order with TORG-12", "a private buyer's order canceled before payment"):
        assert phrase in text


def test_trace_folder_holds_the_recorded_diagrams_of_both_runs(two_runs):
    folder, runs = two_runs
    diagrams = folder / "demo-diagrams"
    for result in runs:
        assert "to demo-diagrams/" in result.stdout
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
    checks = sequence_checks(trace, [private])
    verdicts = {check.text.split()[0]: check.ok for check in checks}
    assert verdicts["private-payment"] and verdicts["private-refund"]
    assert not verdicts["private-shipment"]
    assert not verdicts["legal-payment"]  # planned for no order here: it never ran
    lines = verdict_lines(checks, [], details=False)
    assert lines[1] == f"FAIL private-shipment 0 runs as documented — {private.order_id} ran steps 1,3"
