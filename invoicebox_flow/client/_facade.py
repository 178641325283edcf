""":class:`InvoiceboxClient`: one object for every call of the lifecycle, delegating to services
(``auth``, ``orders``, ``shipments``, ``refunds``) that share one :class:`Requestor`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

from ..models import (
    AuthInfo,
    Order,
    OrderRequest,
    Page,
    RefundableItem,
    RefundOrder,
    RefundRequest,
    Shipment,
    ShipmentRequest,
)
from ..ratelimit import Pacer, RateLimiter
from ..retry import RetryPolicy
from ._auth import AuthService
from ._orders import OrdersService
from ._refunds import RefundsService
from ._requestor import DEFAULT_BASE_URL, Requestor, Timeout, default_user_agent
from ._shipments import ShipmentsService
from ._wire import ResultList

_DEFAULT_LIMIT: Any = object()  # sentinel: "a fresh RateLimiter(100, 30.0) for this client"


class InvoiceboxClient:
    """InvoiceBox API v3 client.

    ``token``: the shop's API token (an empty token sends no ``Authorization`` header — the API
    then treats the caller as anonymous, which only :meth:`check_auth` can observe).
    ``user_agent``: your application id, e.g. ``"AcmeShop/2.3"``; ours is appended.
    ``timeout``: ``(connect, read)`` seconds, or one number for both.
    ``max_read_retries``, ``backoff_base``, ``backoff_max``, ``retry_after_max``: the
    :class:`~invoicebox_flow.retry.RetryPolicy` — how often a read is tried again, and a write
    refused with 429 sent again (InvoiceBox refuses it before doing anything), and how long to
    wait: the server's ``Retry-After`` capped at ``retry_after_max``, else backoff with jitter.
    ``rate_limit``: a limiter (:class:`~invoicebox_flow.ratelimit.Pacer`) — a
    :class:`RateLimiter` for the threads of one process, a
    :class:`~invoicebox_flow.store.StoreRateLimiter` for every process of the account — or
    ``None`` to send unpaced; by default each client gets ``RateLimiter(100, 30.0)``.
    ``session``: a ``requests.Session`` to use; it is left open by :meth:`close`.
    """

    def __init__(
        self,
        token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        api_prefix: str = "v3",
        user_agent: str | None = None,
        timeout: Timeout = (3.05, 20.0),
        max_read_retries: int = 3,
        backoff_base: float = 0.5,
        backoff_max: float = 8.0,
        retry_after_max: float = 60.0,
        rate_limit: Pacer | None = _DEFAULT_LIMIT,
        session: requests.Session | None = None,
    ):
        self._requestor = Requestor(
            token,
            base_url=base_url,
            api_prefix=api_prefix,
            user_agent=default_user_agent(user_agent),
            timeout=timeout,
            retry_policy=RetryPolicy(max_retries=max_read_retries, backoff_base=backoff_base,
                                     backoff_max=backoff_max, retry_after_max=retry_after_max),
            rate_limit=RateLimiter(100, 30.0) if rate_limit is _DEFAULT_LIMIT else rate_limit,
            session=session,
        )
        self.auth = AuthService(self._requestor)
        self.orders = OrdersService(self._requestor)
        self.shipments = ShipmentsService(self._requestor)
        self.refunds = RefundsService(self._requestor)

    def __repr__(self) -> str:
        return f"InvoiceboxClient(base_url={self.base_url!r}, api_prefix={self.api_prefix!r})"

    # --- configuration (held by the requestor) ----------------------------------------------

    @property
    def base_url(self) -> str:
        return self._requestor.base_url

    @property
    def api_prefix(self) -> str:
        return self._requestor.api_prefix

    @property
    def user_agent(self) -> str:
        return self._requestor.user_agent

    @property
    def timeout(self) -> Timeout:
        return self._requestor.timeout

    @property
    def session(self) -> requests.Session:
        return self._requestor.session

    @property
    def rate_limit(self) -> Pacer | None:
        return self._requestor.rate_limit

    @rate_limit.setter
    def rate_limit(self, limiter: Pacer | None) -> None:
        self._requestor.rate_limit = limiter

    @property
    def retry_policy(self) -> RetryPolicy:
        return self._requestor.retry_policy

    @retry_policy.setter
    def retry_policy(self, policy: RetryPolicy) -> None:
        self._requestor.retry_policy = policy

    # --- lifecycle ------------------------------------------------------------------------

    def close(self) -> None:
        """Close the HTTP session if the client created it."""
        self._requestor.close()

    def __enter__(self) -> InvoiceboxClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- the calls, by the names of the endpoint registry -----------------------------------

    def check_auth(self) -> AuthInfo:
        """See :meth:`AuthService.check`."""
        return self.auth.check()

    def create_order(self, req: OrderRequest, *, validate: bool = True) -> Order:
        """See :meth:`OrdersService.create`."""
        return self.orders.create(req, validate=validate)

    def find_orders(
        self,
        *,
        filters: Mapping[str, Any] | None = None,
        order_by: Mapping[str, str] | None = None,
        page: int | None = None,
        page_size: int | None = None,
    ) -> Page[Order]:
        """See :meth:`OrdersService.find`."""
        return self.orders.find(filters=filters, order_by=order_by, page=page, page_size=page_size)

    def find_order_by_merchant_order_id(self, merchant_order_id: str) -> Order | None:
        """See :meth:`OrdersService.find_by_merchant_order_id`."""
        return self.orders.find_by_merchant_order_id(merchant_order_id)

    def get_order(self, order_id: str) -> Order:
        """See :meth:`OrdersService.get`."""
        return self.orders.get(order_id)

    def update_order(self, order_id: str, *, validate: bool = True, **changes: Any) -> Order:
        """See :meth:`OrdersService.update`."""
        return self.orders.update(order_id, validate=validate, **changes)

    def cancel_order(self, order_id: str) -> Order:
        """See :meth:`OrdersService.cancel`."""
        return self.orders.cancel(order_id)

    def create_shipment(self, req: ShipmentRequest) -> Shipment:
        """See :meth:`ShipmentsService.create`."""
        return self.shipments.create(req)

    def list_shipments(self, *, order_id: str | None = None, filters: Mapping[str, Any] | None = None,
                       page: int | None = None, page_size: int | None = None) -> ResultList[Shipment]:
        """See :meth:`ShipmentsService.find`."""
        return self.shipments.find(order_id=order_id, filters=filters, page=page, page_size=page_size)

    def refundable_items(self, order_id: str) -> ResultList[RefundableItem]:
        """See :meth:`RefundsService.refundable_items`."""
        return self.refunds.refundable_items(order_id)

    def create_refund(self, req: RefundRequest, *, validate: bool = True) -> RefundOrder:
        """See :meth:`RefundsService.create`."""
        return self.refunds.create(req, validate=validate)

    def list_refunds(self, *, parent_id: str | None = None, filters: Mapping[str, Any] | None = None,
                     page: int | None = None, page_size: int | None = None) -> ResultList[RefundOrder]:
        """See :meth:`RefundsService.find`."""
        return self.refunds.find(parent_id=parent_id, filters=filters, page=page, page_size=page_size)
