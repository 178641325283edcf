"""``invoicebox-flow events list|retry|feed`` and ``worker --handlers`` as processes, on a real
SQLite store: dead deliveries are listed and revived, the feed is paged by position, and a worker
started from the command line runs the shop's handlers by their names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_event_handlers import OUT_ENV
from cli_event_handlers import handlers as thank_you_handlers
from cli_helpers import assert_one_line_error, clean_env, needs_cli, run
from helpers import course_lines, private_customer

from invoicebox_flow import Handlers, OrderFlow, OrderPlaced, Store, Worker

pytestmark = needs_cli
TESTS = Path(__file__).resolve().parent


def failing(event: OrderPlaced) -> None:
    raise RuntimeError("the mail server is down")


@pytest.fixture
def shop_db(tmp_path) -> str:
    """A store with three placed orders; a handler that always fails has made their deliveries dead."""
    db = f"sqlite:///{tmp_path / 'shop.db'}"
    with Store(db) as store:
        flow = OrderFlow(None, store, merchant_id="m", handlers=Handlers(max_attempts=1))
        flow.subscribe(failing, OrderPlaced, name="mail")
        for n in range(3):
            flow.place(f"C-{n}", course_lines(), private_customer(), description="Курс", request_invoice=False)
        Worker(flow).run(once=True)
        assert len(store.deliveries(status="dead")) == 3
    return db


def test_dead_deliveries_are_listed_and_revived(shop_db):
    listed = run("events", "list", "--db", shop_db)
    assert listed.returncode == 0, listed.stderr
    header, _rule, *rows = listed.stdout.splitlines()
    assert header.split()[:4] == ["id", "handler", "event", "order"]
    assert [row.split()[1:4] for row in rows] == [["mail", "OrderPlaced", f"C-{n}"] for n in range(3)]
    assert "RuntimeError: the mail" in listed.stdout  # the reason, cut to the terminal if need be
    as_json = json.loads(run("events", "list", "--db", shop_db, "--json").stdout)
    assert [(d["order_id"], d["status"], d["attempts"]) for d in as_json] == [(f"C-{n}", "dead", 1) for n in range(3)]

    revived = run("events", "retry", str(as_json[0]["id"]), "--db", shop_db)
    assert revived.stdout.strip() == "1 dead delivery(ies) will be retried"
    assert run("events", "retry", "--all", "--handler", "other", "--db", shop_db).stdout.startswith("0 dead")
    assert run("events", "retry", "--all", "--db", shop_db).stdout.startswith("2 dead")
    assert run("events", "list", "--db", shop_db).stdout.strip() == "no deliveries dead"
    pending = json.loads(run("events", "list", "--db", shop_db, "--status", "pending", "--json").stdout)
    assert [(d["order_id"], d["attempts"]) for d in pending] == [(f"C-{n}", 0) for n in range(3)]


def test_retry_needs_ids_or_all_and_list_never_creates_a_store(shop_db, tmp_path):
    result = run("events", "retry", "--db", shop_db)
    assert result.returncode == 2
    assert assert_one_line_error(result) == "error: name the dead deliveries to retry by id, or give --all (not both)"
    missing = tmp_path / "typo.db"
    for command in (("events", "list"), ("events", "feed"), ("events", "retry", "--all")):
        assert assert_one_line_error(run(*command, "--db", f"sqlite:///{missing}")).startswith("error: no store at")
    assert not missing.exists()


def test_the_feed_is_paged_by_position(shop_db):
    first = run("events", "feed", "--db", shop_db, "--limit", "2")
    assert first.returncode == 0, first.stderr
    _header, _rule, *rows, hint = first.stdout.splitlines()
    assert [row.split()[3] for row in rows] == ["C-0", "C-1"]
    assert hint == f"next: --after {rows[-1].split()[0]}"
    rest = run("events", "feed", "--db", shop_db, "--after", rows[-1].split()[0], "--json")
    [last] = json.loads(rest.stdout)
    assert (last["order_id"], last["trigger"], last["order"]["state"]) == ("C-2", "place", "order_placed")
    assert run("events", "feed", "--db", shop_db, "--after", last["position"]).stdout.strip() == (
        f"no events after {last['position']}")
    assert assert_one_line_error(run("events", "feed", "--db", shop_db, "--after", "yesterday")) == (
        "error: feed_position: 'yesterday' is not a feed position (an event's .position, e.g. '0-42')")


@pytest.mark.parametrize("spec", ["cli_event_handlers:handlers", "cli_event_handlers:make_handlers"])
def test_a_worker_started_from_the_command_line_runs_the_shops_handlers(tmp_path, sandbox, spec):
    db = f"sqlite:///{tmp_path / 'shop.db'}"
    out = tmp_path / "thanks.txt"
    with Store(db) as store:
        flow = OrderFlow(None, store, merchant_id="m", handlers=thank_you_handlers)
        for n in range(2):  # the shop's own flow registers the handler with its first commit
            flow.place(f"W-{n}", course_lines(), private_customer(), description="Курс", request_invoice=False)
        ids = [e.id for e in flow.events()]
    env = clean_env(INVOICEBOX_TOKEN=sandbox.token, INVOICEBOX_BASE_URL=sandbox.url, INVOICEBOX_FLOW_DB=db,
                    PYTHONPATH=str(TESTS), **{OUT_ENV: str(out)})
    result = run("worker", "--once", "--handlers", spec, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "processed 0 outbox item(s) and 2 event delivery(ies)"
    assert "handlers: thank-you" in result.stderr
    assert out.read_text(encoding="utf-8").split() == [ids[0], "W-0", ids[1], "W-1"]
    again = run("worker", "--once", "--handlers", spec, env=env)
    assert again.stdout.strip() == "processed 0 outbox item(s) and 0 event delivery(ies)"  # never twice


@pytest.mark.parametrize(("spec", "message"), [
    ("cli_event_handlers", "error: --handlers takes MODULE:ATTRIBUTE (e.g. myshop.events:handlers), not "
                           "'cli_event_handlers'"),
    ("no_such_module:handlers", "error: cannot load the event handlers 'no_such_module:handlers': No module "
                                "named 'no_such_module'"),
    ("cli_event_handlers:OUT_ENV", "error: cli_event_handlers:OUT_ENV is a str, not a Handlers registry or an "
                                   "OrderFlow"),
])
def test_handlers_that_cannot_be_loaded_are_one_line(tmp_path, spec, message):
    env = clean_env(INVOICEBOX_TOKEN="t", PYTHONPATH=str(TESTS))
    result = run("worker", "--once", "--db", f"sqlite:///{tmp_path / 'w.db'}", "--handlers", spec, env=env)
    assert assert_one_line_error(result) == message
