"""The mail the shop sends its buyers."""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class Mail:
    order_id: str  # the mail service addresses it from the shop's customer record of the order
    subject: str
    body: str


class Mailbox:
    """A stand-in for the shop's mail service, keeping what it sent.

    Like a real provider's idempotency key, ``idempotency_key`` makes a second send of the same
    mail a no-op: a handler called twice for one event (a crash between its return and the
    record of its success) sends one mail.
    """

    def __init__(self) -> None:
        self._sent: dict[str, Mail] = {}
        self._lock = threading.Lock()  # handlers run in the webhook's threads and the worker's lanes

    def send(self, mail: Mail, *, idempotency_key: str) -> bool:
        """Send ``mail`` unless a mail with this key was sent already; whether it was sent now."""
        with self._lock:
            if idempotency_key in self._sent:
                return False
            self._sent[idempotency_key] = mail
            return True

    @property
    def sent(self) -> dict[str, Mail]:
        """Every mail sent, by its idempotency key."""
        with self._lock:
            return dict(self._sent)
