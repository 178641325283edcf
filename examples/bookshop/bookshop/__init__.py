"""A small bookshop on invoicebox-flow: a worked example to copy.

* :mod:`.catalogue` — the books it sells, and the basket of a checkout;
* :mod:`.warehouse` — copies on the shelf: the guard that lets an order be packed;
* :mod:`.flows` — its flow: InvoiceBox's documented lifecycle with a ``packed`` state between
  ``paid`` and the shipment (``PACKING``, for ``invoicebox-flow diagrams --definition``);
* :mod:`.mail` and :mod:`.events` — the "paid" mail its ``OrderPaid`` handler sends, once per event;
* :mod:`.shop` — its :class:`~invoicebox_flow.OrderFlow`, all of the above put together;
* :mod:`.web` — its Flask app: InvoiceBox's webhook, checkout, pack and ship.
"""
