"""Every ``invoicebox-flow`` command, run as a process the way a person runs it.

Errors must be one line on stderr with a non-zero exit status, and a traceback only with
``--debug``. The read commands and their store conventions are in ``test_cli_orders.py``, the
missing extras in ``test_cli_extras.py``; the helpers in ``cli_helpers.py``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
import requests
from cli_helpers import (
    CLI,
    REPO,
    RUN_TIMEOUT,
    Running,
    assert_one_line_error,
    clean_env,
    closed_port,
    needs_cli,
    run,
    run_with_terminal_stderr,
)

import invoicebox_flow
from invoicebox_flow.cli import main as cli_main
from invoicebox_flow.client import InvoiceboxClient
from invoicebox_flow.engine import OrderFlow
from invoicebox_flow.models import PrivateCustomer, basket_line
from invoicebox_flow.sandbox import Sandbox
from invoicebox_flow.signature import SIGNATURE_HEADER
from invoicebox_flow.store import Store

pytestmark = needs_cli


# --- help ---------------------------------------------------------------------------------------


def command_paths(group: click.Group = cli_main, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every command and subcommand of the tool, read from the click tree (new ones included)."""
    yield prefix
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from command_paths(command, (*prefix, name))
        else:
            yield (*prefix, name)


def _command_at(path: tuple[str, ...]) -> click.Command:
    command: click.Command = cli_main
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


@pytest.mark.parametrize("path", list(command_paths()), ids=lambda p: " ".join(p) or "invoicebox-flow")
def test_every_command_has_help(path):
    result = run(*path, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"Usage: {' '.join(('invoicebox-flow', *path))} ")
    first_line = (_command_at(path).help or "").split("\n")[0].strip()
    assert first_line and " ".join(first_line.split()[:4]) in " ".join(result.stdout.split())


def test_the_tool_has_the_documented_commands():
    paths = {" ".join(p) for p in command_paths()}
    assert {"demo", "sandbox", "diagrams", "orders list", "orders show", "webhook serve", "check-auth",
            "worker"} <= paths


# --- sandbox and check-auth ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox_process(tmp_path_factory) -> Iterator[dict[str, str]]:
    """``invoicebox-flow sandbox --port 0``, with what it printed (url, token, key, merchant id)."""
    running = Running(["sandbox", "--port", "0"], clean_env(), tmp_path_factory.mktemp("sandbox") / "stderr.txt")
    try:
        printed = {}
        for key in ("url", "token", "notification_key", "merchant_id"):
            printed[key] = running.wait_for(rf"^{key}: (\S+)$").group(1)
        yield printed
    finally:
        running.stop()


def test_sandbox_prints_how_to_reach_it_and_check_auth_accepts_its_token(sandbox_process):
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", sandbox_process["url"])
    result = run("check-auth", "--base-url", sandbox_process["url"],
                 env=clean_env(INVOICEBOX_TOKEN=sandbox_process["token"]))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok: authenticated as user ")
    assert sandbox_process["token"] not in result.stdout + result.stderr


def test_check_auth_reads_the_base_url_from_the_environment(sandbox_process):
    result = run("check-auth", env=clean_env(INVOICEBOX_TOKEN=sandbox_process["token"],
                                             INVOICEBOX_BASE_URL=sandbox_process["url"]))
    assert result.returncode == 0, result.stderr
    assert sandbox_process["url"] in result.stdout


def test_check_auth_with_a_wrong_token_is_one_line_and_does_not_echo_the_token(sandbox_process):
    wrong = "0" * 32
    result = run("check-auth", "--base-url", sandbox_process["url"], env=clean_env(INVOICEBOX_TOKEN=wrong))
    line = assert_one_line_error(result)
    assert "unauthorized" in line.lower() or "401" in line
    assert wrong not in result.stdout + result.stderr


def test_check_auth_against_an_unreachable_url_is_one_line():
    result = run("check-auth", "--base-url", f"http://127.0.0.1:{closed_port()}",
                 env=clean_env(INVOICEBOX_TOKEN="0" * 32))
    line = assert_one_line_error(result)
    assert "connection" in line.lower()
    assert result.stdout == ""


def test_check_auth_without_a_token_names_the_variable():
    result = run("check-auth", "--base-url", f"http://127.0.0.1:{closed_port()}")
    line = assert_one_line_error(result)
    assert "INVOICEBOX_TOKEN" in line


def test_the_token_is_never_an_option():
    result = run("check-auth", "--token", "secret")
    assert result.returncode == 2
    assert "No such option" in result.stderr


def test_sandbox_takes_its_credentials_from_the_environment(tmp_path):
    env = clean_env(INVOICEBOX_TOKEN="a" * 32, INVOICEBOX_MERCHANT_ID="shop-42")
    running = Running(["sandbox", "--port", "0"], env, tmp_path / "stderr.txt")
    try:
        url = running.wait_for(r"^url: (\S+)$").group(1)
        assert running.wait_for(r"^token: (\S+)$").group(1) == "a" * 32
        assert running.wait_for(r"^notification_key: (\S+)$").group(1)
        assert running.wait_for(r"^merchant_id: (\S+)$").group(1) == "shop-42"
        assert run("check-auth", "--base-url", url, env=clean_env(INVOICEBOX_TOKEN="a" * 32)).returncode == 0
    finally:
        running.stop()


def test_version_is_the_package_version():
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"invoicebox-flow, version {invoicebox_flow.__version__}"


# --- bad arguments and --debug ------------------------------------------------------------------


@pytest.mark.parametrize("args", [
    ("sandbox", "--port", "abc"),
    ("webhook", "serve", "--port", "70000"),
    ("orders", "list", "--limit", "0"),
    ("check-auth", "--prefix", "v9"),
    ("no-such-command",),
], ids=" ".join)
def test_a_malformed_argument_is_a_usage_error(args):
    result = run(*args)
    assert result.returncode == 2
    assert "Usage: invoicebox-flow" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("path", ["noslash", "/with space", "/query?x=1"])
def test_webhook_serve_refuses_a_path_a_server_cannot_match(path, tmp_path):
    env = clean_env(INVOICEBOX_NOTIFICATION_KEY="k", INVOICEBOX_MERCHANT_ID="m", INVOICEBOX_TOKEN="0" * 32)
    result = run("webhook", "serve", "--port", "0", "--path", path, "--db", f"sqlite:///{tmp_path / 's.db'}", env=env)
    line = assert_one_line_error(result)
    assert result.returncode == 2
    assert line.startswith("error: --path must be a URL path starting with '/'") and repr(path) in line
    assert not (tmp_path / "s.db").exists()  # refused before anything was opened


def test_debug_shows_the_traceback_that_the_plain_run_hides(tmp_path):
    db = f"sqlite:///{tmp_path / 'store.db'}"
    Store(db).dispose()  # nothing is created until first use ...
    with Store(db) as store:
        store.counts()  # ... which creates the tables: an empty, real store
    plain = run("orders", "show", "NOPE", "--db", db)
    line = assert_one_line_error(plain)
    assert "NOPE" in line
    debug = run("--debug", "orders", "show", "NOPE", "--db", db)
    assert debug.returncode != 0
    assert "Traceback (most recent call last)" in debug.stderr
    assert "OrderNotFoundError" in debug.stderr


# --- diagrams -----------------------------------------------------------------------------------


def test_diagrams_check_passes_on_the_repository():
    result = run("diagrams", "--check", cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout


def test_diagrams_check_names_missing_stale_and_extra_files_for_what_they_are(tmp_path):
    shutil.copytree(REPO / "diagrams", tmp_path / "diagrams", ignore=shutil.ignore_patterns("svg"))
    edited = tmp_path / "diagrams" / "private-refund.md"
    edited.write_text(edited.read_text(encoding="utf-8").replace("Чек", "Счёт", 1), encoding="utf-8")
    (tmp_path / "diagrams" / "legal-payment.md").unlink()
    (tmp_path / "diagrams" / "renamed.md").write_text("an old page\n", encoding="utf-8")
    result = run("diagrams", "--check", "--root", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "diagrams/legal-payment.md: missing",
        "diagrams/private-refund.md: stale",
        "diagrams/renamed.md: extra (nothing generates it)",
        f"diagrams/ is out of date (1 missing, 1 stale, 1 extra); run: invoicebox-flow diagrams --root {tmp_path}",
    ]
    # without --check the folder is regenerated, and then it is up to date
    assert run("diagrams", "--root", str(tmp_path)).returncode == 0
    assert run("diagrams", "--check", "--root", str(tmp_path)).returncode == 0


def test_diagrams_check_in_an_empty_folder_calls_every_file_missing(tmp_path):
    result = run("diagrams", "--check", "--root", str(tmp_path))
    assert result.returncode == 1
    named = result.stderr.splitlines()[:-1]
    assert named and all(line.endswith(": missing") for line in named)
    assert "stale" not in result.stderr
    assert "(9 missing)" in result.stderr.splitlines()[-1]


@pytest.mark.slow  # mermaidx takes seconds per diagram (this draws one and stops)
def test_diagrams_svg_names_each_picture_as_it_is_written(tmp_path):
    pytest.importorskip("mermaidx")
    proc = subprocess.Popen([str(CLI), "diagrams", "--svg", "--root", str(tmp_path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=clean_env())
    assert proc.stdout is not None
    svg_folder = tmp_path / "diagrams" / "svg"
    try:
        for line in proc.stdout:
            if line.strip().endswith(".svg"):
                break
        else:
            pytest.fail(f"no picture was named: {proc.stderr.read() if proc.stderr else ''}")
        # named as soon as it is written, while the others are still to be drawn
        first = Path(line.strip())
        assert first.name == "private-payment-1.svg" and first.is_file() and first.parent == svg_folder
        assert proc.poll() is None and sorted(p.name for p in svg_folder.iterdir()) == [first.name]
    finally:
        proc.kill()
        proc.wait(timeout=RUN_TIMEOUT)


# --- webhook serve and worker -------------------------------------------------------------------


def test_webhook_serve_answers_a_signed_test_notification_and_refuses_a_forged_one(tmp_path):
    key, merchant = "demo-notification-key", "shop-merchant-1"
    env = clean_env(INVOICEBOX_NOTIFICATION_KEY=key, INVOICEBOX_MERCHANT_ID=merchant, INVOICEBOX_TOKEN="0" * 32,
                    INVOICEBOX_BASE_URL=f"http://127.0.0.1:{closed_port()}",
                    INVOICEBOX_FLOW_DB=f"sqlite:///{tmp_path / 'shop.db'}")
    running = Running(["webhook", "serve", "--port", "0"], env, tmp_path / "stderr.txt", cwd=tmp_path)
    try:
        url = running.wait_for(r"on (http://127\.0\.0\.1:\d+/invoicebox/notification)$").group(1)
        # InvoiceBox's monitoring notification, signed with the shop's key, from a sandbox
        with Sandbox(notification_key=key, merchant_id=merchant) as ib:
            attempt = ib.send_test_notification(url=url)
        assert attempt["status"] == 200 and attempt["delivered"], attempt
        assert requests.get(url, timeout=10).status_code == 405
        forged = requests.post(url, data=attempt["body"].encode("utf-8"), timeout=10,
                               headers={SIGNATURE_HEADER: "0" * 40, "Content-Type": "application/json"})
        assert forged.status_code == 200
        assert forged.json() == {"status": "error", "code": "signature_error"}
        signed = requests.post(url, data=attempt["body"].encode("utf-8"), timeout=10,
                               headers={SIGNATURE_HEADER: attempt["signature"], "Content-Type": "application/json"})
        assert signed.json() == {"status": "success"}
    finally:
        running.stop()
    # the store the variable names (the worker and the webhook create theirs, and say so)
    assert (tmp_path / "shop.db").is_file() and not (tmp_path / "invoicebox-flow.db").exists()
    assert "shop.db did not exist: created a new, empty store there" in running.stderr_path.read_text("utf-8")


def test_webhook_serve_without_its_key_names_the_variable(tmp_path):
    env = clean_env(INVOICEBOX_TOKEN="0" * 32, INVOICEBOX_MERCHANT_ID="m")
    line = assert_one_line_error(run("webhook", "serve", "--port", "0", "--db", f"sqlite:///{tmp_path / 's.db'}",
                                     env=env))
    assert "INVOICEBOX_NOTIFICATION_KEY" in line


def test_worker_once_on_an_empty_store_exits_0(tmp_path):
    env = clean_env(INVOICEBOX_TOKEN="0" * 32, INVOICEBOX_BASE_URL=f"http://127.0.0.1:{closed_port()}")
    result = run("worker", "--once", "--db", f"sqlite:///{tmp_path / 'empty.db'}", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "processed 0 outbox item(s)"


def test_worker_without_a_token_names_the_variable(tmp_path):
    line = assert_one_line_error(run("worker", "--once", "--db", f"sqlite:///{tmp_path / 'w.db'}"))
    assert line == "error: set INVOICEBOX_TOKEN in the environment"


def deferred_orders(sandbox: Sandbox, db: str, count: int) -> list[str]:
    """``count`` orders placed with ``defer=True``: each waits in the outbox for a worker."""
    course = basket_line(sku="COURSE-1", name="Онлайн-курс", unit_price="1200.00", quantity=1, vat_code="RUS_VAT20",
                         type="service")
    with InvoiceboxClient(sandbox.token, base_url=sandbox.url) as client, Store(db) as store:
        flow = OrderFlow(client, store, merchant_id=sandbox.merchant_id, notification_key=sandbox.notification_key)
        for n in range(count):
            flow.place(f"W-{n}", [course], PrivateCustomer(email="anna@example.org"), description="Курс", defer=True)
            assert flow.get(f"W-{n}").state.value == "invoice_requested"
    return [f"W-{n}" for n in range(count)]


def worker_env(sandbox: Sandbox, db: str) -> dict[str, str]:
    """Only the API settings and the store: no merchant id, no notification key."""
    return clean_env(INVOICEBOX_TOKEN=sandbox.token, INVOICEBOX_BASE_URL=sandbox.url, INVOICEBOX_FLOW_DB=db)


def states(db: str) -> dict[str, str]:
    with Store(db) as store:
        return {record.id: record.state for record in store.list_orders()}


def test_worker_needs_only_the_api_settings_and_logs_start_items_and_summaries(sandbox, tmp_path):
    db = f"sqlite:///{tmp_path / 'shop.db'}"
    ids = deferred_orders(sandbox, db, 3)
    result = run("worker", "--once", "--batch", "1", "--summary-every", "0.01", env=worker_env(sandbox, db))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "processed 3 outbox item(s)"
    log = result.stderr
    assert re.search(r"worker \S+ started on sqlite:///\S+shop\.db: 3 item\(s\) pending, batches of 1", log)
    for order_id in ids:
        assert re.search(rf"{order_id}: issue_payment_link, invoice_requested -> payment_link_issued "
                         rf"\(ok, X-Request-Id \S+\)", log), log
    assert re.search(r"last \d+ s: 1 done, 0 failed; since start: \d done, 0 failed", log)
    assert re.search(r"stopped: 3 done, 0 failed", log)
    assert set(states(db).values()) == {"payment_link_issued"}
    assert sandbox.token not in log


def test_worker_logs_a_call_that_failed_and_stays_pending(sandbox, tmp_path):
    db = f"sqlite:///{tmp_path / 'shop.db'}"
    [order_id] = deferred_orders(sandbox, db, 1)
    sandbox.inject_fault("create_order", "server_error", times=10)
    result = run("worker", "--once", env=worker_env(sandbox, db))
    assert result.returncode == 0, result.stderr
    assert f"outbox item 1 for {order_id}" in result.stderr  # why, from the engine
    assert "call failed; it stays in the outbox and will be retried" in result.stderr
    assert "stopped: 0 done, 1 failed" in result.stderr
    assert states(db) == {order_id: "invoice_requested"}
    sandbox.clear_faults()


def test_worker_quiet_logs_nothing_when_all_goes_well(sandbox, tmp_path):
    db = f"sqlite:///{tmp_path / 'shop.db'}"
    deferred_orders(sandbox, db, 1)
    result = run("worker", "--once", "-q", env=worker_env(sandbox, db))
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.strip() == "processed 1 outbox item(s)"


def test_worker_shows_its_backlog_as_a_progress_bar_on_a_terminal(sandbox, tmp_path):
    db = f"sqlite:///{tmp_path / 'shop.db'}"
    ids = deferred_orders(sandbox, db, 3)
    status, stdout, screen = run_with_terminal_stderr([str(CLI), "worker", "--once", "--batch", "1"],
                                                      worker_env(sandbox, db))
    assert status == 0
    assert stdout.strip() == "processed 3 outbox item(s)"
    assert "catching up" in screen and "3/3" in screen
    assert not any(f"{order_id}: issue_payment_link" in screen for order_id in ids)  # the bar instead
    assert "stopped: 3 done, 0 failed" in screen
