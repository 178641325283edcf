"""The words of the step library: every state has a name, tables and amounts read as written,
and every step of every feature file here matches exactly one library step — while every
library step is used by some feature file (so each one runs in CI: in this suite, or in the
worked example's, which ``.ci/run`` runs and whose own steps match no library step)."""

from __future__ import annotations

import importlib
from decimal import Decimal
from pathlib import Path

import pytest
from pytest_bdd.feature import get_features
from pytest_bdd.steps import step_function_context_registry

from invoicebox_flow.fiscal import Receipt
from invoicebox_flow.flows import DOCUMENTED_FLOW
from invoicebox_flow.models import basket_line
from invoicebox_flow.testing import vocabulary
from invoicebox_flow.testing.steps import MODULES

ROOT = Path(__file__).resolve().parent.parent
FEATURE_DIRS = (ROOT / "features", ROOT / "tests" / "data" / "step-library")
EXAMPLE_FEATURE_DIRS = (ROOT / "examples" / "bookshop" / "features",)  # a shop's: it has a step of its own


def test_every_state_is_named_by_its_definitions_labels(packing):
    for definition in (DOCUMENTED_FLOW, packing):
        for name in definition.state_names:
            spec = definition.state(name)
            assert vocabulary.state_value(spec.ru, definition) == vocabulary.state_value(spec.en, definition) == name
    assert vocabulary.state_value("упакован", packing) == "packed"
    with pytest.raises(LookupError):
        vocabulary.state_value("упакован")  # not a state of the documented flow


@pytest.fixture
def packing():
    from helpers import packing_flow

    return packing_flow()


@pytest.mark.parametrize(("said", "meant"), [("оплачен", "paid"), ("paid", "paid"),
                                             ("payment link issued", "payment_link_issued"),
                                             ("частично возвращён", "partially_refunded")])
def test_a_state_is_named_in_russian_by_value_or_with_spaces(said, meant):
    assert vocabulary.state_value(said) == meant


def test_an_unknown_name_lists_the_known_ones():
    with pytest.raises(LookupError, match='unknown order state "оплочен"; known: "новый", "оформлен"'):
        vocabulary.state_value("оплочен")


def test_every_receipt_kind_has_its_russian_title_and_an_english_name():
    assert {vocabulary.receipt(r.label) for r in Receipt} == set(Receipt)
    assert {vocabulary.receipt(r.value.replace("_", " ")) for r in Receipt} == set(Receipt)


def test_document_names_in_both_languages_and_for_refunds():
    assert vocabulary.document_kinds("отчёт о переводе средств, акт, ТОРГ-12") == {"transfer_report", "act", "torg12"}
    assert vocabulary.document_kinds("transfer report, TORG-12", refund=True) == {"refund_transfer_report",
                                                                                   "refund_torg12"}


@pytest.mark.parametrize(("text", "amount"), [("3 420,50", "3420.50"), ("3420.50", "3420.50"),
                                              ("1\u00a0200,00 ₽", "1200.00"), ("990 руб.", "990")])
def test_amounts_as_the_page_and_the_features_write_them(text, amount):
    assert vocabulary.money(text) == Decimal(amount)


def test_a_basket_table_in_russian_and_one_in_english_make_the_same_lines():
    russian = [["артикул", "наименование", "цена", "количество", "НДС", "тип"],
               ["TEA-1", "Чай", "850,00", "2", "20%", "товар"], ["SETUP", "Настройка", "1500.00", "1", "без НДС", "услуга"]]
    english = [["SKU", "Name", "Price", "Quantity", "VAT", "Type"],
               ["TEA-1", "Чай", "850.00", "2", "RUS_VAT20", "goods"], ["SETUP", "Настройка", "1500", "1", "VATNONE", "service"]]

    def lines(table):
        rows = vocabulary.table_rows(table, vocabulary.BASKET_COLUMNS, "basket")
        return [basket_line(**vocabulary.basket_line_arguments(row)) for row in rows]

    assert lines(russian) == lines(english)
    tea, setup = lines(russian)
    assert (tea.total_amount, tea.total_vat_amount, tea.type) == (Decimal("1700.00"), Decimal("283.33"), "commodity")
    assert (setup.total_vat_amount, setup.type, setup.vat_code) == (Decimal("0"), "service", "VATNONE")


def test_a_basket_table_without_vat_is_refused_naming_the_column():
    with pytest.raises(ValueError, match="needs the columns vat_code"):
        vocabulary.basket_line_arguments({"sku": "A", "name": "A", "unit_price": "1", "quantity": "1"})
    with pytest.raises(LookupError, match='unknown basket column "colour"'):
        vocabulary.table_rows([["sku", "colour"], ["A", "red"]], vocabulary.BASKET_COLUMNS, "basket")


# --- the feature files against the library ----------------------------------------------


def _library_contexts():
    for name in MODULES:
        importlib.import_module(name)
    return [c for c in step_function_context_registry.values() if c.step_func.__module__ in MODULES]


def _feature_steps(dirs=FEATURE_DIRS):
    for feature in get_features([str(d) for d in dirs]):
        for template in feature.scenarios.values():
            contexts = [ctx for examples in template.examples for ctx in examples.as_contexts()] or [{}]
            for context in contexts:
                for step in template.render(context).steps:
                    yield Path(feature.filename).name, step


def test_every_feature_step_matches_exactly_one_library_step_and_every_library_step_is_used():
    contexts = _library_contexts()
    used, problems = set(), []
    for dirs, own_steps_allowed in ((FEATURE_DIRS, False), (EXAMPLE_FEATURE_DIRS, True)):
        for feature, step in _feature_steps(dirs):
            matching = {c.step_func for c in contexts
                        if c.type in (None, step.type) and c.parser.is_matching(step.name)}
            if len(matching) > 1 or not (matching or own_steps_allowed):
                problems.append(f"{feature}: {step.type} {step.name!r} matches {sorted(f.__name__ for f in matching)}")
            used |= matching
    assert not problems, "\n".join(problems)
    unused = sorted({c.step_func.__name__ for c in contexts} - {f.__name__ for f in used})
    assert not unused, f"library steps no feature file here uses (so none runs): {unused}"
