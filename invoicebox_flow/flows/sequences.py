"""The six documented InvoiceBox sequences, each written once, as data.

Source: InvoiceBox's "Схема взаимодействия с ИнвойсБокс API v3". Participants, arrow kinds,
message texts and their order are copied exactly; search any message text of a diagram and
you land here, next to the lifecycle transitions and the API call that carry it out.

Each step declares its transitions (``moves``): trigger, source states, destination, and the
API call's part, so the lifecycle machines derive from this file alone. Undrawn paths (a
refused call, cancellation, expiry…) are in :mod:`.lifecycle`.
"""

from __future__ import annotations

from ..fiscal import Receipt
from ..protocol import CREATE_ORDER, CREATE_REFUND, CREATE_SHIPMENT, REFUNDABLE_ITEMS, Endpoint
from .states import REFUNDABLE, SHIPMENT_OUTCOMES, SHIPPABLE, UNPAID_AT_INVOICEBOX
from .states import State as ST
from .steps import (
    BUYER,
    CASH_REGISTER,
    INVOICEBOX,
    SHOP,
    Arrow,
    CallRole,
    Effect,
    OneOf,
    Phase,
    Sequence,
    Step,
    StepKind,
    Transition,
    Variant,
)
from .triggers import Trigger as TR

GREEN = (204, 245, 204)
BLUE = (204, 204, 255)

WITH_CASH_REGISTER = (BUYER, SHOP, INVOICEBOX, CASH_REGISTER)
WITHOUT_CASH_REGISTER = (BUYER, SHOP, INVOICEBOX)

S, R, OPEN = Arrow.SYNC, Arrow.REPLY, Arrow.OPEN
ACTION, OBSERVE, EFFECT, LOCAL = StepKind.SHOP_ACTION, StepKind.SHOP_OBSERVATION, StepKind.INVOICEBOX_EFFECT, StepKind.LOCAL


def _calls(role: CallRole, call: Endpoint, trigger: str, sources: object, dest: object, **kwargs: object) -> Transition:
    return Transition(trigger, sources, dest, call=call, role=role, **kwargs)  # type: ignore[arg-type]


def _move(trigger: str, sources: object, dest: object = None, **kwargs: object) -> Transition:
    return Transition(trigger, sources, dest, **kwargs)  # type: ignore[arg-type]


def _shipment_call() -> Step:
    return Step(1, SHOP, INVOICEBOX, S, "Вызов метода отгрузки по заказу", ACTION, moves=(
        _calls(CallRole.REQUEST, CREATE_SHIPMENT, TR.REQUEST_SHIPMENT, SHIPPABLE, ST.SHIPMENT_REQUESTED,
               guard="something_to_ship", description="the shop calls create shipment (all that is left, or some lines)"),
        _calls(CallRole.ACCEPTED, CREATE_SHIPMENT, TR.SHIPMENT_ACCEPTED, ST.SHIPMENT_REQUESTED, OneOf(SHIPMENT_OUTCOMES),
               description="InvoiceBox registered the shipment: shipped, or partially shipped while lines are left"),
    ), note="Магазин направляет запрос отгрузки по факту оказания услуги или отгрузки товара.")


def _send_documents(after: tuple[str, ...], what: str) -> Transition:
    return _move(TR.SEND_DOCUMENTS, after, None, description=f"the shop sends the buyer its own reporting documents for the {what}")


def _payment_opening() -> tuple[Step, ...]:
    """Steps 1–7, identical for both buyer variants."""
    return (
        Step(1, BUYER, SHOP, S, "Создает заказ", LOCAL,
             moves=(_move(TR.PLACE, ST.NEW, ST.ORDER_PLACED, description="the buyer places an order in the shop"),),
             note="Покупатель оформляет заказ на сайте Магазина и выбирает оплату через ИнвойсБокс."),
        Step(2, SHOP, INVOICEBOX, S, "Вызов метода создания заказа", ACTION,
             moves=(_calls(CallRole.REQUEST, CREATE_ORDER, TR.REQUEST_INVOICE, ST.ORDER_PLACED, ST.INVOICE_REQUESTED,
                           description="the shop calls create order"),),
             note="Магазин создает заказ в ИнвойсБокс через метод API."),
        Step(3, INVOICEBOX, SHOP, S, "Идентификатор заказа и ссылка на оплату", OBSERVE,
             moves=(_calls(CallRole.ACCEPTED, CREATE_ORDER, TR.ISSUE_PAYMENT_LINK, ST.INVOICE_REQUESTED,
                           ST.PAYMENT_LINK_ISSUED, description="InvoiceBox answered with the order id and payment link"),),
             note="Система возвращает ссылку на платёжную страницу для оплаты заказа."),
        Step(4, SHOP, BUYER, S, "Перенаправление на платёжную страницу", LOCAL,
             moves=(_move(TR.REDIRECT_BUYER, ST.PAYMENT_LINK_ISSUED, ST.BUYER_REDIRECTED,
                          description="the shop sends the buyer to the payment page"),),
             note="Магазин перенаправляет покупателя по полученной ссылке."),
        Step(5, BUYER, INVOICEBOX, R, "Взаимодействие с платёжной страницей, получение счёта", EFFECT,
             effect=Effect.PAGE_INTERACTION,
             note="Покупатель заполняет необходимые для оплаты сведения и получает счёт для оплаты."),
        Step(6, BUYER, INVOICEBOX, S, "Оплата счёта", EFFECT, effect=Effect.PAYMENT,
             note="Покупатель оплачивает счёт."),
        Step(7, INVOICEBOX, BUYER, S, "Перенаправление покупателя на сайт магазина", EFFECT,
             effect=Effect.REDIRECT_TO_SHOP,
             note="ИнвойсБокс перенаправляет покупателя обратно на сайт Магазина."),
    )


def _payment_notification(number: int) -> Step:
    return Step(number, INVOICEBOX, SHOP, S, "Уведомление об успешной оплате", OBSERVE,
                moves=(_move(TR.CONFIRM_PAYMENT, UNPAID_AT_INVOICEBOX, ST.PAID,
                             description="a signed notification says the order is completed"),),
                note="ИнвойсБокс оповещает Магазин об успешной оплате заказа.")


PRIVATE_PAYMENT = Sequence(
    Variant.PRIVATE, Phase.PAYMENT, "Процесс создания заказа и оплаты счёта физическим лицом",
    WITH_CASH_REGISTER, GREEN,
    (*_payment_opening(),
        Step(8, INVOICEBOX, CASH_REGISTER, S, 'Чек "предоплата 100%"', EFFECT,
             effect=Effect.RECEIPT_REGISTERED, receipt=Receipt.PREPAYMENT_FULL,
             note='ИнвойсБокс формирует и регистрирует чек "предоплата 100%" в онлайн кассе.'),
        Step(9, INVOICEBOX, BUYER, S, 'Предоставление чека "предоплата 100%"', EFFECT,
             effect=Effect.RECEIPT_DELIVERED, receipt=Receipt.PREPAYMENT_FULL,
             note='ИнвойсБокс направляет чек "предоплата 100%" покупателю.'),
        _payment_notification(10),
    ),
)

PRIVATE_SHIPMENT = Sequence(
    Variant.PRIVATE, Phase.SHIPMENT, 'Процесс отгрузки и оформления чека "полный расчёт"',
    WITH_CASH_REGISTER, GREEN,
    (
        _shipment_call(),
        Step(2, INVOICEBOX, CASH_REGISTER, S, 'Чек "полный расчёт"', EFFECT,
             effect=Effect.RECEIPT_REGISTERED, receipt=Receipt.FULL_SETTLEMENT,
             note='ИнвойсБокс формирует и регистрирует чек "полный расчёт" в онлайн кассе.'),
        Step(3, INVOICEBOX, BUYER, S, 'Предоставление чека "полный расчёт"', EFFECT,
             effect=Effect.RECEIPT_DELIVERED, receipt=Receipt.FULL_SETTLEMENT,
             note='ИнвойсБокс направляет чек "полный расчёт" покупателю.'),
    ),
)


def _refund_opening() -> tuple[Step, ...]:
    """Steps 1–4, identical for both buyer variants."""
    return (
        Step(1, BUYER, SHOP, S, "Обращается за возвратом по заказу", LOCAL,
             moves=(_move(TR.CLAIM_REFUND, REFUNDABLE, None, description="the buyer asks the shop for a refund"),),
             note="Покупатель обращается в Магазин для оформления возврата заказа."),
        Step(2, SHOP, INVOICEBOX, OPEN, "Получение списка позиций в заказе", ACTION,
             moves=(_calls(CallRole.READ, REFUNDABLE_ITEMS, TR.LIST_REFUNDABLE, REFUNDABLE, None,
                           description="the shop reads the refundable lines"),),
             note="Опционально, Магазин запрашивает доступные к возврату позиции в заказе."),
        Step(3, SHOP, INVOICEBOX, S, "Вызов метода оформления возврата", ACTION, moves=(
             _calls(CallRole.REQUEST, CREATE_REFUND, TR.REQUEST_REFUND, REFUNDABLE, ST.REFUND_REQUESTED,
                    description="the shop calls create refund"),
             _calls(CallRole.ACCEPTED, CREATE_REFUND, TR.REFUND_ACCEPTED, ST.REFUND_REQUESTED,
                    OneOf((ST.PARTIALLY_REFUNDED, ST.REFUNDED)),
                    description="InvoiceBox registered the refund: partially refunded, or refunded when nothing is left"),
             ),
             note="Магазин создает возврат в ИнвойсБокс через метод API."),
        Step(4, INVOICEBOX, BUYER, S, "Осуществление возврата денежных средств", EFFECT,
             effect=Effect.MONEY_RETURNED,
             note="ИнвойсБокс осуществляет возврат денежных средств покупателю."),
    )


PRIVATE_REFUND = Sequence(
    Variant.PRIVATE, Phase.REFUND, "Процесс оформления возврата", WITH_CASH_REGISTER, BLUE,
    (*_refund_opening(),
        Step(5, INVOICEBOX, CASH_REGISTER, S, 'Чек "возврат"', EFFECT,
             effect=Effect.RECEIPT_REGISTERED, receipt=Receipt.REFUND,
             note='ИнвойсБокс формирует и регистрирует чек "возврат" в онлайн кассе.'),
        Step(6, INVOICEBOX, BUYER, S, 'Предоставление чека "возврат"', EFFECT,
             effect=Effect.RECEIPT_DELIVERED, receipt=Receipt.REFUND,
             note='ИнвойсБокс направляет чек "возврат" покупателю.'),
    ),
)

LEGAL_PAYMENT = Sequence(
    Variant.LEGAL, Phase.PAYMENT, "Процесс создания заказа и оплаты счёта организацией или ИП",
    WITHOUT_CASH_REGISTER, GREEN,
    (*_payment_opening(), _payment_notification(8)),
)

LEGAL_SHIPMENT = Sequence(
    Variant.LEGAL, Phase.SHIPMENT, "Процесс отгрузки и оформления отчётных документов",
    WITHOUT_CASH_REGISTER, GREEN,
    (
        _shipment_call(),
        Step(2, INVOICEBOX, BUYER, S, "Предоставление отчётных документов", EFFECT,
             effect=Effect.DOCUMENTS_DELIVERED,
             note="ИнвойсБокс формирует отчёт о переводе средств и акт (услуги) или ТОРГ-12 (товары) "
                  "и направляет их покупателю."),
        Step(3, SHOP, BUYER, R, "Предоставление отчётных документов (если требуется)", LOCAL,
             moves=(_send_documents((ST.PARTIALLY_SHIPPED, ST.SHIPPED), "shipment"),),
             note="Магазин направляет покупателю пакет отчётных документов, если это предусмотрено процессом."),
    ),
)

LEGAL_REFUND = Sequence(
    Variant.LEGAL, Phase.REFUND, "Процесс оформления возврата", WITHOUT_CASH_REGISTER, BLUE,
    (*_refund_opening(),
        Step(5, INVOICEBOX, BUYER, S, "Предоставление отчётных документов", EFFECT,
             effect=Effect.DOCUMENTS_DELIVERED,
             note="ИнвойсБокс формирует набор отчётных документов по возврату и направляет его покупателю."),
        Step(6, SHOP, BUYER, S, "Предоставление отчётных документов (если требуется)", LOCAL,
             moves=(_send_documents((ST.PARTIALLY_REFUNDED, ST.REFUNDED), "refund"),),
             note="Магазин направляет покупателю пакет отчётных документов, если это предусмотрено процессом."),
    ),
)

# In the order the documentation shows them.
SEQUENCES: tuple[Sequence, ...] = (
    PRIVATE_PAYMENT,
    PRIVATE_SHIPMENT,
    PRIVATE_REFUND,
    LEGAL_PAYMENT,
    LEGAL_SHIPMENT,
    LEGAL_REFUND,
)


def sequence(name: str) -> Sequence:
    """The sequence called ``name`` (``private-payment``, ``legal-refund``, …)."""
    for seq in SEQUENCES:
        if seq.name == name:
            return seq
    raise KeyError(f"no documented sequence {name!r}; known: {', '.join(s.name for s in SEQUENCES)}")


def sequences_of(variant: Variant) -> tuple[Sequence, ...]:
    return tuple(s for s in SEQUENCES if s.variant is variant)
