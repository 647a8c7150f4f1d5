"""CDP API keys and JWT bearer verification, as the venue checks them.

A key is named ``organizations/{org}/apiKeys/{id}``; its private half is either an EC
P-256 key (SEC1 PEM, JWT ``alg`` ES256) or an Ed25519 key (JWT ``alg`` EdDSA). Every REST
request carries ``Authorization: Bearer <JWT>`` whose claims name the key (``sub``, header
``kid``), are valid now (``nbf`` <= now < ``exp``) and bind the request (``uri`` =
``"METHOD host/path"``, no query, no scheme; ccxt's Ed25519 flavour sends a ``uris`` list).
Issuers ``cdp`` (official SDK) and ``coinbase-cloud`` (ccxt) are both accepted.
"""

from __future__ import annotations

import base64
import binascii
import json
import random
import re
import uuid
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

ISSUERS = frozenset({"cdp", "coinbase-cloud"})
MAX_LIFETIME_S = 300  # the venue issues 120 s tokens; allow some slack, never more
LEEWAY_S = 5


class AuthFailure(Exception):
    """Why a token was refused (logged by the sim; the wire only says ``Unauthorized``)."""


@dataclass
class CdpKey:
    name: str  # organizations/{org}/apiKeys/{id}
    account: str
    alg: str  # "ES256" | "EdDSA"
    public_key: ec.EllipticCurvePublicKey | Ed25519PublicKey
    private_pem: str  # handed to clients: SEC1 PEM (ES256) or base64 of seed+public (EdDSA)


_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def _key_name(rng: random.Random) -> str:
    return f"organizations/{uuid.UUID(int=rng.getrandbits(128))}/apiKeys/{uuid.UUID(int=rng.getrandbits(128))}"


def new_es256_key(account: str, rng: random.Random) -> CdpKey:
    """EC P-256 key handed out as a SEC1 PEM (``-----BEGIN EC PRIVATE KEY-----``)."""
    priv = ec.derive_private_key(1 + rng.getrandbits(256) % (_P256_ORDER - 1), ec.SECP256R1())
    pem = priv.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    return CdpKey(_key_name(rng), account, "ES256", priv.public_key(), pem)


def new_ed25519_key(account: str, rng: random.Random) -> CdpKey:
    """Ed25519 key handed out as base64 of 64 bytes (seed + public key), as CDP does."""
    priv = Ed25519PrivateKey.from_private_bytes(bytes(rng.getrandbits(8) for _ in range(32)))
    seed = priv.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    pub = priv.public_key()
    raw_pub = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return CdpKey(_key_name(rng), account, "EdDSA", pub, base64.b64encode(seed + raw_pub).decode())


def _b64url(data: str) -> bytes:
    pad = "=" * (-len(data) % 4)
    return base64.urlsafe_b64decode(data + pad)


def _verify_signature(key: CdpKey, alg: str, signing_input: bytes, sig: bytes) -> None:
    if alg != key.alg:
        raise AuthFailure(f"alg {alg} does not match the key ({key.alg})")
    try:
        if isinstance(key.public_key, ec.EllipticCurvePublicKey):
            if len(sig) != 64:
                raise AuthFailure("ES256 signature must be 64 bytes (r||s)")
            der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
            key.public_key.verify(der, signing_input, ec.ECDSA(hashes.SHA256()))
        else:
            key.public_key.verify(sig, signing_input)
    except InvalidSignature:
        raise AuthFailure("bad signature") from None


_LOOPBACK_URI = re.compile(r"^([A-Z]+) (?:http://)?(?:127\.0\.0\.1|localhost|\[::1\]):[0-9]{1,5}(/\S*)$")


def _loopback_form(uri: str) -> str | None:
    """``"METHOD path"`` of a uri naming any loopback host:port (scheme optional)."""
    m = _LOOPBACK_URI.match(uri)
    return f"{m.group(1)} {m.group(2)}" if m else None


def verify_jwt(token: str, keys: dict[str, CdpKey], *, now: float, uri: str | None,
               alt_uris: tuple[str, ...] = (), loopback_any_port: bool = False) -> CdpKey:
    """Return the key that signed ``token`` or raise :class:`AuthFailure`.

    ``uri`` is the expected ``"METHOD host/path"`` (``None`` for WebSocket tokens, which
    carry none); ``alt_uris`` are also accepted (the same request spelled with a scheme,
    which a client pointed at a plain-HTTP loopback simulator produces). With
    ``loopback_any_port`` a ``uri`` naming any loopback ``host:port`` is accepted when method
    and path match (a test proxy in front of the simulator signs with its own address).
    """
    parts = token.split(".")
    if len(parts) != 3:
        raise AuthFailure("not a compact JWS")
    try:
        header = json.loads(_b64url(parts[0]))
        claims = json.loads(_b64url(parts[1]))
        sig = _b64url(parts[2])
    except (ValueError, binascii.Error):
        raise AuthFailure("undecodable token") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise AuthFailure("header and claims must be objects")
    kid = header.get("kid")
    key = keys.get(kid) if isinstance(kid, str) else None
    if key is None:
        raise AuthFailure("unknown kid")
    _verify_signature(key, str(header.get("alg")), f"{parts[0]}.{parts[1]}".encode(), sig)
    if claims.get("sub") != kid:
        raise AuthFailure("sub must equal kid")
    if claims.get("iss") not in ISSUERS:
        raise AuthFailure(f"issuer {claims.get('iss')!r} not accepted")
    nbf, exp = claims.get("nbf"), claims.get("exp")
    if not isinstance(nbf, int | float) or not isinstance(exp, int | float):
        raise AuthFailure("nbf/exp missing")
    if now + LEEWAY_S < nbf:
        raise AuthFailure("token not yet valid")
    if now >= exp:
        raise AuthFailure("token expired")
    if exp - nbf > MAX_LIFETIME_S:
        raise AuthFailure("token lifetime too long")
    if uri is not None:
        accepted = {uri, *alt_uris}
        claimed = claims.get("uri")
        claimed_list = claims.get("uris")
        candidates = [claimed] if isinstance(claimed, str) else []
        if isinstance(claimed_list, list):
            candidates += [u for u in claimed_list if isinstance(u, str)]
        ok = any(u in accepted for u in candidates)
        if not ok and loopback_any_port:
            want = _loopback_form(uri)
            ok = want is not None and any(_loopback_form(u) == want for u in candidates)
        if not ok:
            raise AuthFailure(f"uri claim does not match {uri!r}")
    return key
