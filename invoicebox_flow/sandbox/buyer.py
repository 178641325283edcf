"""The simulated buyer: opens a payment page and presses «Оплатить» or «Отказаться», over plain
HTTP like a browser with JavaScript switched off. It does not follow the redirect back to the
shop; it returns where it was sent, so a test can follow it to its own shop (or not)."""

from __future__ import annotations

import requests


class Buyer:
    def __init__(self, session: requests.Session | None = None, timeout: float = 10.0) -> None:
        if session is None:
            session = requests.Session()
            session.trust_env = False  # the sandbox is on loopback
        self.session = session
        self.timeout = timeout

    def __repr__(self) -> str:
        return "Buyer()"

    def open(self, payment_url: str) -> str:
        """GET the payment page; returns its HTML. Raises ``requests.HTTPError`` on 4xx/5xx."""
        response = self.session.get(payment_url, timeout=self.timeout)
        response.raise_for_status()
        return response.text

    def pay(self, payment_url: str, **payer_fields: str) -> str:
        """Submit the payment form (payer fields by their API names: ``name``, ``email``,
        ``phone``, ``vatNumber``, ``taxRegistrationReasonCode``); returns the redirect target."""
        return self._submit(payment_url, "pay", payer_fields)

    def decline(self, payment_url: str) -> str:
        """Press «Отказаться»; returns the redirect target (``failUrl`` or a sandbox page)."""
        return self._submit(payment_url, "decline", {})

    def _submit(self, payment_url: str, action: str, form: dict[str, str]) -> str:
        response = self.session.post(f"{payment_url.rstrip('/')}/{action}", data=form, timeout=self.timeout,
                                     allow_redirects=False)
        response.raise_for_status()
        location = response.headers.get("Location")
        if not response.is_redirect or not location:
            raise requests.HTTPError(f"the payment page did not redirect (HTTP {response.status_code})",
                                     response=response)
        return location
