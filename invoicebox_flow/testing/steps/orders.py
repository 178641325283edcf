"""Buyers, baskets and orders.

Buyers and baskets are named: the samples of :mod:`invoicebox_flow.testing.examples`
(«физическое лицо», «организация», «ИП»; «курс», «товары», «курс и товары», and their English
names), the shop's own (the ``invoicebox_customers`` / ``invoicebox_baskets`` fixtures), or
defined by the scenario with the steps below.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_bdd import given, when

from .patterns import Texts

if TYPE_CHECKING:
    from ..world import InvoiceboxWorld


@given(Texts('корзина "{basket:Q}":', 'the basket "{basket:Q}":'))
def basket_from_table(invoicebox_world: InvoiceboxWorld, basket: str, datatable: list[list[str]]) -> None:
    """Defines a basket by a table: columns sku/артикул, name/наименование, price/цена,
    quantity/количество, VAT/НДС (a VAT code such as RUS_VAT20, or 20%, 10%, 0%, «без НДС»),
    optionally type/тип (товар/goods or услуга/service; service by default) and payment type."""
    invoicebox_world.define_basket(basket, datatable)


@given(Texts(
    'покупатель "{who:Q}" — организация с ИНН "{inn:Q}" и КПП "{kpp:Q}"',
    'the buyer "{who:Q}" is a company with INN "{inn:Q}" and KPP "{kpp:Q}"',
))
def company_buyer(invoicebox_world: InvoiceboxWorld, who: str, inn: str, kpp: str) -> None:
    """Names a company buyer (10-digit INN with KPP; both are checked): it gets reporting documents."""
    from ...models import LegalCustomer

    invoicebox_world.define_customer(who, LegalCustomer(name=who, vat_number=inn, tax_registration_reason_code=kpp,
                                                        email="buyer@company.example"))


@given(Texts(
    'покупатель "{who:Q}" — ИП с ИНН "{inn:Q}"',
    'the buyer "{who:Q}" is a sole proprietor with INN "{inn:Q}"',
))
def sole_proprietor_buyer(invoicebox_world: InvoiceboxWorld, who: str, inn: str) -> None:
    """Names a sole proprietor (12-digit INN, no KPP): a legal buyer, so reporting documents."""
    from ...models import LegalCustomer

    invoicebox_world.define_customer(who, LegalCustomer(name=who, vat_number=inn, email="buyer@sole.example"))


@given(Texts(
    'покупатель "{who:Q}" — физическое лицо с почтой "{email:Q}"',
    'the buyer "{who:Q}" is a private person with e-mail "{email:Q}"',
))
def private_buyer(invoicebox_world: InvoiceboxWorld, who: str, email: str) -> None:
    """Names a private buyer: receipts go to this address."""
    from ...models import PrivateCustomer

    invoicebox_world.define_customer(who, PrivateCustomer(name=who, email=email))


@given(Texts('покупатель "{who:Q}" с корзиной "{basket:Q}"', 'a buyer "{who:Q}" with the basket "{basket:Q}"'))
def buyer_with_basket(invoicebox_world: InvoiceboxWorld, who: str, basket: str) -> None:
    """A new order of the buyer with the basket, not placed yet (``Покупатель создает заказ`` places it)."""
    invoicebox_world.prepare(who, basket)


@given(Texts(
    'покупатель "{who:Q}" получил ссылку на оплату заказа с корзиной "{basket:Q}"',
    'a buyer "{who:Q}" has the payment link of an order with the basket "{basket:Q}"',
))
def buyer_has_payment_link(invoicebox_world: InvoiceboxWorld, who: str, basket: str) -> None:
    """The order is placed and created at InvoiceBox: "ссылка на оплату получена"."""
    invoicebox_world.prepare(who, basket)
    assert invoicebox_world.place(request_invoice=True).state == "payment_link_issued"


@given(Texts(
    'покупатель "{who:Q}" получил ссылку на оплату заказа "{label:Q}" с корзиной "{basket:Q}"',
    'a buyer "{who:Q}" has the payment link of the order "{label:Q}" with the basket "{basket:Q}"',
))
def buyer_has_payment_link_for(invoicebox_world: InvoiceboxWorld, who: str, label: str, basket: str) -> None:
    """The same, for an order the scenario names, to tell several orders apart."""
    invoicebox_world.prepare(who, basket, label)
    assert invoicebox_world.place(label, request_invoice=True).state == "payment_link_issued"


@given(Texts(
    'покупатель "{who:Q}" оплатил заказ с корзиной "{basket:Q}"',
    'a buyer "{who:Q}" paid an order with the basket "{basket:Q}"',
))
def buyer_paid(invoicebox_world: InvoiceboxWorld, who: str, basket: str) -> None:
    """The whole payment sequence, on the payment page and through the notification: "оплачен"."""
    invoicebox_world.pay_fully(who, basket)


@when(Texts(
    "{count:d} покупателей создают заказы, и Магазин вызывает метод создания заказа для каждого",
    "{count:d} buyers place orders and the shop creates each of them at InvoiceBox",
))
def many_orders(invoicebox_world: InvoiceboxWorld, count: int) -> None:
    """``count`` private buyers with the sample course, each order created at InvoiceBox."""
    for n in range(count):
        invoicebox_world.prepare("физическое лицо", "курс", label=f"#{n}")
        invoicebox_world.place(request_invoice=True)
