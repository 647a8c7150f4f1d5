"""Signature checks for SIGNED Binance requests: HMAC-SHA256 (hex) and Ed25519 (base64)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from urllib.parse import unquote_plus

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

KEY_RE = re.compile(r"^[A-Za-z0-9]{64}$")


@dataclass
class ApiKey:
    key: str
    account: str
    kind: str  # "HMAC" | "ED25519"
    secret: str = ""
    public_key: Ed25519PublicKey | None = None


def hmac_hex(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def strip_signature(raw: str) -> tuple[str, str | None]:
    """Remove the ``signature`` parameter from a raw query string / form body.

    Returns (payload without it, percent-decoded signature or None).
    """
    if not raw:
        return "", None
    kept: list[str] = []
    sig: str | None = None
    for part in raw.split("&"):
        if part.startswith("signature="):
            # a raw "+" can only be base64 (Ed25519), never a space
            sig = unquote_plus(part[len("signature="):].replace("+", "%2B"))
        else:
            kept.append(part)
    return "&".join(kept), sig


def signed_payload(raw_query: str, raw_body: str) -> tuple[str, str | None]:
    """The payload Binance signs: query string then body, no separator, signature removed."""
    q, sig_q = strip_signature(raw_query)
    b, sig_b = strip_signature(raw_body)
    return q + b, sig_q if sig_q is not None else sig_b


def verify(key: ApiKey, payload: str, signature: str) -> bool:
    if key.kind == "HMAC":
        expected = hmac_hex(key.secret, payload)
        return hmac.compare_digest(expected, signature.lower())
    if key.public_key is None:
        return False
    try:
        raw = base64.b64decode(signature, validate=True)
        key.public_key.verify(raw, payload.encode())
    except (InvalidSignature, ValueError):
        return False
    return True
