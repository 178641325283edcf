"""The README's examples run, in order, against the sandbox over HTTP: they cannot rot."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from helpers import FAST_RETRIES

from invoicebox_flow.diagrams import render_sequence
from invoicebox_flow.flows import sequence
from invoicebox_flow.sandbox import Buyer, Sandbox
from invoicebox_flow.serving import LoopbackServer
from invoicebox_flow.signature import sign

README = Path(__file__).resolve().parent.parent / "README.md"

pytest_plugins = ["pytester"]


def blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", README.read_text(encoding="utf-8"), flags=re.M | re.S)


def block_starting(fragment: str) -> str:
    found = [b for b in blocks("python") if fragment in b]
    assert len(found) == 1, f"one README python block should contain {fragment!r}"
    return found[0]


# What a README block may use from the blocks before it, as a user's module would declare it.
CONTINUED_NAMES = """\
from invoicebox_flow import InvoiceboxClient, OrderFlow

client: InvoiceboxClient
flow: OrderFlow
shop: OrderFlow
"""


@pytest.mark.slow  # one mypy run over every block: about ten seconds
def test_every_readme_example_type_checks_strictly(tmp_path):
    """Each python block is a module of its own (after the names it continues from) and passes
    ``mypy --strict``, as a user's code copied from the README would."""
    examples = blocks("python")
    for number, block in enumerate(examples):
        (tmp_path / f"readme_example_{number}.py").write_text(CONTINUED_NAMES + "\n" + block, encoding="utf-8")
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "--no-error-summary",
         "--cache-dir", str(tmp_path / ".mypy_cache"), *sorted(str(p) for p in tmp_path.glob("readme_example_*.py"))],
        cwd=README.parent, capture_output=True, text=True, timeout=600, check=False)
    assert len(examples) >= 10
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_readme_diagram_is_the_generated_one():
    [diagram] = blocks("mermaid")
    assert diagram.strip() == render_sequence(sequence("private-payment")).strip()


def test_quick_start_holds_exactly_two_commands():
    text = README.read_text(encoding="utf-8")
    quick = text[text.index("## Quick start"):]
    commands = [ln for ln in quick[quick.index("```sh") + 5:quick.index("```", quick.index("```sh") + 5)].splitlines() if ln.strip()]
    assert len(commands) == 2
    assert commands[0].endswith("invoicebox-flow demo") and "pytest" in commands[1]


@pytest.fixture
def readme_shop(tmp_path, monkeypatch):
    """The environment the README's shop example reads, pointing at a sandbox, and a webhook
    served over HTTP that hands notifications to the ``flow`` the example creates."""
    namespace: dict = {"__name__": "__main__"}  # Flask(__name__) looks the module up

    def webhook(environ, start_response):  # the example's shop: the packing one once it exists
        from invoicebox_flow import make_wsgi_app

        return make_wsgi_app(namespace.get("shop") or namespace["flow"])(environ, start_response)

    served = LoopbackServer(webhook)
    with Sandbox(notification_retry_delays=FAST_RETRIES) as ib:
        monkeypatch.setenv("INVOICEBOX_TOKEN", ib.token)
        monkeypatch.setenv("INVOICEBOX_BASE_URL", ib.url)
        monkeypatch.setenv("INVOICEBOX_MERCHANT_ID", ib.merchant_id)
        monkeypatch.setenv("INVOICEBOX_NOTIFICATION_KEY", ib.notification_key)
        monkeypatch.setenv("INVOICEBOX_FLOW_DB", f"sqlite:///{tmp_path / 'shop.db'}")
        monkeypatch.setenv("SHOP_NOTIFICATION_URL", served.url + "/invoicebox/notification")
        yield ib, namespace
    served.close()


def test_the_shop_example_runs_the_whole_lifecycle(readme_shop, capsys):
    ib, namespace = readme_shop
    exec(block_starting("flow = OrderFlow("), namespace)
    assert namespace["payment_url"] == namespace["order"].payment_url
    Buyer().pay(namespace["payment_url"])  # what the buyer does between the two blocks
    ib.wait_idle()
    assert namespace["flow"].get("A-1001").state.value == "paid"
    exec(block_starting('flow.ship("A-1001")'), namespace)
    assert "refund_accepted" in capsys.readouterr().out
    ib.wait_idle()
    assert sorted(r["type"] for r in ib.receipts()) == ["full_settlement", "prepayment_full", "refund"]


def test_the_react_to_payments_example_mails_once_and_reads_the_feed(readme_shop, capsys):
    ib, namespace = readme_shop
    exec(block_starting("flow = OrderFlow("), namespace)
    exec(block_starting("def send_payment_mail"), namespace)  # subscribed before the payment commits
    Buyer().pay(namespace["payment_url"])
    ib.wait_idle()
    capsys.readouterr()
    react = block_starting("Worker(flow).run(once=True)")
    exec(react, namespace)
    exec(react, namespace)  # the second run delivers nothing more; read from the start, the feed is the same
    flow = namespace["flow"]
    [paid] = [e for e in flow.events() if type(e).__name__ == "OrderPaid"]
    assert namespace["sent_mails"] == {paid.id: "A-1001: 2400.00 RUB received, thank you"}
    assert [(d.handler, d.status) for d in flow.store.deliveries()] == [("__main__.send_payment_mail", "done")]
    lines = capsys.readouterr().out.splitlines()
    triggers = [e.trigger for e in flow.history("A-1001")]
    assert [line.split()[3] for line in lines] == [e.to_state for e in flow.events()] * 2  # the feed, each time
    assert len(lines) == 2 * len(triggers) and any(" OrderPaid A-1001 paid" in line for line in lines)
    assert namespace["position"] == flow.events()[-1].position


def _deliver(ib: Sandbox, url: str, namespace: dict) -> None:
    """A real test notification from the sandbox, and a forged one, to the mounted endpoint."""
    attempt = ib.send_test_notification(url)
    assert attempt["delivered"], attempt
    body = b'{"id":"x"}'
    forged = requests.post(url, data=body, headers={"X-Signature": sign(body, "wrong"),
                                                    "Content-Type": "application/json"}, timeout=5)
    assert forged.status_code == 200 and forged.json()["code"] == "signature_error"


def test_the_packing_example_packs_before_shipping_for_both_buyers(readme_shop):
    ib, namespace = readme_shop
    exec(block_starting("flow = OrderFlow("), namespace)
    exec(block_starting("packing = DOCUMENTED_FLOW"), namespace)
    shop = namespace["shop"]
    for order_id in ("B-1", "B-2"):
        Buyer().pay(shop.redirect_buyer(order_id))  # what the buyers do between the two blocks
    ib.wait_idle()
    assert [shop.get(o).state for o in ("B-1", "B-2")] == ["paid", "paid"]
    exec(block_starting('shop.fire(order_id, "pack")'), namespace)
    ib.wait_idle()
    b1, b2 = shop.get("B-1"), shop.get("B-2")
    assert (b1.state, b2.state) == ("shipped", "shipped")
    assert sorted(r["type"] for r in ib.receipts(b1.invoicebox_id)) == ["full_settlement", "prepayment_full"]
    assert sorted(d["kind"] for d in ib.documents(b2.invoicebox_id)) == ["torg12", "transfer_report"]
    assert [e.trigger for e in shop.history("B-2")].count("pack") == 1


@pytest.mark.parametrize(("fragment", "app_name"), [
    ("application = make_wsgi_app", "application"),
    ("app = Flask(__name__)", "app"),
], ids=["plain-wsgi", "flask"])
def test_the_wsgi_recipes(readme_shop, fragment, app_name):
    ib, namespace = readme_shop
    exec(block_starting("flow = OrderFlow("), namespace)
    exec(block_starting(fragment), namespace)
    served = LoopbackServer(namespace[app_name])
    try:
        _deliver(ib, served.url + "/invoicebox/notification", namespace)
    finally:
        served.close()


def test_the_fastapi_recipe(readme_shop):
    uvicorn = pytest.importorskip("uvicorn")
    ib, namespace = readme_shop
    exec(block_starting("flow = OrderFlow("), namespace)
    exec(block_starting("api = FastAPI()"), namespace)
    server = uvicorn.Server(uvicorn.Config(namespace["api"], host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        _deliver(ib, f"http://127.0.0.1:{port}/invoicebox/notification", namespace)
    finally:
        server.should_exit = True
        thread.join(10)


def test_the_sandbox_example():
    exec(block_starting("with Sandbox() as ib:"), {})


def test_the_draw_your_orders_example(readme_shop, capsys):
    ib, namespace = readme_shop
    exec(block_starting("flow = OrderFlow("), namespace)
    Buyer().pay(namespace["payment_url"])
    ib.wait_idle()
    exec(block_starting('flow.ship("A-1001")'), namespace)
    capsys.readouterr()
    exec(block_starting('flow.sequence_diagram("A-1001")'), namespace)
    printed = capsys.readouterr().out
    assert printed.startswith("sequenceDiagram\n") and printed.count("    rect rgb(") == 3
    shipment = render_sequence(sequence("private-shipment")).splitlines()
    block = shipment[shipment.index("    rect rgb(204, 245, 204)"):]
    assert "\n".join(block) in printed  # the shipment happened as documented
    # the example never tells the shop the buyer came back: step 7 is missing, numbering goes on at 8
    assert "      autonumber 8" in printed.splitlines()
def test_the_gherkin_example_runs_in_a_project_of_its_own(pytester):
    """The three blocks of "Test your shop with Gherkin", each written to the file its first line
    names, make a project that passes with nothing else (a subprocess: only installed names)."""
    files = [block_starting("def invoicebox_flow_factory"), *blocks("gherkin"), block_starting('scenarios("features")')]
    for text in files:
        first, _, body = text.partition("\n")
        assert first.startswith("# "), first
        target = pytester.path / first[2:].strip()
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body, encoding="utf-8")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--flow-coverage", timeout=300)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*transitions exercised: * of *"])
def test_the_reconcile_example_heals_a_lost_notification(readme_shop, capsys):
    ib, namespace = readme_shop
    exec(block_starting("flow = OrderFlow("), namespace)
    ib.inject_notification_fault("drop")  # the shop's endpoint was down past every retry
    Buyer().pay(namespace["payment_url"])
    ib.wait_idle()
    assert namespace["flow"].get("A-1001").state.value == "buyer_redirected"
    capsys.readouterr()
    exec(block_starting("flow.reconcile("), namespace)
    assert capsys.readouterr().out == "1 {'missed_payment': 1}\n"
    assert namespace["flow"].get("A-1001").state.value == "paid"
    assert [e.trigger for e in namespace["flow"].history("A-1001") if e.actor == "reconcile"] == ["confirm_payment"]
