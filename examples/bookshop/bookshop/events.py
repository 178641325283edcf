"""What the shop does when the lifecycle moves: its event handlers."""

from __future__ import annotations

from invoicebox_flow import Handlers, OrderPaid

from .mail import Mail, Mailbox

#: The handler's stable name: deliveries are recorded under it, in every process and deploy.
PAYMENT_MAIL = "bookshop.payment-mail"


def payment_mail(event: OrderPaid) -> Mail:
    return Mail(order_id=event.order_id, subject=f"Заказ {event.order_id} оплачен",
                body=f"Мы получили оплату {event.amount} {event.currency}. Соберём книги и сообщим, "
                     "когда отправим заказ.")


def shop_handlers(mailbox: Mailbox) -> Handlers:
    """The shop's handlers, sending their mail through ``mailbox``."""
    handlers = Handlers(max_attempts=8)

    @handlers.on(OrderPaid, name=PAYMENT_MAIL)
    def send_payment_mail(event: OrderPaid) -> None:
        mailbox.send(payment_mail(event), idempotency_key=event.id)  # the event id: one mail per payment

    return handlers
