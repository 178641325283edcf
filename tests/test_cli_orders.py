"""``invoicebox-flow orders list|show`` as processes, and the conventions of every read command:
they never create a store, they read ``$INVOICEBOX_FLOW_DB``, they print a table that fits the
terminal or JSON, they validate ``--state``, and a closed pipe ends them quietly."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from decimal import Decimal

import click
import pytest
from cli_helpers import (
    CLI,
    RUN_TIMEOUT,
    assert_one_line_error,
    clean_env,
    closed_port,
    demo_store,
    needs_cli,
    run,
)

from invoicebox_flow.cli import main as cli_main
from invoicebox_flow.cli.settings import DB_ENV, DEFAULT_DB
from invoicebox_flow.cli.states import known_states
from invoicebox_flow.flows import State
from invoicebox_flow.store import DEFAULT_URL

pytestmark = needs_cli
__all__ = ["demo_store"]  # a fixture, imported for the tests below

READ_COMMANDS = [("orders", "list"), ("orders", "show", "A-1")]


def all_commands(group: click.Group = cli_main) -> list[click.Command]:
    found: list[click.Command] = []
    for command in group.commands.values():
        found += all_commands(command) if isinstance(command, click.Group) else [command]
    return found


# --- where the store is --------------------------------------------------------------------------


def test_every_command_with_a_store_option_reads_the_one_variable():
    with_db = [c for c in all_commands() if any(p.name == "db" for p in c.params)]
    assert {c.name for c in with_db} >= {"demo", "list", "show", "serve", "worker"}
    for command in with_db:
        [option] = [p for p in command.params if p.name == "db"]
        assert option.envvar == DB_ENV and option.default == DEFAULT_DB == DEFAULT_URL, command.name


@pytest.mark.parametrize("args", READ_COMMANDS, ids=" ".join)
def test_a_read_command_never_creates_a_store(args, tmp_path):
    missing = tmp_path / "typo.db"
    line = assert_one_line_error(run(*args, "--db", f"sqlite:///{missing}"))
    assert line == f"error: no store at {missing} ({missing} does not exist); name the store with --db or {DB_ENV}"
    assert not missing.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", READ_COMMANDS, ids=" ".join)
def test_a_read_command_refuses_a_database_that_is_not_a_store_and_leaves_it_alone(args, tmp_path):
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
    line = assert_one_line_error(run(*args, "--db", f"sqlite:///{other}"))
    assert "holds no invoicebox-flow store" in line
    with sqlite3.connect(other) as conn:
        assert [row[0] for row in conn.execute("SELECT name FROM sqlite_master")] == ["notes"]


def test_the_variable_names_the_store_and_the_option_overrides_it(demo_store, tmp_path):
    db, orders = demo_store
    listed = run("orders", "list", "--json", env=clean_env(INVOICEBOX_FLOW_DB=db), cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert {o["order_id"] for o in json.loads(listed.stdout)} == set(orders.values())
    shown = run("orders", "show", orders["private buyer, canceled"], env=clean_env(INVOICEBOX_FLOW_DB=db), cwd=tmp_path)
    assert shown.returncode == 0 and "canceled" in shown.stdout
    overridden = run("orders", "list", "--db", f"sqlite:///{tmp_path / 'none.db'}", env=clean_env(INVOICEBOX_FLOW_DB=db))
    assert "no store at" in assert_one_line_error(overridden)


def test_an_unreachable_database_is_one_line_without_the_password():
    url = f"postgresql+psycopg://shop:s3cret@127.0.0.1:{closed_port()}/shop"
    line = assert_one_line_error(run("orders", "list", "--db", url))
    assert line.startswith("error: cannot open the store postgresql+psycopg://shop:***@127.0.0.1:")
    assert "s3cret" not in line


@pytest.mark.parametrize(("url", "says"), [
    ("not a url", "the store URL (--db or INVOICEBOX_FLOW_DB) cannot be read"),
    ("nosuchdialect://x", "unknown kind of database 'nosuchdialect'"),
    ("sqlite://", "is an in-memory database"),
], ids=["unparseable", "unknown-dialect", "in-memory"])
def test_a_bad_store_url_is_one_line(url, says):
    assert says in assert_one_line_error(run("orders", "list", "--db", url))


# --- orders list ---------------------------------------------------------------------------------


def test_orders_list_is_a_table_with_a_header_that_fits_80_columns(demo_store):
    db, orders = demo_store
    result = run("orders", "list", "--db", db)
    assert result.returncode == 0, result.stderr
    header, rule, *lines = result.stdout.splitlines()
    assert header.split() == ["order", "buyer", "state", "amount", "refunded", "updated", "(UTC)"]
    assert set(rule.replace(" ", "")) == {"-"}
    assert all(len(line) <= 80 for line in result.stdout.splitlines())
    rows = {line.split()[0]: line.split() for line in lines}
    assert set(rows) == set(orders.values())
    assert rows[orders["private buyer, services"]][1:6] == ["private", "refunded", "2400.00", "RUB", "2400.00"]
    assert rows[orders["sole proprietor, goods"]][1:6] == ["legal", "refunded", "3420.50", "RUB", "3420.50"]
    assert rows[orders["private buyer, canceled"]][2] == "canceled"


def test_a_narrow_terminal_leaves_out_columns_rather_than_cut_amounts(demo_store):
    db, _ = demo_store
    result = run("orders", "list", "--db", db, env=clean_env(COLUMNS="56"))
    header = result.stdout.splitlines()[0]
    assert header.split() == ["order", "state", "amount", "refunded"]
    assert all(len(line) <= 56 for line in result.stdout.splitlines())
    assert "25000.00 RUB" in result.stdout and "…" not in result.stdout


def test_orders_list_as_json_keeps_amounts_exact(demo_store):
    db, orders = demo_store
    result = run("orders", "list", "--db", db, "--json")
    assert result.returncode == 0, result.stderr
    listed = {o["order_id"]: o for o in json.loads(result.stdout)}
    goods = listed[orders["sole proprietor, goods"]]
    assert goods["amount"] == "3420.50" and Decimal(goods["refunded_amount"]) == Decimal("3420.50")
    assert goods["variant"] == "legal" and goods["state"] == "refunded" and goods["currency"] == "RUB"
    assert {line["sku"] for line in goods["lines"]} == {"BOOK-1", "MUG-1"}
    assert goods["updated_at"].endswith("+00:00")


def test_orders_list_filters_by_state(demo_store):
    db, orders = demo_store
    result = run("orders", "list", "--db", db, "--state", "canceled", "--json")
    assert result.returncode == 0, result.stderr
    assert [o["order_id"] for o in json.loads(result.stdout)] == [orders["private buyer, canceled"]]
    assert run("orders", "list", "--db", db, "--state", "expired").stdout.strip() == "no orders in state expired"
    assert json.loads(run("orders", "list", "--db", db, "--state", "expired", "--json").stdout) == []


def test_an_unknown_state_is_one_line_listing_the_known_ones(demo_store):
    db, _ = demo_store
    result = run("orders", "list", "--db", db, "--state", "bogus")
    line = assert_one_line_error(result)
    assert result.returncode == 2 and result.stdout == ""
    assert line == f"error: unknown state 'bogus'; known states: {', '.join(known_states())}"
    assert set(known_states()) == {state.value for state in State}


def test_a_closed_pipe_ends_the_listing_quietly(demo_store):
    db, _ = demo_store
    reader, writer = os.pipe()
    os.close(reader)  # the reader is gone before the first line is written, as after `head -1`
    try:
        result = subprocess.run([str(CLI), "orders", "list", "--db", db], stdout=writer, stderr=subprocess.PIPE,
                                text=True, env=clean_env(), timeout=RUN_TIMEOUT, check=False)
    finally:
        os.close(writer)
    assert result.returncode == 0
    assert result.stderr == ""


def test_piping_into_head_prints_the_header_and_exits_0(demo_store):
    db, _ = demo_store
    result = subprocess.run(["bash", "-o", "pipefail", "-c", f'"{CLI}" orders list --db "{db}" | head -1'],
                            capture_output=True, text=True, env=clean_env(), timeout=RUN_TIMEOUT, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["order", "buyer", "state", "amount", "refunded", "updated", "(UTC)"]
    assert result.stderr == ""


# --- orders show ---------------------------------------------------------------------------------


def test_orders_show_a_private_order_with_lines_receipts_and_journal(demo_store):
    db, orders = demo_store
    result = run("orders", "show", orders["private buyer, services"], "--db", db)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    # the tables fit; a URL is never cut (it has to work when copied)
    assert all(len(line) <= 80 for line in out.splitlines() if not line.startswith("payment "))
    assert "state       refunded" in out
    assert "amount      2400.00 RUB (VAT 400.00)" in out
    assert "paid        2400.00; refunded 2400.00; shipped yes" in out
    assert "COURSE-PY-90" in out
    receipts = [line.split()[:3] for line in out.splitlines() if line.startswith("receipt ")]
    assert [r[1:] for r in receipts[:1]] == [["prepayment_full", "payment"]]
    assert receipts[1][1] == "full_settlement" and receipts[1][2].startswith("shipment:")  # the shipment's own
    assert [r[1] for r in receipts[2:]] == ["refund", "refund"]
    journal = out.split("\njournal\n", 1)[1].splitlines()
    assert journal[0].split()[:4] == ["at", "(UTC)", "trigger", "state"]
    triggers = [line.split()[2] for line in journal[2:]]
    assert triggers[:4] == ["place", "request_invoice", "issue_payment_link", "redirect_buyer"]
    # the buyer's return and the notification race; the notification pays the order either way
    assert triggers.index("confirm_payment") < triggers.index("request_shipment")
    assert triggers.count("refund_accepted") == 2 and triggers[-1] == "refund_accepted"


def test_orders_show_as_json_has_the_order_and_its_whole_journal(demo_store):
    db, orders = demo_store
    result = run("orders", "show", orders["sole proprietor, goods"], "--db", db, "--json")
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    order = shown["order"]
    assert order["variant"] == "legal" and order["state"] == "refunded" and order["vat_amount"] == "345.08"
    kinds = sorted(f["type"] for f in order["facts"] if f["kind"] == "document")
    assert kinds.count("torg12") == 1 and kinds.count("refund_torg12") == 2
    assert not [f for f in order["facts"] if f["kind"] == "receipt"]
    entries = shown["journal"]
    assert entries[0]["trigger"] == "place" and entries[-1]["to_state"] == "refunded"
    assert all(e["from_state"] and e["at"].endswith("+00:00") for e in entries)
    assert any(e["request_id"] for e in entries)


def test_orders_show_an_unknown_order_is_one_line(demo_store):
    db, _ = demo_store
    line = assert_one_line_error(run("orders", "show", "NOPE", "--db", db))
    assert "NOPE" in line
