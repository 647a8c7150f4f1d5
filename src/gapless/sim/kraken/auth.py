"""``API-Key`` / ``API-Sign`` verification and the strictly increasing nonce per key."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from . import errors
from .errors import KrakenError


def api_sign(secret_b64: str, uri_path: str, nonce: str, body: bytes) -> str:
    """``base64(HMAC-SHA512(b64decode(secret), path + SHA256(nonce + body)))``."""
    digest = hashlib.sha256(nonce.encode() + body).digest()
    mac = hmac.new(base64.b64decode(secret_b64), uri_path.encode() + digest, hashlib.sha512)
    return base64.b64encode(mac.digest()).decode()


class KeyStore:
    def __init__(self, api_key: str, secret: str) -> None:
        self.api_key = api_key
        self.secret = secret
        self.last_nonce: dict[str, int] = {}

    def reset(self) -> None:
        self.last_nonce.clear()

    def check(self, key: str | None, sign: str | None, uri_path: str, nonce: str | None,
              body: bytes) -> None:
        if not key or key != self.api_key:
            raise KrakenError(errors.INVALID_KEY)
        if not sign:
            raise KrakenError(errors.INVALID_SIGNATURE)
        if nonce is None or not nonce.isdigit() or len(nonce) > 20:
            raise KrakenError(errors.INVALID_NONCE)
        try:
            given = base64.b64decode(sign, validate=True)
        except (binascii.Error, ValueError):
            raise KrakenError(errors.INVALID_SIGNATURE) from None
        expected = base64.b64decode(api_sign(self.secret, uri_path, nonce, body))
        if not hmac.compare_digest(given, expected):
            raise KrakenError(errors.INVALID_SIGNATURE)
        n = int(nonce)
        if n <= self.last_nonce.get(key, 0):
            raise KrakenError(errors.INVALID_NONCE)
        self.last_nonce[key] = n
