"""Handlers a test loads into ``invoicebox-flow worker --handlers cli_event_handlers:handlers``:
``thank_you`` appends ``<event id> <order id>`` to the file ``$CLI_EVENTS_OUT`` for each paid
order… or for each placed one, which is what the command-line tests create."""

from __future__ import annotations

import os

from invoicebox_flow import Handlers, OrderPlaced

OUT_ENV = "CLI_EVENTS_OUT"

handlers = Handlers()


@handlers.on(OrderPlaced, name="thank-you")
def thank_you(event: OrderPlaced) -> None:
    with open(os.environ[OUT_ENV], "a", encoding="utf-8") as out:
        out.write(f"{event.id} {event.order_id}\n")


def make_handlers() -> Handlers:
    """The registry, returned by a function (``--handlers cli_event_handlers:make_handlers``)."""
    return handlers
