"""Helpers of the rule-book tests: basket lines built the way InvoiceBox's official integrations
build them, order bodies around them, and the two verdicts on one body — the client's local
validation and the sandbox's answer over real HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import attrs
import pytest
import requests

from invoicebox_flow import jsonutil
from invoicebox_flow.client import InvoiceboxClient
from invoicebox_flow.errors import ValidationError
from invoicebox_flow.models import OrderRequest
from invoicebox_flow.sandbox import Buyer, Sandbox

D = Decimal
KOPECK = D("0.01")
ORDERS = "/v3/billing/api/order/order"
SHIPMENT = "/v3/billing/api/order/shipment"
REFUND = "/v3/billing/api/order/refund-order"

# BITRIX handler.php: the rate behind each code it sends, and its own numeric vatRate field.
BITRIX_RATES = {"NONE": (0, 6), "RUS_VAT0": (0, 5), "RUS_VAT10": (10, 4), "RUS_VAT20": (20, 3),
                "RUS_VAT110": (10, 4), "RUS_VAT120": (20, 3)}
# MCP registry/vat.ts: every code, its percent (the arithmetic is the same for *_ADDED).
MCP_PERCENT = {"RUS_VAT22_ADDED": 22, "RUS_VAT22": 22, "RUS_VAT20_ADDED": 20, "RUS_VAT20": 20,
               "RUS_VAT10_ADDED": 10, "RUS_VAT10": 10, "RUS_VAT7_ADDED": 7, "RUS_VAT7": 7,
               "RUS_VAT5_ADDED": 5, "RUS_VAT5": 5, "RUS_VAT0": 0, "VATNONE": 0}


@pytest.fixture(scope="module", name="ib")
def module_sandbox() -> Iterator[Sandbox]:
    """Fixture ``ib``: one sandbox per test module, its rate limit out of the way of many requests."""
    with Sandbox(rate_limit=100_000) as sandbox:
        yield sandbox


@pytest.fixture(name="client")
def sandbox_client(ib: Sandbox) -> Iterator[InvoiceboxClient]:
    """Fixture ``client``: the shop's client of that sandbox."""
    with InvoiceboxClient(ib.token, base_url=ib.url, timeout=(2.0, 5.0), backoff_base=0.01) as c:
        yield c


def half_up(value: Decimal, unit: Decimal = KOPECK) -> Decimal:
    return value.quantize(unit, rounding=ROUND_HALF_UP)


def bitrix_line(sku: str, price: str | Decimal, quantity: str | int | Decimal, vat_code: str = "RUS_VAT20",
                kind: str = "commodity") -> dict[str, Any]:
    """A line as ``handler.php`` builds it with a VAT rate from the module's settings
    (``calculateVATData``): VAT per unit × quantity, plus Bitrix's own numeric ``vatRate``."""
    unit = half_up(D(price))
    qty = D(quantity)
    percent, vat_rate = BITRIX_RATES[vat_code]
    wo_vat = half_up(unit / (1 + D(percent) / 100))
    return {"sku": sku, "name": f"Товар {sku}", "measure": "шт", "measureCode": "796", "quantity": qty,
            "amount": unit, "totalAmount": half_up(unit * qty), "type": kind, "paymentType": "full_prepayment",
            "vatCode": vat_code, "vatRate": vat_rate, "amountWoVat": wo_vat,
            "totalVatAmount": half_up((unit - wo_vat) * qty)}


def mcp_line(sku: str, price_kopecks: int, quantity: str | int | Decimal, vat_code: str = "RUS_VAT22",
             kind: str = "commodity") -> dict[str, Any]:
    """A line as the MCP server sends it (``tools/writes.ts``): kopecks in, total =
    round(price × quantity), VAT = round(total × p/(100+p)) for every code (vatFromCode),
    amountWoVat = round((total − VAT) / quantity), then roubles with two decimals."""
    qty = D(quantity)
    percent = D(MCP_PERCENT[vat_code])
    total = half_up(D(price_kopecks) * qty, D(1))
    vat = half_up(total * percent / (100 + percent), D(1)) if percent else D(0)
    wo_vat = half_up((total - vat) / qty, D(1))
    return {"sku": sku, "name": f"Товар {sku}", "type": kind, "measure": "шт", "measureCode": "796", "quantity": qty,
            "amount": D(price_kopecks) / 100, "amountWoVat": wo_vat / 100, "totalAmount": total / 100,
            "totalVatAmount": vat / 100, "vatCode": vat_code, "paymentType": "full_payment"}


def in_a_day() -> str:
    return (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0).isoformat()


def order_body(merchant_id: str, items: list[dict[str, Any]], *, customer: Mapping[str, Any] | None = None,
               **overrides: Any) -> dict[str, Any]:
    """A create-order body around ``items``, its amount and vatAmount the lines' sums."""
    body = {
        "merchantId": merchant_id, "merchantOrderId": f"RB-{uuid.uuid4().hex[:12]}",
        "description": "Заказ из правил", "currencyId": "RUB", "languageId": "ru", "expirationDate": in_a_day(),
        "amount": sum((D(str(i.get("totalAmount", 0))) for i in items if isinstance(i, Mapping)), D("0.00")),
        "vatAmount": sum((D(str(i.get("totalVatAmount", 0))) for i in items if isinstance(i, Mapping)), D("0.00")),
        "basketItems": items,
        "customer": dict(customer) if customer is not None else {"type": "private", "name": "Анна",
                                                                  "email": "anna@example.org"},
    }
    body.update(overrides)
    return body


@attrs.frozen
class Verdict:
    """What one side said: ``code`` None means accepted; ``warnings`` are the local warning codes."""

    code: str | None
    warnings: tuple[str, ...] = ()


def local_verdict(body: Mapping[str, Any]) -> Verdict:
    """The client's own validation of ``body`` (read as a request, then ``validate()``)."""
    try:
        request = OrderRequest.from_json(body)
        request.validate()
    except ValidationError as error:
        return Verdict(error.code)
    return Verdict(None, tuple(w.code for w in request.warnings()))


def post(ib: Sandbox, path: str, body: Any) -> requests.Response:
    """A raw POST to the sandbox, past every local check."""
    session = requests.Session()
    session.trust_env = False
    return session.post(f"{ib.url}{path}", data=jsonutil.dumps(body).encode(), timeout=10,
                        headers={"Authorization": f"Bearer {ib.token}", "Content-Type": "application/json",
                                 "Accept": "application/json"})


def error_of(response: requests.Response) -> dict[str, Any]:
    error: dict[str, Any] = jsonutil.loads(response.content)["error"]
    return error


def sandbox_verdict(ib: Sandbox, body: Mapping[str, Any]) -> Verdict:
    """The sandbox's answer to ``body`` as a create order: accepted (200) or the error code."""
    response = post(ib, ORDERS, body)
    if response.status_code == 200:
        return Verdict(None)
    assert response.status_code == 422, response.text
    return Verdict(error_of(response)["code"])


def both(ib: Sandbox, body: Mapping[str, Any]) -> tuple[Verdict, Verdict]:
    return local_verdict(body), sandbox_verdict(ib, body)


def create_calls(ib: Sandbox) -> list[dict[str, Any]]:
    return [r for r in ib.requests() if r.get("endpoint") == "create_order"]


def paid_order(ib: Sandbox, items: list[dict[str, Any]]) -> dict[str, Any]:
    """An order created over HTTP and paid on the payment page."""
    response = post(ib, ORDERS, order_body(ib.merchant_id, items))
    assert response.status_code == 200, response.text
    order: dict[str, Any] = jsonutil.loads(response.content)["data"]
    Buyer().pay(order["paymentUrl"])
    return order
