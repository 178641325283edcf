"""What the payment-page tests share: the shop's side in plain HTTP (orders created straight
against the sandbox's API), sample basket lines and payers, and a reader for the page's HTML."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from html.parser import HTMLParser
from typing import Any

import requests

from invoicebox_flow import jsonutil
from invoicebox_flow.sandbox import Sandbox


def at(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).replace(microsecond=0).isoformat()


SERVICE = {"sku": "COURSE-PY-90", "name": "Онлайн-курс «Python для аналитиков»", "measure": "шт.",
           "measureCode": "796", "quantity": 2, "amount": D("1200.00"), "amountWoVat": D("1000.00"),
           "totalAmount": D("2400.00"), "totalVatAmount": D("400.00"), "vatCode": "RUS_VAT20", "type": "service",
           "paymentType": "full_prepayment"}
BOOK = {"sku": "BOOK-1", "name": "Книга «Python»", "measure": "шт.", "measureCode": "796", "quantity": 3,
        "amount": D("990.00"), "amountWoVat": D("900.00"), "totalAmount": D("2970.00"),
        "totalVatAmount": D("270.00"), "vatCode": "RUS_VAT10", "type": "commodity", "paymentType": "full_prepayment"}
GOODS_BY_TAG = dict(BOOK, sku="MUG-1", name="Кружка", type=1)
# A long name and a six-digit sum: what a narrow screen has to fit.
FURNITURE = {"sku": "SOFA-3", "name": "Диван-кровать трёхместный «Скандинавия» с ящиком для белья, обивка — рогожка "
             "графитового цвета, доставка и подъём на этаж", "measure": "шт.", "measureCode": "796",
             "quantity": 1, "amount": D("189990.00"), "amountWoVat": D("158325.00"), "totalAmount": D("189990.00"),
             "totalVatAmount": D("31665.00"), "vatCode": "RUS_VAT20", "type": "commodity",
             "paymentType": "full_prepayment"}
CLOTH = {"sku": "CLOTH-1", "name": "Ткань", "measure": "м", "measureCode": "006", "quantity": D("2.5"),
         "amount": D("480.00"), "amountWoVat": D("400.00"), "totalAmount": D("1200.00"),
         "totalVatAmount": D("200.00"), "vatCode": "RUS_VAT20", "type": "commodity", "paymentType": "full_prepayment"}

PRIVATE = {"type": "private", "name": "Анна Смирнова", "email": "anna@example.org", "phone": "79215550101"}
LEGAL = {"type": "legal", "name": "ООО «Вектор»", "vatNumber": "7812345675", "taxRegistrationReasonCode": "781201001",
         "registrationAddress": "191186, Санкт-Петербург, Невский пр., 1", "email": "buh@vector.example"}


class Shop:
    """Creates orders in the sandbox with plain HTTP."""

    def __init__(self, ib: Sandbox, success_url: str = "http://shop.example/ok",
                 fail_url: str = "http://shop.example/fail") -> None:
        self.ib = ib
        self.success_url = success_url
        self.fail_url = fail_url
        self.session = requests.Session()
        self.session.trust_env = False

    def call(self, method: str, path: str, payload: Any = None) -> Any:
        response = self.session.request(method, f"{self.ib.url}/v3{path}",
                                        data=jsonutil.dumps(payload).encode() if payload is not None else None,
                                        headers={"Authorization": f"Bearer {self.ib.token}",
                                                 "Content-Type": "application/json"})
        assert response.status_code == 200, response.text
        return jsonutil.loads(response.content)["data"]

    def order(self, lines: tuple[dict[str, Any], ...] = (SERVICE,), customer: dict[str, Any] = PRIVATE,
              **overrides: Any) -> dict[str, Any]:
        items = [dict(line) for line in lines]
        payload = {
            "merchantId": self.ib.merchant_id, "merchantOrderId": f"SHOP-{uuid.uuid4().hex[:8]}",
            "description": "Заказ в магазине", "amount": sum(line["totalAmount"] for line in items),
            "vatAmount": sum(line["totalVatAmount"] for line in items), "currencyId": "RUB",
            "expirationDate": at(24), "basketItems": items, "customer": dict(customer),
            "successUrl": self.success_url, "failUrl": self.fail_url,
        }
        payload.update(overrides)
        return self.call("POST", "/billing/api/order/order", payload)

    def ship(self, order: dict[str, Any], lines: list[dict[str, Any]] | None = None) -> Any:
        return self.call("POST", "/billing/api/order/shipment",
                         {"orderId": order["id"], "basketItems": lines or order["basketItems"]})

    def refund(self, order: dict[str, Any], lines: list[dict[str, Any]] | None = None) -> Any:
        lines = lines or order["basketItems"]
        return self.call("POST", "/billing/api/order/refund-order", {
            "parentId": order["id"], "merchantOrderId": f"{order['merchantOrderId']}-R", "description": "Возврат",
            "amount": sum(line["totalAmount"] for line in lines),
            "vatAmount": sum(line["totalVatAmount"] for line in lines), "basketItems": lines})


class Page(HTMLParser):
    """The parts of a payment page a test reads: inputs with their attributes, labels, forms,
    buttons, the text of every element by class and by id, the visible text and the title."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.html = html
        self.inputs: dict[str, dict[str, str | None]] = {}
        self.labels: dict[str, str] = {}  # for= → text
        self.forms: list[str] = []
        self.buttons: list[str] = []
        self.by_class: dict[str, list[str]] = {}
        self.by_id: dict[str, str] = {}
        self.attrs_by_id: dict[str, dict[str, str | None]] = {}
        self.meta_refresh: str | None = None
        self.lang: str | None = None
        self._open: list[tuple[str, dict[str, str | None], list[str]]] = []
        self._skip = 0
        self.text = ""
        self.feed(html)
        self.text = squeeze(self.text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "html":
            self.lang = attributes.get("lang")
        if tag == "meta" and attributes.get("http-equiv") == "refresh":
            self.meta_refresh = attributes.get("content")
        if tag == "input":
            self.inputs[attributes["name"] or ""] = attributes
        if tag == "form":
            self.forms.append(attributes["action"] or "")
        if attributes.get("id"):
            self.attrs_by_id[attributes["id"] or ""] = attributes
        if tag in ("input", "meta", "br", "link"):
            return  # void elements have no end tag
        if tag in ("script", "style", "title"):
            self._skip += 1
        self._open.append((tag, attributes, []))

    def handle_endtag(self, tag: str) -> None:
        if tag not in (name for name, _, _ in self._open):
            return
        while self._open[-1][0] != tag:  # an element left open inside: close it here
            self.handle_endtag(self._open[-1][0])
        name, attributes, chunks = self._open.pop()
        if name in ("script", "style", "title"):
            self._skip -= 1
        text = squeeze("".join(chunks))
        if self._open:
            self._open[-1][2].extend(chunks)
        if name == "button":
            self.buttons.append(text)
        if name == "label" and attributes.get("for"):
            self.labels[attributes["for"] or ""] = text
        for css in (attributes.get("class") or "").split():
            self.by_class.setdefault(css, []).append(text)
        if attributes.get("id"):
            self.by_id[attributes["id"] or ""] = text

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self.text += data
        if self._open:
            self._open[-1][2].append(data)


def squeeze(text: str) -> str:
    """Runs of ASCII white space as one space; the page's no-break spaces stay as they are."""
    return re.sub(r"[ \t\r\n]+", " ", text).strip()


NNBSP, NBSP = "\u202f", "\u00a0"


def rub(text: str) -> str:
    """``"2 400,00 ₽"`` written as the page writes it (narrow no-break space, no-break space)."""
    number, _, sign = text.rpartition(" ")
    return number.replace(" ", NNBSP) + NBSP + sign
