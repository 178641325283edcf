"""Every ``invoicebox-flow`` command, run as a process the way a person runs it.

The console script of the virtual environment is started with a clean environment (no
``INVOICEBOX_*`` variables unless a test sets them). Long-running commands (``sandbox``,
``webhook serve``) are started, read until they print where they listen, used over HTTP on
loopback, and terminated. Errors must be one line on stderr with a non-zero exit status, and a
traceback only with ``--debug``.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
import requests

from invoicebox_flow.cli import main as cli_main
from invoicebox_flow.sandbox import Sandbox
from invoicebox_flow.signature import SIGNATURE_HEADER

CLI = Path(sys.executable).parent / "invoicebox-flow"
REPO = Path(__file__).resolve().parent.parent
RUN_TIMEOUT = 60  # a safety net against a hung process, not a speed check
START_TIMEOUT = 20

pytestmark = pytest.mark.skipif(not CLI.exists(), reason="the invoicebox-flow console script is not installed")


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INVOICEBOX_")}
    env.update(PYTHONIOENCODING="utf-8", NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    env.update(extra)
    return env


def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(CLI), *args], capture_output=True, text=True, encoding="utf-8",
                          env=env or clean_env(), cwd=cwd, timeout=RUN_TIMEOUT)


def error_lines(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


def assert_one_line_error(result: subprocess.CompletedProcess) -> str:
    assert result.returncode != 0, result.stdout
    lines = error_lines(result)
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Running:
    """A long-running command: its stdout lines are read in a thread, its stderr goes to a file."""

    def __init__(self, args: list[str], env: dict[str, str], stderr_path: Path, cwd: Path | None = None):
        self.stderr_path = stderr_path
        self._stderr = stderr_path.open("w", encoding="utf-8")
        self.proc = subprocess.Popen([str(CLI), *args], stdout=subprocess.PIPE, stderr=self._stderr, text=True,
                                     encoding="utf-8", env=env, cwd=cwd)
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line.rstrip("\n"))

    def wait_for(self, pattern: str) -> re.Match:
        """The first stdout line matching ``pattern``; fails if the process exits or stays silent."""
        seen: list[str] = []
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                line = self._lines.get(timeout=0.1)
            except queue.Empty:
                if self.proc.poll() is not None and self._lines.empty():
                    break
                continue
            seen.append(line)
            match = re.search(pattern, line)
            if match:
                return match
        raise AssertionError(f"no line matching {pattern!r}; stdout {seen!r}; "
                             f"stderr {self.stderr_path.read_text(encoding='utf-8')!r}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._stderr.close()


# --- help ---------------------------------------------------------------------------------------


def command_paths(group: click.Group = cli_main, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every command and subcommand of the tool, read from the click tree (new ones included)."""
    yield prefix
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from command_paths(command, prefix + (name,))
        else:
            yield prefix + (name,)


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
    assert result.stdout.startswith(f"Usage: {' '.join(('invoicebox-flow',) + path)} ")
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


# --- bad arguments and --debug ------------------------------------------------------------------


@pytest.mark.parametrize("args", [
    ("sandbox", "--port", "abc"),
    ("webhook", "serve", "--port", "70000"),
    ("orders", "list", "--limit", "0"),
    ("check-auth", "--prefix", "v9"),
    ("no-such-command",),
], ids=lambda a: " ".join(a))
def test_a_bad_argument_is_a_usage_error(args):
    result = run(*args)
    assert result.returncode == 2
    assert "Usage: invoicebox-flow" in result.stderr
    assert "Traceback" not in result.stderr


def test_debug_shows_the_traceback_that_the_plain_run_hides(tmp_path):
    db = f"sqlite:///{tmp_path / 'empty.db'}"
    plain = run("orders", "show", "NOPE", "--db", db)
    line = assert_one_line_error(plain)
    assert "NOPE" in line
    debug = run("--debug", "orders", "show", "NOPE", "--db", db)
    assert debug.returncode != 0
    assert "Traceback (most recent call last)" in debug.stderr
    assert "OrderNotFoundError" in debug.stderr


@pytest.mark.parametrize("db", ["nosuchdialect://x", "sqlite:////{tmp}/missing/folder/x.db"],
                         ids=["unknown-dialect", "missing-folder"])
def test_a_store_that_cannot_be_opened_is_one_line(tmp_path, db):
    result = run("orders", "list", "--db", db.format(tmp=tmp_path.as_posix().lstrip("/")))
    assert_one_line_error(result)


# --- diagrams -----------------------------------------------------------------------------------


def test_diagrams_check_passes_on_the_repository():
    result = run("diagrams", "--check", cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout


def test_diagrams_check_names_an_edited_file(tmp_path):
    shutil.copytree(REPO / "diagrams", tmp_path / "diagrams")
    edited = tmp_path / "diagrams" / "private-refund.md"
    edited.write_text(edited.read_text(encoding="utf-8").replace("Чек", "Счёт", 1), encoding="utf-8")
    result = run("diagrams", "--check", "--root", str(tmp_path))
    assert result.returncode != 0
    assert "diagrams/private-refund.md" in result.stderr
    assert "diagrams/private-payment.md" not in result.stderr
    # without --check the folder is regenerated, and then it is up to date
    assert run("diagrams", "--root", str(tmp_path)).returncode == 0
    assert run("diagrams", "--check", "--root", str(tmp_path)).returncode == 0


# --- orders, from a store the demo filled -------------------------------------------------------


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory) -> tuple[str, dict[str, str]]:
    """A store filled by one ``invoicebox-flow demo`` run: its URL and ``{label: order id}``."""
    folder = tmp_path_factory.mktemp("demo")
    db = f"sqlite:///{folder / 'store.db'}"
    result = run("demo", "--db", db, "--trace-dir", str(folder / "diagrams"), cwd=folder)
    assert result.returncode == 0, result.stdout + result.stderr
    orders = dict((label, order_id) for order_id, label in
                  re.findall(r"^order (\S+) — ([^:]+):", result.stdout, flags=re.MULTILINE))
    assert len(orders) == 4, result.stdout
    return db, orders


def test_orders_list_shows_every_order_with_state_and_amount(demo_store):
    db, orders = demo_store
    result = run("orders", "list", "--db", db)
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines()}
    assert set(rows) == set(orders.values())
    assert rows[orders["private buyer, services"]][1:4] == ["private", "refunded", "2400.00"]
    assert rows[orders["sole proprietor, goods"]][1:4] == ["legal", "refunded", "3420.50"]
    assert rows[orders["private buyer, canceled"]][2] == "canceled"


def test_orders_list_filters_by_state(demo_store):
    db, orders = demo_store
    result = run("orders", "list", "--db", db, "--state", "canceled")
    assert result.returncode == 0, result.stderr
    assert [line.split()[0] for line in result.stdout.splitlines()] == [orders["private buyer, canceled"]]
    assert run("orders", "list", "--db", db, "--state", "expired").stdout.strip() == "no orders"


def test_orders_show_a_private_order_with_receipts_and_journal(demo_store):
    db, orders = demo_store
    result = run("orders", "show", orders["private buyer, services"], "--db", db)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "state      refunded" in out
    assert "amount     2400.00 RUB (VAT 400.00); paid 2400.00; refunded 2400.00; shipped yes" in out
    for receipt in ("prepayment_full on payment", "full_settlement on shipment", "refund on refund:"):
        assert f"receipt  {receipt}" in out
    journal = out.split("\njournal\n", 1)[1]
    triggers = [line.split()[2] for line in journal.splitlines()]
    assert triggers[:4] == ["place", "request_invoice", "issue_payment_link", "redirect_buyer"]
    # the buyer's return and the notification race; the notification pays the order either way
    assert triggers.index("confirm_payment") < triggers.index("request_shipment")
    assert triggers.count("refund_accepted") == 2 and triggers[-1] == "refund_accepted"
    assert "X-Request-Id" in journal


def test_orders_show_a_legal_order_with_documents(demo_store):
    db, orders = demo_store
    result = run("orders", "show", orders["sole proprietor, goods"], "--db", db)
    assert result.returncode == 0, result.stderr
    assert "(legal buyer)" in result.stdout
    assert "document torg12 on shipment" in result.stdout
    assert "document refund_torg12 on refund:" in result.stdout
    assert "receipt " not in result.stdout


def test_orders_show_an_unknown_order_is_one_line(demo_store):
    db, _ = demo_store
    line = assert_one_line_error(run("orders", "show", "NOPE", "--db", db))
    assert "NOPE" in line


# --- webhook serve and worker -------------------------------------------------------------------


def test_webhook_serve_answers_a_signed_test_notification_and_refuses_a_forged_one(tmp_path):
    key, merchant = "demo-notification-key", "shop-merchant-1"
    env = clean_env(INVOICEBOX_NOTIFICATION_KEY=key, INVOICEBOX_MERCHANT_ID=merchant, INVOICEBOX_TOKEN="0" * 32,
                    INVOICEBOX_BASE_URL=f"http://127.0.0.1:{closed_port()}")
    running = Running(["webhook", "serve", "--port", "0", "--db", f"sqlite:///{tmp_path / 'shop.db'}"], env,
                      tmp_path / "stderr.txt")
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


def test_webhook_serve_without_its_key_names_the_variable(tmp_path):
    env = clean_env(INVOICEBOX_TOKEN="0" * 32, INVOICEBOX_MERCHANT_ID="m")
    line = assert_one_line_error(run("webhook", "serve", "--port", "0", "--db", f"sqlite:///{tmp_path / 's.db'}",
                                     env=env))
    assert "INVOICEBOX_NOTIFICATION_KEY" in line


def test_worker_once_on_an_empty_store_exits_0(tmp_path):
    env = clean_env(INVOICEBOX_NOTIFICATION_KEY="k", INVOICEBOX_MERCHANT_ID="m", INVOICEBOX_TOKEN="0" * 32,
                    INVOICEBOX_BASE_URL=f"http://127.0.0.1:{closed_port()}")
    result = run("worker", "--once", "--db", f"sqlite:///{tmp_path / 'empty.db'}", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "processed 0 outbox item(s)"
