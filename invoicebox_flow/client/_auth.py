"""Who the token belongs to (reference §1.5)."""

from __future__ import annotations

from ..models import AuthInfo
from ..protocol import CHECK_AUTH
from ._requestor import Requestor


class AuthService:
    """``client.auth``."""

    def __init__(self, requestor: Requestor):
        self._requestor = requestor

    def check(self) -> AuthInfo:
        """``GET /security/api/auth/auth``. A ``userId`` of ``null`` (no token) means *not*
        authenticated; a wrong token raises :class:`~invoicebox_flow.errors.AuthenticationError`."""
        return self._requestor.read(CHECK_AUTH).model(AuthInfo)
