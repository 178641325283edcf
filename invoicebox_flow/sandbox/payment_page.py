"""The payment page a buyer reaches through ``paymentUrl``: the invoice, the payer's details and
the actions «Оплатить», «Оплатить по счёту (банковский перевод)» (organisations and sole
proprietors) and «Отказаться» (reference: interaction scheme, steps 5–7).

Plain HTML forms, so a test or a script pays with one form POST and the page works without
JavaScript (a few lines of it only say «подождите» while a payment is being confirmed).
Paying answers ``303`` to the order's ``successUrl`` (or a sandbox page); declining answers
``303`` to ``failUrl``; choosing a bank transfer comes back to the invoice, which then says the
invoice is issued and awaits the money. Under «Контроль отгрузки на платёжной странице» paying
answers only once the shop has answered the notification, with the result page, which tells
the shop's answer and sends the buyer on to ``successUrl`` or, when the shop cannot provide the
order, ``failUrl``. Locked payer fields (``invoiceSetting.customerLocked`` /
``customerLockedFields``) are shown read-only and are not taken from the form either.

Everything the page says is Russian, refusals and HTTP errors too.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as Redirect

from ..errors import ApiError
from . import page_format, rules
from .http import engine
from .invoice_view import CONFIRMED, REFUSED, UNCONFIRMED, InvoiceView

blueprint = Blueprint("payment_page", __name__, template_folder="templates")

SECONDS_BEFORE_SHOP = 5  # the result page's pause before it sends the payer on to the shop

STATUS_TITLES = {
    rules.CREATED: "Ожидает оплаты",
    rules.COMPLETED: "Счёт оплачен",
    rules.CANCELED: "Счёт отменён",
    rules.EXPIRED: "Срок оплаты истёк",
}
SHOP_ANSWERS = {
    CONFIRMED: "Магазин подтвердил заказ.",
    REFUSED: "Магазин ответил, что товар не может быть доставлен или услуга не может быть оказана.",
    UNCONFIRMED: "Магазин ещё не подтвердил заказ. Оплата принята, магазин сообщит о заказе сам.",
}
ERRORS = {
    404: ("Счёт не найден", "Проверьте ссылку на оплату: такого счёта нет. Если вы пришли из "
                            "магазина, вернитесь на его сайт и начните оплату заново."),
    405: ("Действие недоступно", "Эта страница так не открывается. Откройте ссылку на оплату ещё раз."),
    409: ("Оплата невозможна", "Это действие недоступно для счёта в его текущем состоянии."),
}
SERVER_ERROR = ("Что-то пошло не так", "Страница оплаты сейчас не отвечает как надо. "
                                       "Попробуйте открыть ссылку на оплату ещё раз чуть позже.")


# --- what the templates get --------------------------------------------------------------------------


def _payer_fields(order: dict[str, Any], legal: bool) -> list[dict[str, Any]]:
    """The inputs of the payer form: label, hint, input type and autocomplete token per field."""
    customer = order.get("customer") or {}
    locked = rules.locked_payer_fields(order)
    specs = {
        "name": ("Наименование организации или ИП" if legal else "Фамилия, имя и отчество",
                 None, "text", "organization" if legal else "name", {}),
        "email": ("Электронная почта", "Сюда придут закрывающие документы." if legal else "Сюда придёт электронный чек.",
                  "email", "email", {}),
        "phone": ("Телефон", None if legal else "Если нет почты, чек придёт по СМС.", "tel", "tel", {}),
        "vatNumber": ("ИНН", "10 цифр у организации, 12 у ИП.", "text", "off",
                      {"inputmode": "numeric", "pattern": "[0-9]{10}|[0-9]{12}", "maxlength": "12"}),
        "taxRegistrationReasonCode": ("КПП", "9 знаков; у ИП КПП нет.", "text", "off",
                                      {"pattern": "[0-9]{4}[0-9A-Z]{2}[0-9]{3}", "maxlength": "9"}),
    }
    names = rules.PAYER_FIELDS if legal else rules.PAYER_FIELDS[:3]
    fields = []
    for name in names:
        label, hint, kind, autocomplete, extra = specs[name]
        fields.append({"name": name, "label": label, "hint": hint, "type": kind, "autocomplete": autocomplete,
                       "extra": extra, "value": customer.get(name) or "", "readonly": name in locked})
    return fields


def _lines(order: dict[str, Any], currency: str) -> list[dict[str, Any]]:
    return [{
        "name": item.get("name", ""), "quantity": page_format.quantity(item.get("quantity")),
        "measure": item.get("measure", ""), "price": page_format.money(item.get("amount"), currency),
        "total": page_format.money(item.get("totalAmount"), currency),
        "vat": page_format.vat_label(item.get("vatCode")), "vatCode": item.get("vatCode", ""),
        "vatAmount": page_format.money(item.get("totalVatAmount"), currency),
    } for item in order.get("basketItems") or ()]


def _web_address(url: Any) -> str | None:
    """Only an http(s) address becomes a link or a redirect on the page."""
    return url if isinstance(url, str) and urlsplit(url).scheme in ("http", "https") else None


def _context(view: InvoiceView) -> dict[str, Any]:
    order = view.order
    currency = order.get("currencyId") or "RUB"
    legal = rules.payer_variant(order) == "legal"
    customer = order.get("customer") or {}
    status = order["status"]
    return {
        "view": view, "order": order, "status": status, "status_title": STATUS_TITLES.get(status, status),
        "number": order.get("merchantOrderIdVisible") or order.get("merchantOrderId"),
        "container_id": order["orderContainerId"], "legal": legal, "customer": customer,
        "lines": _lines(order, currency), "amount": page_format.money(order.get("amount"), currency),
        "vat_amount": page_format.money(order.get("vatAmount"), currency),
        "expires": page_format.moscow_time(order.get("expirationDate")),
        "paid_at": page_format.moscow_time(order.get("paidAt")),
        "payer_fields": _payer_fields(order, legal), "contact": rules.contact_of(customer),
        "shop_answer": SHOP_ANSWERS.get(view.shop_answer or ""),
        "return_url": _web_address(order.get("returnUrl")),
    }


def _page(template: str, http_status: int = 200, **context: Any) -> Response:
    return Response(render_template(template, **context), status=http_status, mimetype="text/html")


def error_page(status: int) -> Response:
    """An HTTP error under ``/pay/``, in Russian, whatever raised it."""
    title, message = ERRORS.get(status) or (SERVER_ERROR if status >= 500 else ERRORS[409])
    return _page("error.html", status, title=title, message=message)


def _refusal(error: ApiError, container_id: str) -> Response:
    """The invoice as it stands, with a notice, when the engine refused what the payer asked."""
    if error.status == 404:
        return error_page(404)
    try:
        view = engine().show_invoice(container_id, record_view=False)
    except ApiError:
        return error_page(404)
    return _page("invoice.html", 409, notice=ERRORS[409][1], **_context(view))


@blueprint.after_request
def _private(response: Response) -> Response:
    # A payment page carries the payer's details: never cached, never framed by another site.
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


# --- routes ----------------------------------------------------------------------------------------------


@blueprint.get("/pay/order/<container_id>")
def invoice(container_id: str) -> Response:
    try:
        view = engine().show_invoice(container_id)
    except ApiError as error:
        return _refusal(error, container_id)
    return _page("invoice.html", **_context(view))


@blueprint.post("/pay/order/<container_id>/pay")
def pay(container_id: str) -> Response | Redirect:
    try:
        location = engine().pay(container_id, request.form.to_dict())
    except ApiError as error:
        return _refusal(error, container_id)
    return redirect(location, code=303)


@blueprint.post("/pay/order/<container_id>/bank-transfer")
def bank_transfer(container_id: str) -> Response | Redirect:
    try:
        engine().choose_bank_transfer(container_id)
    except ApiError as error:
        return _refusal(error, container_id)
    return redirect(url_for("payment_page.invoice", container_id=container_id), code=303)


@blueprint.post("/pay/order/<container_id>/decline")
def decline(container_id: str) -> Response | Redirect:
    try:
        location = engine().decline(container_id)
    except ApiError as error:
        return _refusal(error, container_id)
    return redirect(location, code=303)


@blueprint.get("/pay/order/<container_id>/result")
def result(container_id: str) -> Response:
    """After a payment under «Контроль отгрузки»: the shop's answer, then on to the shop."""
    try:
        view = engine().show_invoice(container_id, record_view=False)
    except ApiError:
        return error_page(404)
    context = _context(view)
    onward = _web_address(view.shop_url) if view.order["status"] == rules.COMPLETED else None
    return _page("invoice.html", onward=onward, onward_seconds=SECONDS_BEFORE_SHOP, **context)


@blueprint.get("/pay/done/<container_id>")
def done(container_id: str) -> Response:
    return _landing(container_id, "Оплата принята", "Спасибо! Счёт оплачен. Вернитесь на сайт магазина.")


@blueprint.get("/pay/declined/<container_id>")
def declined(container_id: str) -> Response:
    return _landing(container_id, "Вы отказались от оплаты",
                    "Счёт не оплачен. Пока срок оплаты не истёк, его можно оплатить по той же ссылке.")


def _landing(container_id: str, title: str, message: str) -> Response:
    """Where the payer lands when the order names no shop page to return to."""
    try:
        view = engine().show_invoice(container_id, record_view=False)
    except ApiError:
        return error_page(404)
    return _page("landing.html", title=title, message=message, **_context(view))
