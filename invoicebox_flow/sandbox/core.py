"""The parts of the sandbox's InvoiceBox every operation uses: its settings, memory, clock,
faults, rate limit, background worker, cash register and notifier, and the small helpers built
on them (authentication, looking an order up, running work after the answer).

Nothing here decides what the API allows (that is :mod:`.rules`) or what InvoiceBox does on its
own (:mod:`.backoffice`); the operations live in :mod:`.orders_api`, :mod:`.shipments_api`,
:mod:`.refunds_api`, :mod:`.drift`, :mod:`.controls` and, for the payment page,
:mod:`.engine`, which puts them together. The underscored helpers (``_order``, ``_now``,
``_in_background``) are for those sandbox modules only, under the names the page's operations use.
"""

from __future__ import annotations

import hmac
import threading
import uuid
from collections.abc import Callable
from typing import Any

import attrs

from ..errors import ValidationError
from ..protocol import NotificationAnswer
from .clock import SandboxClock, format_atom
from .effects import Effects
from .faults import FaultBoard
from .instruments import DEFAULT_INSTRUMENT, PAGE_INSTRUMENTS
from .notification_body import SANDBOX, SHAPES
from .notifier import RESPONSE_DEADLINE, Notifier
from .rules import CANCELED, EXPIRED, not_found
from .state import OrderRecord, SandboxState
from .throttle import AccountThrottle
from .worker import BackgroundWorker

# Compressed for tests: 10 retries within about 6 s. The real service spreads its 10 retries
# over 24 hours (spacing undocumented); REALISTIC_RETRY_DELAYS is a plausible such schedule.
DEFAULT_RETRY_DELAYS = (0.05, 0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0, 1.0, 1.0)
REALISTIC_RETRY_DELAYS = (60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0, 10800.0, 14400.0, 21600.0, 25200.0)

#: Order statuses after which the sandbox can send a status notification (DOCS status.md names
#: ``canceled`` as an example of a notified status; ``expired`` is the sandbox's extrapolation).
NOTIFIABLE_STATUSES = (CANCELED, EXPIRED)

AUTH_OK, AUTH_MISSING, AUTH_WRONG = "ok", "missing", "wrong"


def _problem(message: str) -> ValidationError:
    return ValidationError(message, "validation", [{"name": "settings", "code": "validation", "message": message}])


DEFAULT_SHOP_NAME = "Тестовый магазин"


@attrs.define
class SandboxSettings:
    """Everything a :class:`~.runtime.Sandbox` is started with (docs/sandbox.md lists them)."""

    token: str = attrs.field(repr=False)
    notification_key: str = attrs.field(repr=False)
    merchant_id: str
    notification_url: str | None = None
    rate_limit: int = 100
    rate_window: float = 30.0
    rate_limit_retry_after: bool = True
    unique_merchant_order_id: bool = True
    notification_retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS
    notification_timeout: float = RESPONSE_DEADLINE
    notification_shape: str = SANDBOX
    status_notifications: tuple[str, ...] = ()
    refund_payout_delay: float = 0.0
    auto_shipment: bool = False
    payment_instrument: str = DEFAULT_INSTRUMENT
    shop_name: str = DEFAULT_SHOP_NAME  # the shop as its payment page names it
    shipping_control: bool = False  # «Контроль отгрузки на платёжной странице»: the payer waits for the shop
    user_id: str = attrs.Factory(lambda: str(uuid.uuid4()))

    def __attrs_post_init__(self) -> None:
        if self.notification_shape not in SHAPES:
            raise _problem(f"notification_shape must be one of {', '.join(SHAPES)}")
        unknown = [s for s in self.status_notifications if s not in NOTIFIABLE_STATUSES]
        if unknown:
            raise _problem(f"status_notifications may name {', '.join(NOTIFIABLE_STATUSES)}, not {unknown!r}")
        if isinstance(self.refund_payout_delay, bool) or not isinstance(self.refund_payout_delay, (int, float)) \
                or not 0 <= self.refund_payout_delay < float("inf"):
            raise _problem("refund_payout_delay must be a non-negative number of seconds")
        if self.payment_instrument not in PAGE_INSTRUMENTS:
            raise _problem(f"payment_instrument must be one of {', '.join(PAGE_INSTRUMENTS)}")


class SandboxCore:
    def __init__(self, settings: SandboxSettings) -> None:
        self.settings = settings
        self.base_url = ""  # known once the server is bound; payment URLs are built from it
        self.state = SandboxState()
        self.clock = SandboxClock()
        self.faults = FaultBoard()
        self.throttle = AccountThrottle(settings.rate_limit, settings.rate_window)
        self.worker = BackgroundWorker()
        self.effects = Effects(self.state, self.clock)
        self.notifier = Notifier(state=self.state, worker=self.worker, faults=self.faults, clock=self.clock,
                                 notification_key=settings.notification_key,
                                 retry_delays=tuple(settings.notification_retry_delays),
                                 timeout=settings.notification_timeout, shape=settings.notification_shape,
                                 on_final_code=self._merchant_refused)
        self._stopping = threading.Event()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, merchant_id={self.settings.merchant_id!r})"

    def authenticate(self, authorization: str | None) -> str:
        """``ok``, ``missing`` (no Authorization header) or ``wrong``."""
        if not authorization or not authorization.strip():
            return AUTH_MISSING
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return AUTH_WRONG
        same = hmac.compare_digest(token.strip().encode("utf-8"), self.settings.token.encode("utf-8"))
        return AUTH_OK if same else AUTH_WRONG

    def sleep(self, seconds: float) -> None:
        """Wait (for injected slowness), cut short when the sandbox stops."""
        self._stopping.wait(seconds)

    def stop(self) -> None:
        self._stopping.set()
        self.worker.stop()

    def wait_idle(self, timeout: float) -> bool:
        return self.worker.wait_idle(timeout)

    def _now(self) -> str:
        return format_atom(self.clock.now())

    def _order(self, order_id: Any) -> OrderRecord:
        record = self.state.order(order_id) if isinstance(order_id, str) else None
        if record is None:
            raise not_found("order", order_id)
        return record

    def notification_url(self, record: OrderRecord) -> str | None:
        """Where the order's notifications go: its own ``notificationUrl``, else the shop's."""
        return record.data.get("notificationUrl") or self.settings.notification_url

    def _in_background(self, task: Callable[[], None], delay: float = 0.0) -> None:
        """Run ``task`` on the worker under the state lock, unless the sandbox was reset meanwhile."""
        generation = self.worker.generation

        def run() -> None:
            with self.state.lock:
                if self.worker.generation == generation:
                    task()

        self.worker.submit(run, delay)

    def _merchant_refused(self, order_id: str | None, code: str) -> None:
        """The shop answered a notification with a final error code; ``shipping_unavailable``
        marks the order so that a DELETE may reverse it (§3.4, :mod:`.instruments`)."""
        if code != NotificationAnswer.SHIPPING_UNAVAILABLE.value or order_id is None:
            return
        with self.state.lock:
            record = self.state.order(order_id)
            if record is not None:
                record.shipping_unavailable = True
                record.data["shippingUnavailable"] = True
