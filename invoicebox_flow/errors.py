"""Every exception invoicebox-flow raises, in one tree.

::

    InvoiceboxFlowError
    ├── ValidationError            bad input refused before anything is sent or stored
    │   ├── BasketError            amounts/VAT do not add up (API codes wrong_total_amount, …)
    │   ├── CustomerError          INN checksum, KPP format, private/legal consistency
    │   └── UnknownArgumentError   a misspelt keyword argument (also a TypeError)
    ├── ApiError                   InvoiceBox answered with an error envelope
    │   ├── AuthenticationError    401 unauthorized / 403 forbidden
    │   ├── NotFoundError          404
    │   ├── InvalidRequestError    400 / 422 (validation, wrong_order_status, duplicates, …)
    │   ├── RateLimitError         429 (``retry_after`` in seconds when the server said so)
    │   └── ServerError            5xx
    ├── TransportError             no usable HTTP answer (connection refused/reset, timeout)
    ├── ResultUnknownError         a write may or may not have happened and lookup could not tell
    ├── SignatureError             a notification's X-Signature is missing or wrong
    ├── DefinitionError            a flow definition would break the documented lifecycle
    └── FlowError                  the lifecycle engine refused an action
        ├── IllegalTransitionError the action is not allowed in the order's current state
        ├── RefundLimitError       more than was paid minus what was refunded
        ├── ShipmentLimitError     more than is left to ship (not shipped, not refunded)
        ├── ConcurrentUpdateError  another worker changed the order first (compare-and-set lost)
        └── OrderNotFoundError     no such order in the store

Every error's ``str()`` is one readable line. No error ever carries the API token or the
notification key: the client builds messages from the server's answer and the request's
method and path only.
"""

from __future__ import annotations

from typing import Any


class InvoiceboxFlowError(Exception):
    """Base of every invoicebox-flow error."""


# --- bad input -----------------------------------------------------------------------------


class ValidationError(InvoiceboxFlowError, ValueError):
    """Input was refused locally, before anything was sent to InvoiceBox or written to a store.

    ``code`` uses the API's own error codes where one exists (e.g. ``wrong_total_amount``),
    ``fields`` lists ``{"name", "code", "message"}`` problems like the API's error envelope.
    """

    def __init__(self, message: str, code: str = "validation", fields: list[dict[str, str]] | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.fields = list(fields or [])

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class BasketError(ValidationError):
    """Basket amounts, quantities or VAT do not follow the API's arithmetic rules."""


class CustomerError(ValidationError):
    """Customer data is inconsistent (INN checksum, KPP format, legal vs private)."""


class UnknownArgumentError(ValidationError, TypeError):
    """A constructor or builder got a keyword it does not take (a typo must not pass silently).

    The message names the closest valid keyword; it is a ``TypeError`` too, as Python's own
    unexpected-keyword error is.
    """


# --- InvoiceBox answered with an error -----------------------------------------------------


class ApiError(InvoiceboxFlowError):
    """InvoiceBox answered with HTTP ≥ 400.

    Attributes mirror the error envelope ``{"error": {"message", "code", "fields"}}`` plus the
    HTTP ``status``, the ``X-Request-Id`` of the response (quote it to support) and the request's
    ``method`` and ``path`` (never the headers, so never the token).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str | None = None,
        fields: list[dict[str, Any]] | None = None,
        request_id: str | None = None,
        method: str | None = None,
        path: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.fields = list(fields or [])
        self.request_id = request_id
        self.method = method
        self.path = path

    def __str__(self) -> str:
        where = f" {self.method} {self.path}" if self.method and self.path else ""
        code = f" {self.code}" if self.code else ""
        rid = f" (X-Request-Id {self.request_id})" if self.request_id else ""
        fields = ""
        if self.fields:
            fields = " [" + ", ".join(f"{f.get('name')}: {f.get('code')}" for f in self.fields) + "]"
        return f"HTTP {self.status}{code}{where}: {self.message}{fields}{rid}"


class AuthenticationError(ApiError):
    """401 ``unauthorized`` or 403 ``forbidden``: the token is missing, wrong or lacks rights."""


class NotFoundError(ApiError):
    """404: no such object for this account."""


class InvalidRequestError(ApiError):
    """400 or 422: the request broke one of the API's rules; ``code`` says which."""


class RateLimitError(ApiError):
    """429: the account's request budget is spent; ``retry_after`` is in seconds, if known."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(ApiError):
    """HTTP 5xx from InvoiceBox."""


# --- no answer or an uncertain one ---------------------------------------------------------


class TransportError(InvoiceboxFlowError):
    """No usable HTTP answer: connection refused or reset, DNS failure, or a timeout."""

    def __init__(self, message: str, *, method: str | None = None, path: str | None = None, timeout: bool = False):
        super().__init__(message)
        self.method = method
        self.path = path
        self.timeout = timeout


class ResultUnknownError(InvoiceboxFlowError):
    """Result unknown, it will be reconciled: a write (create, update or cancel an order, a
    shipment, a refund) failed in a way that leaves its outcome unknown — a timeout, a dropped
    connection, a 5xx — and looking up what InvoiceBox has did not find its effect either.

    Never resend blindly: reconcile later by the same ``merchant_order_id`` (orders, refunds)
    or ``object_id`` (the order shipped, updated or canceled). ``operation`` is the client
    method, ``cause`` the failure that made the outcome unknown.
    """

    def __init__(self, message: str, *, merchant_order_id: str | None = None, object_id: str | None = None,
                 operation: str | None = None, cause: BaseException | None = None):
        super().__init__(message)
        self.merchant_order_id = merchant_order_id
        self.object_id = object_id
        self.operation = operation
        self.cause = cause


class SignatureError(InvoiceboxFlowError):
    """A notification's ``X-Signature`` header is missing or does not match the body."""


# --- a flow definition that cannot be ------------------------------------------------------


class DefinitionError(InvoiceboxFlowError, ValueError):
    """A flow definition (or an extension of one) was refused when it was built: it would remove
    or reorder a documented step, leave a state unreachable, declare a trigger twice, or name a
    state, guard or participant that does not exist. The message says which and why."""


# --- the lifecycle engine refused ----------------------------------------------------------


class FlowError(InvoiceboxFlowError):
    """The lifecycle engine refused an action; nothing was changed."""


class IllegalTransitionError(FlowError):
    """The action is not allowed in the order's current state.

    ``allowed`` lists the actions that are allowed there, to make the message useful.
    """

    def __init__(self, order_id: str, action: str, state: str, allowed: list[str] | tuple[str, ...] = (), reason: str = ""):
        # str(): Trigger and State members are StrEnums; their repr is not what a person reads
        self.order_id = order_id
        self.action = action = str(action)
        self.state = state = str(state)
        self.allowed = tuple(str(a) for a in allowed)
        self.reason = reason
        text = f"order {order_id}: {action!r} is not allowed in state {state!r}"
        if reason:
            text += f" ({reason})"
        if self.allowed:
            text += f"; allowed here: {', '.join(self.allowed)}"
        super().__init__(text)


class RefundLimitError(FlowError):
    """The refund asks for more than what was paid minus what was already refunded."""


class ShipmentLimitError(FlowError):
    """The shipment asks for more of a line than is left to ship: its quantity minus what was
    shipped and what was refunded."""


class ConcurrentUpdateError(FlowError):
    """Another worker changed the order between our read and our write (version mismatch).

    Nothing of ours was written; reload the order and decide again.
    """

    def __init__(self, order_id: str, expected_version: int):
        self.order_id = order_id
        self.expected_version = expected_version
        super().__init__(f"order {order_id} was changed concurrently (expected version {expected_version})")


class OrderNotFoundError(FlowError, LookupError):
    """No order with this id in the store."""
