"""Kraken REST signing (docs §5.2) and the strictly increasing nonce.

``API-Sign = base64(HMAC-SHA512(base64decode(secret), uri_path + SHA256(nonce + body)))``
where ``body`` is the exact request body (which itself contains ``nonce=``).

Kraken refuses a nonce not above the last one it accepted for the key (nonce window 0,
the default). One source per API key in the process, so every request signed after another
carries a larger nonce, whichever adapter sends it. (A create's validity bound in time is
its ``deadline``, set by the adapter.)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import threading
import time
from collections.abc import Callable, Mapping

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
    """Microsecond wall-clock nonces, strictly increasing even when two are taken in the
    same microsecond or the wall clock steps back (``max(last + 1, now)``)."""

    def __init__(self, clock_us: Callable[[], int] | None = None) -> None:
        self._last = 0
        self._lock = threading.Lock()
        self._now = clock_us or (lambda: time.time_ns() // 1000)

    def next(self) -> str:
        with self._lock:
            n = max(int(self._now()), self._last + 1)
            self._last = n
            return str(n)


_SOURCES: dict[bytes, NonceSource] = {}
_SOURCES_LOCK = threading.Lock()


def nonce_source(api_key: str) -> NonceSource:
    """The process-wide source for ``api_key`` (keyed by its digest, not the key)."""
    digest = hashlib.sha256(api_key.encode()).digest()
    with _SOURCES_LOCK:
        src = _SOURCES.get(digest)
        if src is None:
            src = _SOURCES[digest] = NonceSource()
        return src


def _whole(opts: Mapping[str, str], name: str, default: int, *, minimum: int) -> int:
    raw = opts.get(name)
    if raw is None:
        return default
    text = raw.strip()
    if not text.isascii() or not text.isdigit() or int(text) < minimum:
        raise ConfigError(f"kraken: option {name} must be a whole number >= {minimum}, "
                          f"not {raw!r}")
    return int(text)


def nonce_window_from_options(opts: Mapping[str, str]) -> int:
    """The key's nonce window as set at Kraken (in our nonce's unit, microseconds; default
    0). A create's time bound is its ``deadline`` (``recv_window``, checked in options)."""
    return _whole(opts, "nonce_window", 0, minimum=0)
