"""The step library as a shop's test suite uses it: a project of its own (pytester) holding
feature files and nothing but ``scenarios(...)`` — the steps, the sandbox and the shop all come
from the installed plugin. The English texts, the table steps, partial shipments and refunds
by line, notification faults, the event steps' skip, and what a shop overrides."""

from __future__ import annotations

import json
import shutil
import textwrap
import types
from pathlib import Path

import pytest

from invoicebox_flow.testing import ShopParts
from invoicebox_flow.testing.coverage import coverage_of, flow_elements
from invoicebox_flow.testing.recording import FlowRecord

pytest_plugins = ["pytester"]

DATA = Path(__file__).parent / "data" / "step-library"
RUN = ("-p", "no:cacheprovider", "-p", "no:randomly", "-rs")


def project(pytester: pytest.Pytester, *features: Path | tuple[str, str], conftest: str = "") -> None:
    """Feature files (copied, or ``(name, text)``) under ``features/``, one test module, a conftest."""
    folder = pytester.path / "features"
    folder.mkdir()
    for feature in features:
        if isinstance(feature, Path):
            shutil.copy(feature, folder / feature.name)
        else:
            (folder / feature[0]).write_text(textwrap.dedent(feature[1]), encoding="utf-8")
    pytester.makepyfile(test_scenarios='from pytest_bdd import scenarios\n\nscenarios("features")\n')
    if conftest:
        pytester.makeconftest(textwrap.dedent(conftest))


def test_english_steps_tables_and_notification_faults(pytester: pytest.Pytester):
    project(pytester, DATA / "checkout.feature", DATA / "notifications.feature")
    result = pytester.runpytest(*RUN)
    result.assert_outcomes(passed=12)


EVENTS_FEATURE = ("events.feature", """\
    Feature: Lifecycle events
      Scenario: The shop's own step is an event too
        Given a buyer "private person" paid an order with the basket "course"
        When the shop fires "pack" on the order
        Then the shop published the events: OrderPlaced, PaymentLinkIssued, OrderPaid, pack
    """)


def test_the_event_step_names_the_domain_events_and_the_shops_own_steps(pytester: pytest.Pytester):
    project(pytester, EVENTS_FEATURE, conftest="""
        import pytest

        from invoicebox_flow import DOCUMENTED_FLOW, OrderFlow

        PACKING = DOCUMENTED_FLOW.renamed("shop").insert_state(
            "packed", ru="упакован", en="packed", after="paid", before="request_shipment", enter="pack")


        @pytest.fixture
        def invoicebox_flow_factory():
            return lambda parts: OrderFlow(parts.client, parts.store, definition=PACKING, **parts.settings())
    """)
    result = pytester.runpytest(*RUN)
    result.assert_outcomes(passed=1)


def test_the_event_step_fails_naming_what_was_published(pytester: pytest.Pytester):
    project(pytester, ("events.feature", """\
        Feature: Lifecycle events
          Scenario: A wrong expectation
            Given a buyer "private person" paid an order with the basket "course"
            Then the shop published the events: OrderPlaced, OrderPaid
        """))
    result = pytester.runpytest(*RUN)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*['OrderPlaced', 'PaymentLinkIssued', 'OrderPaid']*"])


def test_a_shop_brings_its_baskets_its_notification_handler_and_its_own_steps(pytester: pytest.Pytester):
    project(pytester, ("own.feature", """\
        Feature: The shop's own words
          Scenario: A basket of the shop's own, paid through the shop's own Flask handler
            Given a buyer "private person" paid an order with the basket "gift box"
            Then the order's amount is 4990.00 including 831.67 VAT
            And the shop's handler received 1 notification

          Scenario: The shop's step of the same text wins over the library's
            Given a buyer "private person" has the payment link of an order with the basket "gift box"
            Then the order is in the state "payment link issued"
        """), conftest="""
        import pytest
        from flask import Flask, request
        from pytest_bdd import parsers, then

        from invoicebox_flow import basket_line

        received = []


        @pytest.fixture
        def invoicebox_baskets(invoicebox_baskets):
            box = lambda: [basket_line(sku="BOX-1", name="Gift box", unit_price="4990.00", quantity=1,
                                       vat_code="RUS_VAT20", type="commodity")]
            return invoicebox_baskets | {"gift box": box}


        @pytest.fixture
        def invoicebox_notification_path():
            return "/hooks/invoicebox"


        @pytest.fixture
        def invoicebox_shop_app():
            def shop_app(flow):
                app = Flask("my-shop")

                @app.post("/hooks/invoicebox")
                def notification():
                    received.append(request.path)
                    status, headers, body = flow.handle_notification(request.get_data(), request.headers)
                    return body, status, headers

                return app
            return shop_app


        @then(parsers.parse("the shop's handler received {count:d} notification"))
        def handler_received(count):
            assert len(received) == count


        @then(parsers.parse('the order is in the state "{state}"'))
        def my_state_step(state):
            raise AssertionError(f"the shop's own step ran for {state}")
    """)
    result = pytester.runpytest(*RUN)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*the shop's own step ran for payment link issued*"])


ONE_PAYMENT = ("payment.feature", """\
    Feature: Payment only
      Scenario: A private buyer pays
        Given a buyer "private person" paid an order with the basket "course"
        Then the order is in the state "paid"
    """)


def test_flow_coverage_names_what_was_missed_and_fails_under_the_threshold(pytester: pytest.Pytester):
    project(pytester, ONE_PAYMENT)
    record = pytester.path / "record.json"
    below = pytester.runpytest(*RUN, "--flow-coverage-fail-under=90", f"--flow-record={record}")
    assert below.ret == pytest.ExitCode.TESTS_FAILED
    below.assert_outcomes(passed=1)
    below.stdout.fnmatch_lines(["*invoicebox-flow coverage*", f"transitions exercised: 5 of {len(flow_elements(None).transitions)}",
                                "*transitions no scenario exercised:*", "*private: request_refund (*",
                                "*documented steps no scenario exercised:*", "*legal-payment-01: *",
                                "FAIL: flow coverage * is below 90 %"])
    ran = FlowRecord.from_json(json.loads(record.read_text(encoding="utf-8")))
    assert [s.scenario for s in ran.scenarios] == ["A private buyer pays"]
    covered = coverage_of(ran)
    assert f"flow coverage: {covered.percent:.1f} %" in below.stdout.str()
    assert 0 < covered.percent < 90
    at = f"--flow-coverage-fail-under={covered.percent - 1:.1f}"
    assert pytester.runpytest(*RUN, at).ret == pytest.ExitCode.OK


def test_trace_diagrams_of_an_integrators_scenario(pytester: pytest.Pytester):
    project(pytester, ONE_PAYMENT)
    pytester.runpytest(*RUN, "--trace-diagrams=traces").assert_outcomes(passed=1)
    [page] = (pytester.path / "traces").rglob("private-payment--*.md")
    assert page.parent.name.startswith("payment--A_private_buyer_pays")
    assert "Equals the documented diagram: yes." in page.read_text(encoding="utf-8")


def test_the_shop_parts_never_show_the_notification_key():
    key = "notification-key-that-must-not-show"
    parts = ShopParts(client=None, store=None, merchant_id="m-1", notification_key=key, notification_url="http://x/n")
    assert key not in repr(parts) and key not in str(parts) and key not in f"{parts!r:}"
    assert parts.settings()["notification_key"] == key and "can_fulfil" not in parts.settings()


def test_flow_coverage_reads_the_flows_own_definition_with_the_shops_states():
    """A shop that extends the flow is covered by its own definition: its own transitions are
    there to exercise, and named in the report."""
    from helpers import packing_flow

    elements = flow_elements(types.SimpleNamespace(definition=packing_flow()))
    documented = flow_elements(None)
    triggers = {(v, t.trigger) for v, t in elements.transitions}
    assert {(v, t.trigger) for v, t in documented.transitions} < triggers
    names = [elements.name(key) for key in elements.transitions]
    assert "private: pack (paid → packed)" in names and "legal: confirm_delivery (shipped → delivered)" in names
    assert elements.steps == documented.steps  # the documented steps stay what there is to see
