"""The rule book as data: every rule cites its sources, every rule is applied by a check, the
docs page lists exactly the rules the code has, and findings are structured objects."""

from __future__ import annotations

import re
from pathlib import Path

import attrs

from invoicebox_flow import rulebook
from invoicebox_flow.errors import ValidationError
from invoicebox_flow.rulebook import RULES, Rule, RuleWarning, catalogue, rules_table

ROOT = Path(__file__).resolve().parents[1]
CHECKS = ("basket.py", "customer.py", "requests.py", "values.py", "vat.py")


def test_every_rule_has_a_unique_id_a_code_and_pinned_sources():
    assert len({rule.id for rule in RULES}) == len(RULES) >= 30
    for rule in RULES:
        assert rule.code and rule.summary and rule.severity in ("error", "warning"), rule.id
        assert rule.sources, rule.id
        for source in rule.sources:
            assert re.fullmatch(r"[0-9a-f]{7}", source.commit), (rule.id, source)
            assert source.repo.count("/") == 1 and source.path, (rule.id, source)
        assert issubclass(rule.error, ValidationError)


def test_every_rule_is_applied_by_a_check():
    code = "\n".join((ROOT / "invoicebox_flow" / "rulebook" / name).read_text(encoding="utf-8") for name in CHECKS)
    names = [name for name, value in vars(catalogue).items() if isinstance(value, Rule)]
    unused = [name for name in names if not re.search(rf"\b(r\.)?{name}\b", code)]
    assert unused == []


def test_the_docs_page_lists_exactly_the_rules_of_the_code():
    page = (ROOT / "docs" / "rulebook.md").read_text(encoding="utf-8")
    assert rules_table() in page, "regenerate with python -m invoicebox_flow.rulebook.describe"
    for rule in RULES:
        assert f"`{rule.id}`" in page


def test_findings_are_structured_objects_with_their_source():
    report = rulebook.check_order({"merchantId": "m", "merchantOrderId": "o", "description": "d",
                                   "amount": 1, "vatAmount": 0, "currencyId": "RUB",
                                   "expirationDate": "2099-01-01T00:00:00+00:00", "basketItems": [],
                                   "customer": {"type": "legal", "name": "ООО", "registrationAddress": "СПб"}})
    [problem] = report.problems
    assert (problem.code, problem.field, problem.rule) == ("validation", "basketItems", "request.shape")
    assert problem.source.tag == "DOCS"
    assert [(w.code, w.field) for w in report.warnings] == [("vat_number_missing", "customer.vatNumber"),
                                                             ("kpp_missing", "customer.taxRegistrationReasonCode")]
    assert all(isinstance(w, RuleWarning) and attrs.has(type(w)) for w in report.warnings)
    assert {f.name for f in attrs.fields(RuleWarning)} >= {"code", "field", "message", "source"}
