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
    """One key. The nonce is judged when the request arrives: it must exceed the highest
    nonce accepted so far (so a request overtaken in transit by a later-nonced one is
    refused and never executes), unless the key has a nonce window (default 0, as at
    Kraken): then a lower nonce within ``nonce_window`` of the highest is let in once."""

    def __init__(self, api_key: str, secret: str, nonce_window: int = 0) -> None:
        self.api_key = api_key
        self.secret = secret
        self.nonce_window = nonce_window
        self.last_nonce: dict[str, int] = {}
        self._recent: dict[str, set[int]] = {}  # accepted nonces within the window

    def reset(self) -> None:
        self.last_nonce.clear()
        self._recent.clear()

    def _accept_nonce(self, key: str, n: int) -> None:
        last = self.last_nonce.get(key, 0)
        w = self.nonce_window
        if n > last:
            self.last_nonce[key] = n
        elif not (w > 0 and n > last - w and n not in self._recent.get(key, ())):
            raise KrakenError(errors.INVALID_NONCE)
        if w > 0:
            top = self.last_nonce[key]
            seen = self._recent.setdefault(key, set())
            seen.add(n)
            for old in [x for x in seen if x <= top - w]:
                seen.discard(old)

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
        self._accept_nonce(key, int(nonce))
