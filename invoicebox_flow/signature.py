"""Notification signatures: lowercase hex HMAC-SHA1 of the raw body bytes, in ``X-Signature``.

Sign and verify the exact bytes that travel: re-serialising the JSON (key order, ``\\/``,
``\\uXXXX``) changes the signature. The key is the shop's notification key, not the API token.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from .errors import SignatureError

SIGNATURE_HEADER = "X-Signature"


def sign(body: bytes, key: str) -> str:
    """The ``X-Signature`` value InvoiceBox sends with ``body``."""
    if not isinstance(body, (bytes, bytearray)):
        raise TypeError("sign the raw body bytes, not a parsed or re-encoded object")
    return hmac.new(key.encode("utf-8"), bytes(body), hashlib.sha1).hexdigest()


def is_valid(body: bytes, signature: str | None, key: str) -> bool:
    """True when ``signature`` matches ``body``; compared in constant time."""
    if not signature or not key:
        return False
    # compare bytes: compare_digest refuses non-ASCII str, and a forged header may hold anything
    given = signature.strip().lower().encode("utf-8", "surrogateescape")
    return hmac.compare_digest(sign(body, key).encode("ascii"), given)


def verify(body: bytes, signature: str | None, key: str) -> None:
    """Raise :class:`SignatureError` unless ``signature`` matches ``body``."""
    if not signature:
        raise SignatureError(f"missing {SIGNATURE_HEADER} header")
    if not is_valid(body, signature, key):
        raise SignatureError(f"{SIGNATURE_HEADER} does not match the body")


def signature_from_headers(headers: Mapping[str, str] | list[tuple[str, str]]) -> str | None:
    """The ``X-Signature`` value from any header mapping or WSGI-style pair list, any case."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    wanted = SIGNATURE_HEADER.lower()
    for name, value in items:
        if name.lower() in (wanted, "http_x_signature"):
            return value
    return None
