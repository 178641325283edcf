"""Step definitions of ``features/reconciliation.feature`` (Russian Gherkin, pytest-bdd).

The shop's flow runs against a live sandbox over HTTP (the conftest's ``flow``, ``sandbox`` and
``buyer``); the drift is made by the sandbox (a notification lost after every retry, a refund made
by hand in the personal account), and the ``Тогда`` steps read the sweep's report, the order and
its journal.
"""

from __future__ import annotations

from typing import Any

import pytest
from pytest_bdd import given, parsers, scenarios, then, when
from reconcile_helpers import paid, paid_unannounced

from invoicebox_flow.flows import DOCUMENTED_STATES
from invoicebox_flow.reconcile import ACTOR, Drift, Outcome

scenarios("reconciliation.feature")

STATE_NAMES = {spec.ru: spec.name for spec in DOCUMENTED_STATES}


@pytest.fixture
def sweeps() -> list[Any]:
    return []


@given(parsers.parse('покупатель оплатил заказ "{order_id}", а уведомление об оплате потерялось после всех повторов'))
def lost_notification(flow, buyer, sandbox, order_id):
    paid_unannounced(flow, buyer, sandbox, order_id)


@given(parsers.parse('покупатель оплатил заказ "{order_id}", и магазин получил уведомление'))
def paid_and_told(flow, buyer, sandbox, order_id):
    paid(flow, buyer, sandbox, order_id)


@given(parsers.parse('в личном кабинете ИнвойсБокс оформили возврат заказа "{order_id}"'))
def refund_by_hand(flow, sandbox, order_id):
    sandbox.drift_refund(flow.get(order_id).invoicebox_id)


@when("магазин проводит сверку с исправлением")
def sweep_and_heal(flow, sweeps):
    sweeps.append(flow.reconcile(heal=True))


@then(parsers.parse('сверка нашла у заказа "{order_id}" расхождение "{kind}" и исправила его'))
def found_and_healed(sweeps, order_id, kind):
    [finding] = sweeps[-1].findings
    assert (finding.order_id, finding.kind, finding.outcome) == (order_id, Drift(kind), Outcome.HEALED)


@then(parsers.parse('сверка нашла у заказа "{order_id}" расхождение "{kind}" и оставила его человеку'))
def found_for_a_person(sweeps, order_id, kind):
    [finding] = sweeps[-1].findings
    assert (finding.order_id, finding.kind, finding.outcome) == (order_id, Drift(kind), Outcome.FOUND)
    assert sweeps[-1].needs_human == (finding,) and sweeps[-1].exit_code == 2


@then(parsers.parse('в журнале заказа "{order_id}" сверка записала переход "{trigger}"'))
def journaled(flow, order_id, trigger):
    assert [e.trigger for e in flow.history(order_id) if e.actor == ACTOR] == [trigger]


@then(parsers.parse('сверка ничего не записала в журнал заказа "{order_id}"'))
def not_journaled(flow, order_id):
    assert [e for e in flow.history(order_id) if e.actor == ACTOR] == []


@then(parsers.parse('заказ "{order_id}" в состоянии "{label}"'))
def in_state(flow, order_id, label):
    assert flow.get(order_id).state == STATE_NAMES[label]


@then("повторная сверка расхождений не находит")
def agrees_again(flow):
    again = flow.reconcile(heal=True)
    assert again.agrees and again.exit_code == 0


@then(parsers.parse('повторная сверка снова находит у заказа "{order_id}" расхождение "{kind}"'))
def found_again(flow, order_id, kind):
    again = flow.reconcile(heal=True)
    assert [(f.order_id, f.kind) for f in again.findings] == [(order_id, Drift(kind))]
