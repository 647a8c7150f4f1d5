"""Binance request signing: HMAC-SHA256 (hex) or Ed25519 (base64).

The signed payload is the query string followed directly by the form body (no
separator), exactly as sent. The key type is chosen from the credentials: a PEM private
key in ``secret`` means Ed25519, anything else is an HMAC secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Protocol
from urllib.parse import quote

from gapless.model.errors import ConfigError


class Signer(Protocol):
    kind: str

    def sign(self, payload: bytes) -> str:
        """Signature, already safe to append as ``&signature=<value>`` to a query."""
        ...


class HmacSigner:
    """``hex(HMAC-SHA256(secret, payload))``; the keyed state is prepared once."""

    kind = "hmac"
    __slots__ = ("_base",)

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ConfigError("binance: empty HMAC secret")
        self._base = hmac.new(secret.encode(), digestmod=hashlib.sha256)

    def sign(self, payload: bytes) -> str:
        h = self._base.copy()
        h.update(payload)
        return h.hexdigest()


class Ed25519Signer:
    """Base64 Ed25519 signature, percent-encoded for use in a URL."""

    kind = "ed25519"
    __slots__ = ("_key",)

    def __init__(self, pem: str) -> None:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        try:
            key = load_pem_private_key(pem.encode(), password=None)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"binance: cannot load PEM private key: {exc}") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigError("binance: PEM key is not an Ed25519 private key")
        self._key = key

    def sign_raw(self, payload: bytes) -> str:
        return base64.b64encode(self._key.sign(payload)).decode()

    def sign(self, payload: bytes) -> str:
        return quote(self.sign_raw(payload), safe="")


def is_pem_private_key(secret: str) -> bool:
    s = secret.lstrip()
    return s.startswith("-----BEGIN") and "PRIVATE KEY-----" in s


def make_signer(secret: str) -> Signer:
    if is_pem_private_key(secret):
        return Ed25519Signer(secret)
    return HmacSigner(secret)
