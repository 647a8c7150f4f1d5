"""Kraken REST signing (docs §5.2) and the strictly increasing nonce.

``API-Sign = base64(HMAC-SHA512(base64decode(secret), uri_path + SHA256(nonce + body)))``
where ``body`` is the exact request body (which itself contains ``nonce=``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import threading
import time

from gapless.model.errors import ConfigError


class KrakenSigner:
    __slots__ = ("_key",)

    def __init__(self, secret_b64: str) -> None:
        try:
            key = base64.b64decode(secret_b64, validate=True)
        except (binascii.Error, ValueError):
            raise ConfigError("kraken: the API secret must be base64") from None
        if not key:
            raise ConfigError("kraken: empty API secret")
        self._key = hmac.new(key, digestmod=hashlib.sha512)

    def sign(self, uri_path: str, nonce: str, body: bytes) -> str:
        h = self._key.copy()
        h.update(uri_path.encode())
        h.update(hashlib.sha256(nonce.encode() + body).digest())
        return base64.b64encode(h.digest()).decode()


class NonceSource:
    """Microsecond wall-clock nonces that never repeat or go backwards in this process."""

    def __init__(self, clock_us: object = None) -> None:
        self._last = 0
        self._lock = threading.Lock()
        self._now = clock_us if callable(clock_us) else (lambda: time.time_ns() // 1000)

    def next(self) -> str:
        with self._lock:
            n = max(int(self._now()), self._last + 1)
            self._last = n
            return str(n)
