"""The models reach users' type checkers: a user's script with the README's model examples is
``mypy --strict`` clean, and the same script with a misspelt field, a float price or no VAT code
is not. (The models used an ``attrs.define`` alias, which hid every field from type checkers.)"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

USER_SCRIPT = '''\
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from invoicebox_flow import LegalCustomer, OrderRequest, PrivateCustomer, basket_line
from invoicebox_flow.rulebook import RuleWarning, parse_quantity

{readme_line}
anna = PrivateCustomer(name="Анна", email="anna@example.org")
vector = LegalCustomer(name="ООО «Вектор»", vat_number="7812345675", tax_registration_reason_code="781201001")
request = OrderRequest(merchant_id="m", merchant_order_id="A-1001", description="Курс", basket_items=[course],
                       customer=anna, expiration_date=datetime.now(timezone.utc) + timedelta(days=1))
total: Decimal = course.total_amount
inn: str | None = vector.vat_number
warnings: list[RuleWarning] = request.warnings() + vector.warnings()
quantity: Decimal = parse_quantity("2")
'''

MISTAKES = {
    'PrivateCustomer(nam="Анна")': "call-arg",
    'LegalCustomer(name="ООО", vat_number="7812345675", tax_registration_code="781201001")': "call-arg",
    'basket_line(sku="A", name="B", unit_price=9.99, quantity=1, vat_code="RUS_VAT22")': "arg-type",
    'basket_line(sku="A", name="B", unit_price="9.99", quantity=1)': "call-arg",
}


def readme_basket_line() -> str:
    """The README's ``course = basket_line(...)`` statement, as written there."""
    text = README.read_text(encoding="utf-8")
    match = re.search(r"^course = basket_line\(.*?\)\n", text, flags=re.M | re.S)
    assert match, "the README shows a basket_line example"
    assert 'vat_code="RUS_VAT22"' in match.group(0)  # the standard rate since 2026, and always explicit
    return match.group(0).rstrip()


def mypy(script: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "--no-error-summary",
         "--cache-dir", str(cache), str(script)],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)


@pytest.mark.slow
def test_a_users_script_with_the_readme_models_type_checks_and_mistakes_do_not(tmp_path):
    good = tmp_path / "shop.py"
    good.write_text(USER_SCRIPT.format(readme_line=readme_basket_line()), encoding="utf-8")
    bad = tmp_path / "typos.py"
    bad.write_text("from invoicebox_flow import LegalCustomer, PrivateCustomer, basket_line\n\n"
                   + "\n".join(MISTAKES) + "\n", encoding="utf-8")
    checked = mypy(good, tmp_path / "cache")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    refused = mypy(bad, tmp_path / "cache")
    assert refused.returncode == 1
    errors = [line for line in refused.stdout.splitlines() if ": error:" in line]
    for number, (statement, code) in enumerate(MISTAKES.items(), start=3):
        assert any(f"typos.py:{number}:" in e and f"[{code}]" in e for e in errors), (statement, errors)
