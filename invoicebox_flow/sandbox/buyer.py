"""The simulated buyer: opens a payment page and presses «Оплатить», «Оплатить по счёту» or
«Отказаться», over plain HTTP like a browser with JavaScript switched off.

It does not follow the redirect back to the shop; it returns where it was sent, so a test can
follow it to its own shop (or not). A page of the sandbox's own on the way is followed: under
«Контроль отгрузки на платёжной странице» the payer waits for the shop's answer and reads it on
the result page (kept in :attr:`Buyer.last_page`), which then sends the payer on to the shop.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import requests

# Longer than the 20 s InvoiceBox waits for the shop's answer, which a payer may sit through.
DEFAULT_TIMEOUT = 30.0


class Buyer:
    def __init__(self, session: requests.Session | None = None, timeout: float = DEFAULT_TIMEOUT) -> None:
        if session is None:
            session = requests.Session()
            session.trust_env = False  # the sandbox is on loopback
        self.session = session
        self.timeout = timeout
        self.last_page: str | None = None  # HTML of the last sandbox page the buyer saw

    def __repr__(self) -> str:
        return "Buyer()"

    def open(self, payment_url: str) -> str:
        """GET the payment page; returns its HTML. Raises ``requests.HTTPError`` on 4xx/5xx."""
        response = self.session.get(payment_url, timeout=self.timeout)
        response.raise_for_status()
        self.last_page = response.text
        return response.text

    def pay(self, payment_url: str, **payer_fields: str) -> str:
        """Submit the payment form (payer fields by their API names: ``name``, ``email``,
        ``phone``, ``vatNumber``, ``taxRegistrationReasonCode``); returns where the buyer is
        sent: ``successUrl``, or ``failUrl`` when the shop answered that it cannot provide
        the order, or a sandbox page when the order names neither."""
        return self._onward(payment_url, self._submit(payment_url, "pay", payer_fields))

    def pay_by_bank_transfer(self, payment_url: str) -> str:
        """Press «Оплатить по счёту (банковский перевод)» (organisations and sole proprietors);
        returns the HTML of the page the buyer stays on: the invoice, issued and awaiting the money."""
        return self.open(urljoin(payment_url, self._submit(payment_url, "bank-transfer", {})))

    def decline(self, payment_url: str) -> str:
        """Press «Отказаться»; returns the redirect target (``failUrl`` or a sandbox page)."""
        return self._onward(payment_url, self._submit(payment_url, "decline", {}))

    def _submit(self, payment_url: str, action: str, form: dict[str, str]) -> str:
        response = self.session.post(f"{payment_url.rstrip('/')}/{action}", data=form, timeout=self.timeout,
                                     allow_redirects=False)
        response.raise_for_status()
        location = response.headers.get("Location")
        if not response.is_redirect or not location:
            raise requests.HTTPError(f"the payment page did not redirect (HTTP {response.status_code})",
                                     response=response)
        return location

    def _onward(self, payment_url: str, location: str) -> str:
        """Where the buyer ends up going: a sandbox page on the way is read, and its refresh
        target (the shop) returned; a page that sends the buyer nowhere is where they stay."""
        target = urljoin(payment_url, location)
        if urlsplit(target)[:2] != urlsplit(payment_url)[:2]:
            return location
        onward = _RefreshTarget.of(self.open(target))
        return urljoin(target, onward) if onward else location


class _RefreshTarget(HTMLParser):
    """The ``url=`` of a page's ``<meta http-equiv="refresh">``, if it has one."""

    def __init__(self) -> None:
        super().__init__()
        self.url: str | None = None

    @classmethod
    def of(cls, html: str) -> str | None:
        parser = cls()
        parser.feed(html)
        return parser.url

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "meta" and (attributes.get("http-equiv") or "").lower() == "refresh":
            _, _, url = (attributes.get("content") or "").partition("url=")
            self.url = url.strip() or None
