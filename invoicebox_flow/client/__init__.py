"""The InvoiceBox API v3 client: the shop's side of the conversation, on ``requests``.

::

    InvoiceboxClient          the façade: one method per documented call (check_auth, create_order, …)
    ├── .auth                 AuthService        check
    ├── .orders               OrdersService      create, find, find_by_merchant_order_id, get, update, cancel
    ├── .shipments            ShipmentsService   create, find
    └── .refunds              RefundsService     refundable_items, create, find
              │
              └── one Requestor: paths from the endpoint registry (invoicebox_flow.protocol),
                  bearer token, User-Agent, pacing, retries, the envelope, typed errors,
                  X-Request-Id on every result, one log line per exchange (never the token)

The habits a payment client needs:

* **Reads are retried** (exponential backoff with full jitter, honouring ``Retry-After``) on
  timeouts, connection errors and HTTP 408/425/429/5xx — see :mod:`invoicebox_flow.retry`.
* **Writes are never blindly retried.** InvoiceBox has no idempotency key. When a write
  (create, update or cancel an order, a shipment, a refund) ends in a timeout, a dropped
  connection or a 5xx, the client *looks up* what InvoiceBox has — the order or refund by its
  ``merchantOrderId``, the new shipment among the order's shipments, the order's status or
  fields — and returns it when the write's effect is there; otherwise it raises the one
  documented :class:`~invoicebox_flow.errors.ResultUnknownError` ("result unknown, it will be
  reconciled", by the same ids). A clear refusal (4xx) stays its typed ``ApiError``; only a 429,
  which InvoiceBox answers before doing anything, is sent again after the wait.
* **It paces itself** with a limiter taken before every request: by default a
  :class:`~invoicebox_flow.ratelimit.RateLimiter` (100 requests per 30 s, the account's default
  budget) for one process; :class:`~invoicebox_flow.store.StoreRateLimiter` shares one budget
  between every process of the account.

The token is a secret: it travels only in the ``Authorization`` header of each request (never
on a caller-supplied session), and is never logged, put in a repr or in an exception text.
Logs (logger ``invoicebox_flow.client``) say method, path, status, ``X-Request-Id`` and duration.

Where the sources disagree (reference §10) the client takes the documented way and says so:
paging is sent in both spellings, shipments are listed on the documented ``filter`` path, one
order is read through the documented list filter ``?id=``.
"""

from ._auth import AuthService
from ._facade import InvoiceboxClient
from ._orders import OrdersService
from ._refunds import RefundsService
from ._requestor import DEFAULT_BASE_URL, Answer, Requestor, default_user_agent
from ._shipments import ShipmentsService
from ._wire import ResultList, build_query

__all__ = [
    "DEFAULT_BASE_URL",
    "Answer",
    "AuthService",
    "InvoiceboxClient",
    "OrdersService",
    "RefundsService",
    "Requestor",
    "ResultList",
    "ShipmentsService",
    "build_query",
    "default_user_agent",
]
