"""The InvoiceBox API v3 client, on ``requests.Session``.

One method per documented lifecycle call (check auth, orders, shipments, refunds), typed
errors from the API's error envelope, and the three habits a payment client needs:

* **Reads are retried** (exponential backoff with full jitter, honouring ``Retry-After``) on
  timeouts, connection errors and HTTP 408/425/429/5xx — see :mod:`invoicebox_flow.retry`.
* **Writes are never blindly retried.** InvoiceBox has no idempotency key; the only lever is the
  uniqueness of ``merchantOrderId``. So when creating an order or a refund ends in a timeout, a
  dropped connection or a 5xx, the client *looks the object up* by its ``merchantOrderId``:
  found ⇒ it is returned (the create did happen), not found ⇒ :class:`ResultUnknownError`
  (reconcile later by the same ``merchantOrderId``; do not resend with a new one).
* **It paces itself** with a client-side :class:`~invoicebox_flow.ratelimit.RateLimiter`
  (default 100 requests per 30 s, the account's default budget) instead of collecting 429s.

The token is a secret: it travels only in the ``Authorization`` header of each request (never
on a caller-supplied session), and is never logged, put in a repr or in an exception text.
Logs (logger ``invoicebox_flow.client``) say method, path, status, ``X-Request-Id`` and duration.

Where the sources disagree (reference §10) the client takes the documented way and says so:
paging is sent in both spellings, shipments are listed on the documented ``filter`` path, one
order is read through the documented list filter ``?id=``.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timezone
from decimal import Decimal
from enum import Enum
from importlib import metadata
from typing import Any, TypeVar

import attrs
import requests

from . import jsonutil, money
from .errors import (
    ApiError,
    AuthenticationError,
    InvalidRequestError,
    InvoiceboxFlowError,
    NotFoundError,
    RateLimitError,
    ResultUnknownError,
    ServerError,
    TransportError,
    ValidationError,
)
from .models import (
    AuthInfo,
    ErrorBody,
    Order,
    OrderRequest,
    Page,
    RefundableItem,
    RefundOrder,
    RefundRequest,
    Shipment,
    ShipmentRequest,
)
from .ratelimit import RateLimiter
from .retry import ReadRetryPolicy, parse_retry_after

__all__ = ["DEFAULT_BASE_URL", "InvoiceboxClient", "ResultList", "build_query", "default_user_agent"]

logger = logging.getLogger("invoicebox_flow.client")

DEFAULT_BASE_URL = "https://api.invoicebox.ru"

# Paths after the version prefix (reference §3).
_AUTH = "security/api/auth/auth"
_ORDER = "billing/api/order/order"
_ORDER_FILTER = "filter/api/order/order"
_SHIPMENT = "billing/api/order/shipment"
_SHIPMENT_FILTER = "filter/api/order/shipment"
_REFUND = "billing/api/order/refund-order"
_REFUND_FILTER = "filter/api/order/refund-order"

# update_order keyword -> camelCase body key (reference §3.3).
_UPDATE_FIELDS = {
    "description": "description",
    "basket_items": "basketItems",
    "amount": "amount",
    "vat_amount": "vatAmount",
    "expiration_date": "expirationDate",
    "customer": "customer",
    "meta_data": "metaData",
}

_PREFIX_RE = re.compile(r"^[a-z][0-9]+$")
_MAX_ERROR_TEXT = 300  # how much of a non-JSON error body goes into the exception message

T = TypeVar("T")


def _package_version() -> str:
    try:
        return metadata.version("invoicebox-flow")
    except metadata.PackageNotFoundError:  # running from a source tree that is not installed
        return "0"


def default_user_agent(app_id: str | None = None) -> str:
    """``[<app id> ]invoicebox-flow/<version> (python-requests/<version>)``; the API asks every
    integration to identify itself (reference §1.3)."""
    ours = f"invoicebox-flow/{_package_version()} (python-requests/{requests.__version__})"
    return f"{app_id.strip()} {ours}" if app_id and app_id.strip() else ours


class _Secret:
    """Holds the token so that no accidental repr, log or f-string can show it."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "'***'"

    __str__ = __repr__

    def __reduce__(self):  # a secret must not end up in a pickle (a file, a queue, a cache)
        raise TypeError("the API token cannot be pickled")


def _format_datetime(value: datetime) -> str:
    """ATOM form with offset, as the API writes date-times; naive values are taken as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.isoformat(timespec="seconds")


def _to_wire(value: Any) -> Any:
    """A Python value (models, Decimals, dates, enums, containers) as a JSON-ready value."""
    if hasattr(value, "to_json"):
        return value.to_json()
    if isinstance(value, datetime):
        return _format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): _to_wire(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_wire(v) for v in value]
    return value


def _query_value(value: Any) -> str:
    """One query-string value: dates in ATOM form, booleans as ``true``/``false``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return _format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def build_query(
    filters: Mapping[str, Any] | None = None,
    order_by: Mapping[str, str] | None = None,
    page: int | None = None,
    page_size: int | None = None,
) -> list[tuple[str, str]]:
    """Query parameters in the documented filter syntax (reference §2.2).

    ``{"status": ["created", "completed"]}`` ⇒ ``status[]=created&status[]=completed``;
    operator keys pass through (``{"createdAt[_ge]": dt}``); ``order_by={"createdAt": "desc"}``
    ⇒ ``_order[createdAt]=desc``; paging is sent as both ``page``/``pageSize`` (documented) and
    ``_page``/``_pageSize`` (what the official MCP server sends) because which one the live API
    honours is unverified. ``None`` filter values are left out.
    """
    params: list[tuple[str, str]] = []
    for key, value in (filters or {}).items():
        if value is None:
            continue
        if isinstance(value, (list, tuple, set, frozenset)):
            values = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
            params.extend((f"{key}[]", _query_value(v)) for v in values)
        else:
            params.append((key, _query_value(value)))
    for field, direction in (order_by or {}).items():
        direction = str(direction).lower()
        if direction not in ("asc", "desc"):
            raise ValueError(f"sort direction for {field!r} must be 'asc' or 'desc', not {direction!r}")
        params.append((f"_order[{field}]", direction))
    if page is not None:
        if page < 1:
            raise ValueError("page numbers start at 1")
        params += [("page", str(page)), ("_page", str(page))]
    if page_size is not None:
        if page_size < 1:
            raise ValueError("page_size must be positive")
        params += [("pageSize", str(page_size)), ("_pageSize", str(page_size))]
    return params


def _with_request_id(obj: T, request_id: str | None) -> T:
    """Attach the response's ``X-Request-Id`` to a model (frozen models are evolved)."""
    try:
        obj.request_id = request_id  # type: ignore[attr-defined]
    except (AttributeError, attrs.exceptions.FrozenInstanceError):
        obj = attrs.evolve(obj, request_id=request_id)  # type: ignore[misc]
    return obj


class ResultList(list):
    """A plain list of results that also carries the response's ``X-Request-Id``."""

    def __init__(self, items: Iterable[Any] = (), request_id: str | None = None):
        super().__init__(items)
        self.request_id = request_id


_DEFAULT_LIMIT = object()  # sentinel: "a fresh RateLimiter(100, 30.0) for this client"


class InvoiceboxClient:
    """InvoiceBox API v3 client.

    ``token``: the shop's API token (an empty token sends no ``Authorization`` header — the API
    then treats the caller as anonymous, which only :meth:`check_auth` can observe).
    ``user_agent``: your application id, e.g. ``"AcmeShop/2.3"``; ours is appended.
    ``timeout``: ``(connect, read)`` seconds, or one number for both.
    ``max_read_retries``, ``backoff_base``, ``backoff_max``: retry policy for reads only;
    ``retry_after_max`` caps how long a server's ``Retry-After`` can make a read wait.
    ``rate_limit``: a :class:`RateLimiter` (share one between clients of the same account), or
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
        timeout: float | tuple[float, float] = (3.05, 20.0),
        max_read_retries: int = 3,
        backoff_base: float = 0.5,
        backoff_max: float = 8.0,
        retry_after_max: float = 60.0,
        rate_limit: RateLimiter | None = _DEFAULT_LIMIT,  # type: ignore[assignment]
        session: requests.Session | None = None,
    ):
        if not isinstance(token, str):
            raise TypeError("token must be a string")
        prefix = api_prefix.strip("/")
        if not _PREFIX_RE.match(prefix):
            raise ValueError(f"api_prefix must look like 'v3' or 'l3', not {api_prefix!r}")
        self._token = _Secret(token.strip())
        self.base_url = base_url.rstrip("/")
        self.api_prefix = prefix
        self.user_agent = default_user_agent(user_agent)
        self.timeout = timeout
        self.rate_limit: RateLimiter | None = RateLimiter(100, 30.0) if rate_limit is _DEFAULT_LIMIT else rate_limit
        self.retry_policy = ReadRetryPolicy(
            max_retries=max_read_retries,
            backoff_base=backoff_base,
            backoff_max=backoff_max,
            retry_after_max=retry_after_max,
        )
        self._owns_session = session is None
        self.session = session if session is not None else requests.Session()

    def __repr__(self) -> str:
        return f"InvoiceboxClient(base_url={self.base_url!r}, api_prefix={self.api_prefix!r})"

    # --- lifecycle ------------------------------------------------------------------------

    def close(self) -> None:
        """Close the HTTP session if the client created it."""
        if self._owns_session:
            self.session.close()

    def __enter__(self) -> InvoiceboxClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- auth -----------------------------------------------------------------------------

    def check_auth(self) -> AuthInfo:
        """``GET /security/api/auth/auth``. A ``userId`` of ``null`` (no token) means *not*
        authenticated; a wrong token raises :class:`AuthenticationError`."""
        envelope, request_id = self._read(_AUTH)
        return _with_request_id(AuthInfo.from_json(self._data(envelope, "GET", _AUTH)), request_id)

    # --- orders ---------------------------------------------------------------------------

    def create_order(self, req: OrderRequest, *, validate: bool = True) -> Order:
        """Create an order (``POST /billing/api/order/order``); safe against lost answers.

        The request is validated locally first (:meth:`OrderRequest.validate`), so a bad basket
        is refused before anything is sent. ``validate=False`` skips that — an escape hatch for
        testing the server's own checks, or when the local rules lag behind the API.
        """
        if validate:
            req.validate()
        try:
            envelope, request_id = self._request("POST", _ORDER, body=req.to_json())
        except (TransportError, ServerError) as exc:
            return self._recover(
                "order", req.merchant_order_id, exc, lambda: self.find_order_by_merchant_order_id(req.merchant_order_id)
            )
        return _with_request_id(Order.from_json(self._data(envelope, "POST", _ORDER)), request_id)

    def find_orders(
        self,
        *,
        filters: Mapping[str, Any] | None = None,
        order_by: Mapping[str, str] | None = None,
        page: int | None = None,
        page_size: int | None = None,
    ) -> Page[Order]:
        """``GET /filter/api/order/order`` with filters, sorting and paging (see :func:`build_query`)."""
        envelope, request_id = self._read(_ORDER_FILTER, build_query(filters, order_by, page, page_size))
        self._list(envelope, "GET", _ORDER_FILTER)
        return _with_request_id(Page.from_json(envelope, Order), request_id)

    def find_order_by_merchant_order_id(self, merchant_order_id: str) -> Order | None:
        """The newest order with this ``merchantOrderId``, or ``None``."""
        page = self.find_orders(filters={"merchantOrderId": merchant_order_id}, order_by={"createdAt": "desc"})
        # Compare ourselves too: a lenient filter must not hand back somebody else's order.
        matches = [o for o in page.items if o.merchant_order_id == merchant_order_id]
        return _with_request_id(matches[0], page.request_id) if matches else None

    def get_order(self, order_id: str) -> Order:
        """One order by its InvoiceBox id, or :class:`NotFoundError`.

        Uses the documented way, the list filter ``GET /filter/api/order/order?id=…``. The
        official MCP server also calls ``GET /billing/api/order/order/{id}``, which no
        documentation mentions (unverified), so it is not used here.
        """
        page = self.find_orders(filters={"id": order_id})
        matches = [o for o in page.items if o.id == order_id]
        if not matches:
            path = self._path(_ORDER_FILTER)
            raise NotFoundError(
                f"no order with id {order_id}",
                status=404,
                code="not_found",
                request_id=page.request_id,
                method="GET",
                path=path,
            )
        return _with_request_id(matches[0], page.request_id)

    def update_order(self, order_id: str, *, validate: bool = True, **changes: Any) -> Order:
        """``PUT /billing/api/order/order/{id}`` — only an unpaid order can be changed.

        Accepts ``description``, ``basket_items``, ``amount``, ``vat_amount``,
        ``expiration_date``, ``customer``, ``meta_data``; only what is given is sent (a new
        basket without ``amount``/``vat_amount`` is sent with its own sums). Locally refused
        unless ``validate=False``: a past ``expiration_date`` and a basket that breaks the API's
        arithmetic (same rules and codes as :func:`invoicebox_flow.money.validate_basket`).
        """
        unknown = sorted(set(changes) - set(_UPDATE_FIELDS))
        if unknown:
            raise TypeError(f"update_order() got unexpected field(s): {', '.join(unknown)}")
        if not changes:
            raise TypeError("update_order() needs at least one field to change")
        changes = _complete_update(changes, validate)
        body = {_UPDATE_FIELDS[name]: _to_wire(value) for name, value in changes.items()}
        tail = f"{_ORDER}/{_id_segment(order_id)}"
        envelope, request_id = self._request("PUT", tail, body=body)
        return _with_request_id(Order.from_json(self._data(envelope, "PUT", tail)), request_id)

    def cancel_order(self, order_id: str) -> Order:
        """``DELETE /billing/api/order/order/{id}`` — cancel an order that is not paid."""
        tail = f"{_ORDER}/{_id_segment(order_id)}"
        envelope, request_id = self._request("DELETE", tail)
        return _with_request_id(Order.from_json(self._data(envelope, "DELETE", tail)), request_id)

    # --- shipments ------------------------------------------------------------------------

    def create_shipment(self, req: ShipmentRequest) -> Shipment:
        """``POST /billing/api/order/shipment`` — the goods were handed over / service rendered.

        Not retried and not looked up after a failure: a shipment has no ``merchantOrderId``
        to find it by; list the order's shipments before sending it again.
        """
        envelope, request_id = self._request("POST", _SHIPMENT, body=req.to_json())
        return _with_request_id(Shipment.from_json(self._data(envelope, "POST", _SHIPMENT)), request_id)

    def list_shipments(self, *, order_id: str | None = None, filters: Mapping[str, Any] | None = None) -> list[Shipment]:
        """Shipments on the documented path ``GET /filter/api/order/shipment`` (the MCP server
        uses ``/billing/api/order/shipment`` instead; reference §10 item 3)."""
        # the filter "may not work" (MCP): ownership is checked on our side too
        return self._filtered_list(_SHIPMENT_FILTER, Shipment, filters, ("orderId", "order_id"), order_id)

    # --- refunds --------------------------------------------------------------------------

    def refundable_items(self, order_id: str) -> list[RefundableItem]:
        """``GET /billing/api/order/order/{id}/refund-basket-item`` — what can still be refunded.

        Like the other list calls, the result is a :class:`ResultList` with ``request_id``."""
        tail = f"{_ORDER}/{_id_segment(order_id)}/refund-basket-item"
        envelope, request_id = self._read(tail)
        items = [RefundableItem.from_json(item) for item in self._list(envelope, "GET", tail)]
        return ResultList(items, request_id)

    def create_refund(self, req: RefundRequest, *, validate: bool = True) -> RefundOrder:
        """Create a refund order (``POST /billing/api/order/refund-order``), also as ``draft``;
        safe against lost answers by the refund's own ``merchantOrderId``.

        ``validate=False`` skips the local check (:meth:`RefundRequest.validate`).
        """
        if validate:
            req.validate()
        try:
            envelope, request_id = self._request("POST", _REFUND, body=req.to_json())
        except (TransportError, ServerError) as exc:
            return self._recover(
                "refund", req.merchant_order_id, exc, lambda: self._find_refund(req.parent_id, req.merchant_order_id)
            )
        return _with_request_id(RefundOrder.from_json(self._data(envelope, "POST", _REFUND)), request_id)

    def list_refunds(self, *, parent_id: str | None = None, filters: Mapping[str, Any] | None = None) -> list[RefundOrder]:
        """``GET /filter/api/order/refund-order`` — refunds, e.g. of one paid order."""
        return self._filtered_list(_REFUND_FILTER, RefundOrder, filters, ("parentId", "parent_id"), parent_id)

    def _filtered_list(self, tail: str, model: Any, filters: Mapping[str, Any] | None,
                       owner_field: tuple[str, str], owner: str | None) -> ResultList:
        """A filter endpoint's list, narrowed to ``owner`` by the server and checked again here;
        ``owner_field`` is the field's (query key, model attribute)."""
        query_key, attribute = owner_field
        query = dict(filters or {})
        if owner is not None:
            query[query_key] = owner
        envelope, request_id = self._read(tail, build_query(query))
        items = [_with_request_id(model.from_json(item), request_id) for item in self._list(envelope, "GET", tail)]
        if owner is not None:
            items = [item for item in items if getattr(item, attribute) == owner]
        return ResultList(items, request_id)

    def _find_refund(self, parent_id: str | None, merchant_order_id: str) -> RefundOrder | None:
        refunds = self.list_refunds(parent_id=parent_id, filters={"merchantOrderId": merchant_order_id})
        matches = [r for r in refunds if r.merchant_order_id == merchant_order_id]
        return matches[-1] if matches else None

    # --- safe create ----------------------------------------------------------------------

    def _recover(self, what: str, merchant_order_id: str, failure: InvoiceboxFlowError, lookup) -> Any:
        """After a create ended without a usable answer: did it happen? Look it up (a read,
        itself retried); return what was created, or raise :class:`ResultUnknownError`."""
        logger.warning(
            "create %s %r: %s; looking it up by merchantOrderId", what, merchant_order_id, _describe(failure)
        )
        try:
            found = lookup()
        except InvoiceboxFlowError as lookup_failure:
            raise ResultUnknownError(
                f"create {what} {merchant_order_id!r}: {_describe(failure)}; the look-up by "
                f"merchantOrderId failed too ({_describe(lookup_failure)}) — reconcile later by that id",
                merchant_order_id=merchant_order_id,
                cause=failure,
            ) from failure
        if found is None:
            raise ResultUnknownError(
                f"create {what} {merchant_order_id!r}: {_describe(failure)}; nothing with that "
                "merchantOrderId exists (yet) — reconcile later by that id, do not resend under a new one",
                merchant_order_id=merchant_order_id,
                cause=failure,
            ) from failure
        logger.warning("create %s %r: recovered %s after %s", what, merchant_order_id, found.id, _describe(failure))
        return found

    # --- HTTP -----------------------------------------------------------------------------

    def _path(self, tail: str) -> str:
        return f"/{self.api_prefix}/{tail}"

    def _read(self, tail: str, params: list[tuple[str, str]] | None = None) -> tuple[Any, str | None]:
        """A GET, retried per :attr:`retry_policy`."""
        return self.retry_policy.call(lambda: self._request("GET", tail, params=params))

    def _request(
        self, method: str, tail: str, *, params: list[tuple[str, str]] | None = None, body: Any = None
    ) -> tuple[Any, str | None]:
        """One HTTP exchange: the parsed JSON envelope and the ``X-Request-Id``, or a typed error."""
        path = self._path(tail)
        headers = {"Accept": "application/json", "User-Agent": self.user_agent}
        token = self._token.reveal()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = jsonutil.dumps(body).encode("utf-8")

        permit = self.rate_limit.acquire() if self.rate_limit is not None else None
        started = time.monotonic()
        try:
            response = self.session.request(
                method, self.base_url + path, params=params, data=data, headers=headers, timeout=self.timeout
            )
        except requests.RequestException as exc:
            elapsed = (time.monotonic() - started) * 1000
            kind, timed_out = self._transport_failure(exc)
            logger.warning("%s %s -> no answer (%s) in %.1f ms", method, path, kind, elapsed)
            # The message is ours: the library's text adds nothing we need.
            raise TransportError(f"{method} {path}: {kind}", method=method, path=path, timeout=timed_out) from exc
        finally:
            if permit is not None:
                permit.release()
        elapsed = (time.monotonic() - started) * 1000
        request_id = response.headers.get("X-Request-Id")
        logger.info("%s %s -> %s (X-Request-Id %s) in %.1f ms", method, path, response.status_code, request_id, elapsed)

        if response.status_code >= 400:
            raise self._api_error(response, method, path, request_id)
        try:
            return jsonutil.loads(response.content), request_id
        except ValueError:
            raise ApiError(
                "the answer is not JSON",
                status=response.status_code,
                code="invalid_response",
                request_id=request_id,
                method=method,
                path=path,
            ) from None

    def _transport_failure(self, exc: requests.RequestException) -> tuple[str, bool]:
        """What went wrong without an answer, and whether it was a timeout."""
        connect, read = self.timeout if isinstance(self.timeout, tuple) else (self.timeout, self.timeout)
        # ConnectTimeout is also a ConnectionError: test the timeouts first.
        if isinstance(exc, requests.ConnectTimeout):
            return f"connect timed out after {connect} s", True
        if isinstance(exc, requests.Timeout):
            return f"read timed out after {read} s", True
        if isinstance(exc, requests.ConnectionError):
            return f"connection failed ({type(exc).__name__})", False
        return f"request failed ({type(exc).__name__})", False

    def _api_error(self, response: requests.Response, method: str, path: str, request_id: str | None) -> ApiError:
        """The typed error for an HTTP status ≥ 400, read from the nested error envelope (with
        the top-level fallback in :meth:`ErrorBody.from_json`) or from a non-JSON body."""
        status = response.status_code
        code: str | None = None
        fields: list[dict[str, Any]] = []
        try:
            body = jsonutil.loads(response.content) if response.content else None
        except ValueError:
            body = None
        if isinstance(body, dict):
            error_body = ErrorBody.from_json(body)
            message = error_body.message or response.reason or "error"
            code = error_body.code or None
            fields = [_field_dict(f) for f in (error_body.fields or [])]
        elif "html" in response.headers.get("Content-Type", "").lower():
            # An HTML page (a proxy, a maintenance page): its markup is no message.
            message = f"{response.reason or 'error'} (an HTML page, not the API's JSON)"
        else:
            text = response.text.strip() if response.content else ""
            message = " ".join(text.split())[:_MAX_ERROR_TEXT] or response.reason or "error"
        message = self._scrub(str(message))
        kwargs: dict[str, Any] = dict(
            status=status, code=code, fields=fields, request_id=request_id, method=method, path=path
        )
        if status in (401, 403):
            return AuthenticationError(message, **kwargs)
        if status == 404:
            return NotFoundError(message, **kwargs)
        if status in (400, 422):
            return InvalidRequestError(message, **kwargs)
        if status == 429:
            return RateLimitError(message, retry_after=parse_retry_after(response.headers.get("Retry-After")), **kwargs)
        if status >= 500:
            return ServerError(message, **kwargs)
        return ApiError(message, **kwargs)

    def _scrub(self, text: str) -> str:
        """Defence in depth: should a server ever echo the token, it does not reach our errors."""
        token = self._token.reveal()
        return text.replace(token, "***") if token else text

    def _data(self, envelope: Any, method: str, tail: str) -> Any:
        """``data`` of a success envelope, or a typed error when the answer has none."""
        if not isinstance(envelope, dict) or "data" not in envelope:
            raise ApiError("the answer has no 'data' envelope", status=200, code="invalid_response",
                           method=method, path=self._path(tail))
        return envelope["data"]

    def _list(self, envelope: Any, method: str, tail: str) -> list[Any]:
        data = self._data(envelope, method, tail)
        if not isinstance(data, list):
            raise ApiError("expected a list in 'data'", status=200, code="invalid_response",
                           method=method, path=self._path(tail))
        return data


def _field_dict(field: Any) -> dict[str, Any]:
    if isinstance(field, dict):
        return field
    if hasattr(field, "to_json"):
        return field.to_json()
    if attrs.has(type(field)):
        return attrs.asdict(field)
    return {"name": str(field)}


def _id_segment(object_id: str) -> str:
    """An id as one path segment; an id with a slash would silently address another resource."""
    if not object_id or "/" in object_id or "?" in object_id or "#" in object_id:
        raise ValueError(f"not a valid object id: {object_id!r}")
    return object_id


def _describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _complete_update(changes: dict[str, Any], validate: bool) -> dict[str, Any]:
    """Local checks for an update, with the API's codes (the server checks again).

    A new basket without ``amount``/``vat_amount`` gets them from its own sums (the API requires
    the order totals to equal the basket's, so there is only one right value to send).
    """
    changes = dict(changes)
    if validate:
        expiration = changes.get("expiration_date")
        if isinstance(expiration, datetime):
            aware = expiration if expiration.tzinfo else expiration.replace(tzinfo=timezone.utc)
            if aware <= datetime.now(timezone.utc):
                raise ValidationError(
                    "expirationDate must be in the future",
                    code="wrong_expiration_date",
                    fields=[{"name": "expirationDate", "code": "wrong_expiration_date", "message": "in the past"}],
                )
    if changes.get("basket_items") is None:
        return changes
    items = list(changes["basket_items"])
    changes["basket_items"] = items
    if "amount" not in changes or "vat_amount" not in changes:
        total, vat = money.order_totals(items)
        changes.setdefault("amount", total)
        changes.setdefault("vat_amount", vat)
    if validate:
        money.validate_basket(changes["amount"], changes["vat_amount"], [_to_wire(i) for i in items])
    return changes
