"""CDP API-key JWTs (venue notes §4.2).

Every REST request carries ``Authorization: Bearer <JWT>``; the token is built fresh per
request: header ``{"alg","kid","nonce","typ"}``, claims ``{"sub","iss":"cdp","nbf","exp",
"uri"}`` with ``exp = nbf + lifetime`` (whole seconds, at most the venue's 120) and
``uri = "METHOD host/path"`` (no scheme, no query). The venue executes a request only while
``nbf <= now < exp``, so ``lifetime`` bounds how long a request held in transit can still
act. WebSocket subscribe messages carry a token without ``uri`` and the full 120 s (a
subscribe executes nothing and may wait for a slow connect).

Key material: an EC P-256 private key in PEM (``alg`` ES256) or an Ed25519 key as PKCS#8
PEM or as base64 of 32/64 raw bytes, the first 32 being the seed (``alg`` EdDSA).
"""

from __future__ import annotations

import base64
import binascii
import math
import secrets
from collections.abc import Callable

import orjson
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from gapless.model.errors import ConfigError

TOKEN_LIFETIME_S = 120  # the venue's token life, and the longest it accepts
ISSUER = "cdp"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class JwtSigner:
    """Builds CDP JWTs for one key. ``now`` returns the (venue-corrected) wall time."""

    def __init__(self, key_name: str, private_key: str, *, now: Callable[[], float],
                 lifetime: int = TOKEN_LIFETIME_S) -> None:
        if not key_name:
            raise ConfigError("coinbase: api_key must be the CDP key name (organizations/.../apiKeys/...)")
        if not 1 <= lifetime <= TOKEN_LIFETIME_S:
            raise ConfigError(f"coinbase: JWT lifetime must be 1..{TOKEN_LIFETIME_S} s, not {lifetime}")
        self.key_name = key_name
        self.lifetime = lifetime
        self._now = now
        self._key = load_private_key(private_key)
        self.alg = "ES256" if isinstance(self._key, ec.EllipticCurvePrivateKey) else "EdDSA"

    def _sign(self, data: bytes) -> bytes:
        key = self._key
        if isinstance(key, ec.EllipticCurvePrivateKey):
            r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return key.sign(data)

    def token(self, uri: str | None) -> str:
        """A fresh JWT; ``uri`` is ``"METHOD host/path"`` (``None`` for WebSocket).

        ``nbf`` is the venue-corrected now rounded down, so ``exp`` is at most ``lifetime``
        seconds after signing (a little less, never more)."""
        nbf = math.floor(self._now())
        life = self.lifetime if uri is not None else TOKEN_LIFETIME_S
        header = {"alg": self.alg, "kid": self.key_name, "nonce": secrets.token_hex(),
                  "typ": "JWT"}
        claims: dict[str, object] = {"sub": self.key_name, "iss": ISSUER, "nbf": nbf,
                                     "exp": nbf + life}
        if uri is not None:
            claims["uri"] = uri
        signing_input = f"{b64url(orjson.dumps(header))}.{b64url(orjson.dumps(claims))}"
        return f"{signing_input}.{b64url(self._sign(signing_input.encode()))}"

    def bearer(self, method: str, host: str, path: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(f'{method} {host}{path}')}"}


def load_private_key(secret: str) -> ec.EllipticCurvePrivateKey | Ed25519PrivateKey:
    text = secret.strip().replace("\\n", "\n")
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_private_key(text.encode(), password=None)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"coinbase: unreadable PEM private key: {exc}") from None
        if isinstance(key, ec.EllipticCurvePrivateKey):
            if not isinstance(key.curve, ec.SECP256R1):
                raise ConfigError("coinbase: EC keys must be P-256 (ES256)")
            return key
        if isinstance(key, Ed25519PrivateKey):
            return key
        raise ConfigError("coinbase: private key must be EC P-256 or Ed25519")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError("coinbase: secret is neither a PEM key nor base64 Ed25519 key") from None
    if len(raw) not in (32, 64):
        raise ConfigError("coinbase: base64 Ed25519 keys must decode to 32 or 64 bytes")
    return Ed25519PrivateKey.from_private_bytes(raw[:32])
