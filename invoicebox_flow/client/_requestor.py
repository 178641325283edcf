"""The one place where the client meets HTTP: :class:`Requestor`.

Every service sends through it, so every request gets the same treatment: the path from the
endpoint registry (:mod:`invoicebox_flow.protocol`), ``Authorization: Bearer`` (per request,
never on a caller's session), ``User-Agent``, a permit from the rate limiter, the retry policy
(reads; writes only after a 429), the envelope read into an :class:`Answer` that carries the
``X-Request-Id``, a typed error for anything else, and one log line per exchange — method,
path, status, ``X-Request-Id`` and duration, never the token.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping
from decimal import Decimal
from importlib import metadata
from typing import Any, TypeVar

import attrs
import requests

from .. import jsonutil
from ..errors import ApiError, TransportError
from ..models import JsonModel
from ..protocol import Endpoint
from ..ratelimit import Pacer
from ..retry import RetryPolicy, is_rate_limited, is_retryable
from ._errors import api_error
from ._wire import ResultList, build_query, id_segment, with_request_id

logger = logging.getLogger("invoicebox_flow.client")

DEFAULT_BASE_URL = "https://api.invoicebox.ru"

_PREFIX_RE = re.compile(r"^[a-z][0-9]+$")

M = TypeVar("M", bound=JsonModel)
Timeout = float | tuple[float, float]


def _package_version() -> str:
    try:
        return metadata.version("invoicebox-flow")
    except metadata.PackageNotFoundError:  # running from a source tree that is not installed
        return "0"


def default_user_agent(app_id: str | None = None) -> str:
    """``[<app id> ]invoicebox-flow/<version> (python-requests/<version>)``; the API asks every
    integration to identify itself (reference §1.3)."""
    ours = f"invoicebox-flow/{_package_version()} (python-requests/{metadata.version('requests')})"
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

    def __reduce__(self) -> Any:  # a secret must not end up in a pickle (a file, a queue, a cache)
        raise TypeError("the API token cannot be pickled")


@attrs.frozen
class Answer:
    """A successful answer: the parsed JSON envelope and where it came from."""

    envelope: Any
    request_id: str | None
    method: str
    path: str

    def data(self) -> Any:
        """``data`` of the envelope, or a typed error when the answer has none."""
        if not isinstance(self.envelope, dict) or "data" not in self.envelope:
            raise self._invalid("the answer has no 'data' envelope")
        return self.envelope["data"]

    def items(self) -> list[Any]:
        data = self.data()
        if not isinstance(data, list):
            raise self._invalid("expected a list in 'data'")
        return data

    def model(self, cls: type[M]) -> M:
        """``data`` read as a ``cls``, carrying the ``X-Request-Id``."""
        value: M = cls.from_json(self.data())
        return with_request_id(value, self.request_id)

    def models(self, cls: type[M]) -> ResultList[M]:
        """Each item of a list's ``data`` read as a ``cls``; the list and each item carry the
        ``X-Request-Id``."""
        values: list[M] = [cls.from_json(item) for item in self.items()]
        meta = self.envelope.get("metaData")
        total = meta.get("totalCount") if isinstance(meta, dict) else None
        counted = int(total) if isinstance(total, (int, Decimal)) and not isinstance(total, bool) else None
        return ResultList((with_request_id(v, self.request_id) for v in values), self.request_id, counted)

    def _invalid(self, message: str) -> ApiError:
        # status 200: the write (if it was one) did happen; the answer is what went wrong
        return ApiError(message, status=200, code="invalid_response", request_id=self.request_id,
                        method=self.method, path=self.path)


class Requestor:
    """Sends requests for the services of one :class:`~invoicebox_flow.client.InvoiceboxClient`.

    ``rate_limit`` and ``retry_policy`` are plain attributes: replace them at will.
    ``session`` is closed by :meth:`close` only if the requestor created it.
    """

    def __init__(
        self,
        token: str,
        *,
        base_url: str,
        api_prefix: str,
        user_agent: str,
        timeout: Timeout,
        retry_policy: RetryPolicy,
        rate_limit: Pacer | None,
        session: requests.Session | None,
    ):
        if not isinstance(token, str):
            raise TypeError("token must be a string")
        prefix = api_prefix.strip("/")
        if not _PREFIX_RE.match(prefix):
            raise ValueError(f"api_prefix must look like 'v3' or 'l3', not {api_prefix!r}")
        self._token = _Secret(token.strip())
        self.base_url = base_url.rstrip("/")
        self.api_prefix = prefix
        self.user_agent = user_agent
        self.timeout = timeout
        self.retry_policy = retry_policy
        self.rate_limit = rate_limit
        self._owns_session = session is None
        self.session = session if session is not None else requests.Session()

    def __repr__(self) -> str:
        return f"Requestor(base_url={self.base_url!r}, api_prefix={self.api_prefix!r})"

    def close(self) -> None:
        if self._owns_session:
            self.session.close()

    def path(self, endpoint: Endpoint, **params: str) -> str:
        """The request path of ``endpoint``, each parameter checked to be one path segment."""
        return f"/{self.api_prefix}/{endpoint.url_path(**{k: id_segment(v) for k, v in params.items()})}"

    def read(self, endpoint: Endpoint, *, params: list[tuple[str, str]] | None = None, **path_params: str) -> Answer:
        """A GET, retried per :attr:`retry_policy` on timeouts, dropped connections, 408/425/429/5xx."""
        path = self.path(endpoint, **path_params)
        return self.retry_policy.call(lambda: self._exchange(endpoint.method, path, params=params),
                                      retry_if=is_retryable)

    def read_list(self, endpoint: Endpoint, cls: type[M], filters: Mapping[str, Any] | None = None,
                  *, owner: tuple[str, str, str | None] | None = None, page: int | None = None,
                  page_size: int | None = None) -> ResultList[M]:
        """A filter endpoint's list (one page of it when ``page``/``page_size`` are given).
        ``owner`` = (query key, model attribute, value) narrows it to one parent's items, asked
        of the server and checked again here: the official MCP server warns that the filter
        "may not work"."""
        query = dict(filters or {})
        if owner is not None and owner[2] is not None:
            query[owner[0]] = owner[2]
        items = self.read(endpoint, params=build_query(query, page=page, page_size=page_size)).models(cls)
        if owner is not None and owner[2] is not None:
            items = ResultList((item for item in items if getattr(item, owner[1]) == owner[2]), items.request_id)
        return items

    def write(self, endpoint: Endpoint, *, body: Any = None, **path_params: str) -> Answer:
        """A write, sent once — and again only after a 429, which means nothing was done."""
        path = self.path(endpoint, **path_params)
        return self.retry_policy.call(lambda: self._exchange(endpoint.method, path, body=body),
                                      retry_if=is_rate_limited)

    def _exchange(self, method: str, path: str, *, params: list[tuple[str, str]] | None = None,
                  body: Any = None) -> Answer:
        """One HTTP exchange: the :class:`Answer`, or a typed error."""
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
            raise api_error(response, method=method, path=path, request_id=request_id, scrub=self._scrub)
        try:
            envelope = jsonutil.loads(response.content)
        except ValueError:
            raise ApiError("the answer is not JSON", status=response.status_code, code="invalid_response",
                           request_id=request_id, method=method, path=path) from None
        return Answer(envelope, request_id, method, path)

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

    def _scrub(self, text: str) -> str:
        """Defence in depth: should a server ever echo the token, it does not reach our errors."""
        token = self._token.reveal()
        return text.replace(token, "***") if token else text
