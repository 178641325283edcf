"""The payment page a buyer reaches through ``paymentUrl``: the invoice, the payer's details and
two actions, «Оплатить» and «Отказаться» (reference: interaction scheme, steps 5–7).

Plain HTML forms, so a test or a script pays with one form POST. Paying answers ``303`` to the
order's ``successUrl`` (or a sandbox landing page); declining answers ``303`` to ``failUrl``.
Locked payer fields (``invoiceSetting.customerLocked`` / ``customerLockedFields``) are shown
read-only and are not taken from the form either.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP
from typing import Any

from flask import Blueprint, Response, redirect, render_template, request

from ..errors import ApiError
from ..money import KOPECK, to_decimal
from . import rules
from .http import engine

blueprint = Blueprint("payment_page", __name__, template_folder="templates")

STATUS_TEXT = {
    rules.CREATED: "Ожидает оплаты",
    rules.COMPLETED: "Заказ оплачен",
    rules.CANCELED: "Заказ отменён",
    rules.EXPIRED: "Срок оплаты заказа истёк",
}
PAYER_LABELS = {
    "name": "ФИО / наименование плательщика",
    "email": "Электронная почта",
    "phone": "Телефон",
    "vatNumber": "ИНН",
    "taxRegistrationReasonCode": "КПП",
}
VAT_LABELS = {"VATNONE": "Без НДС", "RUS_VAT0": "НДС 0%", "RUS_VAT110": "НДС 10/110", "RUS_VAT120": "НДС 20/120"}


def format_money(value: Any) -> str:
    """``Decimal("2400")`` → ``2 400,00`` (Russian style)."""
    try:
        amount = to_decimal(value).quantize(KOPECK, rounding=ROUND_HALF_UP)
    except (TypeError, ValueError, ArithmeticError):
        return str(value)
    whole, _, kopecks = f"{abs(amount):.2f}".partition(".")
    groups = f"{int(whole):,}".replace(",", " ")
    return f"{'-' if amount < 0 else ''}{groups},{kopecks}"


def format_quantity(value: Any) -> str:
    try:
        number = to_decimal(value)
    except (TypeError, ValueError, ArithmeticError):
        return str(value)
    text = format(number.normalize(), "f") if number != number.to_integral() else str(int(number))
    return text.replace(".", ",")


def vat_label(code: Any) -> str:
    if code in VAT_LABELS:
        return VAT_LABELS[code]
    text = str(code)
    if text.startswith("RUS_VAT"):
        rate, added = text[len("RUS_VAT"):].removesuffix("_ADDED"), text.endswith("_ADDED")
        return f"НДС {rate}%" + (" сверх цены" if added else "")
    return text


def _lines(order: dict[str, Any]) -> list[dict[str, str]]:
    return [{
        "name": item.get("name", ""), "quantity": format_quantity(item.get("quantity")),
        "measure": item.get("measure", ""), "price": format_money(item.get("amount")),
        "total": format_money(item.get("totalAmount")), "vat": vat_label(item.get("vatCode")),
        "vatCode": item.get("vatCode", ""), "vatAmount": format_money(item.get("totalVatAmount")),
    } for item in order.get("basketItems") or ()]


def _payer_fields(order: dict[str, Any]) -> list[dict[str, Any]]:
    customer = order.get("customer") or {}
    locked = rules.locked_payer_fields(order)
    names = rules.PAYER_FIELDS if rules.payer_variant(order) == "legal" else rules.PAYER_FIELDS[:3]
    return [{"name": name, "label": PAYER_LABELS[name], "value": customer.get(name) or "",
             "readonly": name in locked} for name in names]


def error_page(status: int, message: str) -> Response:
    titles = {404: "Счёт не найден", 409: "Оплата невозможна"}
    html = render_template("error.html", title=titles.get(status, "Ошибка"), message=message, status=status)
    return Response(html, status=status, mimetype="text/html")


def _refusal(error: ApiError) -> Response:
    # wrong_order_status on the page is a conflict with the order's state: 409
    return error_page(404 if error.status == 404 else 409, error.message)


@blueprint.get("/pay/order/<container_id>")
def invoice(container_id: str) -> Response:
    try:
        order = engine().show_invoice(container_id)
    except ApiError as error:
        return _refusal(error)
    context = {
        "order": order, "merchant_id": order.get("merchantId"),
        "number": order.get("merchantOrderIdVisible") or order.get("merchantOrderId"),
        "lines": _lines(order), "amount": format_money(order.get("amount")),
        "vat_amount": format_money(order.get("vatAmount")), "currency": order.get("currencyId", "RUB"),
        "status": order["status"], "status_text": STATUS_TEXT.get(order["status"], order["status"]),
        "payer_fields": _payer_fields(order), "legal": rules.payer_variant(order) == "legal",
        "expires": order.get("expirationDate"),
    }
    return Response(render_template("invoice.html", **context), mimetype="text/html")


@blueprint.post("/pay/order/<container_id>/pay")
def pay(container_id: str) -> Response:
    try:
        location = engine().pay(container_id, request.form.to_dict())
    except ApiError as error:
        return _refusal(error)
    return redirect(location, code=303)


@blueprint.post("/pay/order/<container_id>/decline")
def decline(container_id: str) -> Response:
    try:
        location = engine().decline(container_id)
    except ApiError as error:
        return _refusal(error)
    return redirect(location, code=303)


@blueprint.get("/pay/done/<container_id>")
def done(container_id: str) -> Response:
    return Response(render_template("landing.html", title="Оплата принята",
                                    message="Спасибо! Счёт оплачен. Вернитесь на сайт магазина."),
                    mimetype="text/html")


@blueprint.get("/pay/declined/<container_id>")
def declined(container_id: str) -> Response:
    return Response(render_template("landing.html", title="Оплата не выполнена",
                                    message="Вы отказались от оплаты. Счёт можно оплатить позже по той же ссылке."),
                    mimetype="text/html")

