from __future__ import annotations

import base64
from urllib.parse import unquote

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gapless.model.errors import ConfigError
from gapless.venues.binance.auth import Ed25519Signer, HmacSigner, make_signer

# venues.md §1.1 (Binance's own SIGNED examples)
SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"

VECTORS = [
    (
        "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
        "&recvWindow=5000&timestamp=1499827319559",
        "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71",
    ),
    (
        "symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY&type=LIMIT"
        "&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559",
        "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3",
    ),
    (
        f"apiKey={API_KEY}&timestamp=1649729878532",
        "1cf54395b336b0a9727ef27d5d98987962bc47aca6e13fe978612d0adee066ed",
    ),
]


@pytest.mark.parametrize(("payload", "expected"), VECTORS)
def test_hmac_vectors(payload: str, expected: str) -> None:
    signer = HmacSigner(SECRET)
    assert signer.sign(payload.encode()) == expected
    # the keyed state is reused: signing twice gives the same answer
    assert signer.sign(payload.encode()) == expected


def test_query_plus_body_no_separator() -> None:
    payload, expected = VECTORS[0]
    query, body = payload[:40], payload[40:]
    assert HmacSigner(SECRET).sign((query + body).encode()) == expected


def _pem() -> tuple[str, Ed25519PrivateKey]:
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return pem, key


def test_ed25519_signature_verifies_and_is_url_safe() -> None:
    pem, key = _pem()
    signer = make_signer(pem)
    assert isinstance(signer, Ed25519Signer)
    payload = VECTORS[0][0].encode()
    sig = signer.sign(payload)
    assert all(c not in sig for c in "+/=")  # percent-encoded for the URL
    key.public_key().verify(base64.b64decode(unquote(sig)), payload)  # raises if bad
    assert unquote(sig) == signer.sign_raw(payload)  # deterministic (RFC 8032)


def test_key_type_chosen_from_secret() -> None:
    assert isinstance(make_signer(SECRET), HmacSigner)
    pem, _ = _pem()
    assert make_signer("\n" + pem).kind == "ed25519"


def test_bad_keys_are_config_errors() -> None:
    with pytest.raises(ConfigError):
        HmacSigner("")
    with pytest.raises(ConfigError):
        Ed25519Signer("-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n")
