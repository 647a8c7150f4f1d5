"""The scrubber: what it masks, what it keeps readable, that it never raises, and that a
registered secret never survives wherever it is embedded."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gapless.model import redact
from gapless.model.errors import AuthError, RateLimited, ServerError
from gapless.model.redact import MASK, clear_secrets, register_secret, scrub
from gapless.venues.base import Credentials

JWT = (
    "eyJhbGciOiJFUzI1NiIsImtpZCI6Im9yZ2FuaXphdGlvbnMveC9hcGlLZXlzL3kifQ"
    ".eyJzdWIiOiJvcmdhbml6YXRpb25zL3gvYXBpS2V5cy95IiwiZXhwIjoxNzAwMDAwMDA1fQ"
    ".MEUCIQDx7r3Q0cA1Pq9Zb2Xw4nLrJm8sT6uV5yK1hG3fD2eA0AIgWk9"
)
HEX_SIG = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
B64_SIG = "Zr4k1q7nQ2p+Wd9/xT0vLm3cB8sYhA6uE5oJgF1iR2w="


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    clear_secrets()
    yield
    clear_secrets()


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        # Bybit 10004 echoes the signed origin string: timestamp + API key + window + payload
        ('error sign! origin_string[1700000000000XBAPIKEYabc1235000{"category":"spot"}]',
         "XBAPIKEYabc123"),
        ("error sign! origin_string[1700000000000XBAPIKEYabc1235000categ", "XBAPIKEYabc123"),
        (f"<li>Authorization: Bearer {JWT}</li>", JWT[:40]),
        (f"token was {JWT} at the gate", JWT[:40]),
        ("Bearer opaque-token-value_123 rejected", "opaque-token-value_123"),
        ("<li>X-MBX-APIKEY: vmPUZE6mv9SD5VNHk4H</li>", "vmPUZE6mv9SD5VNHk4H"),
        ("<li>X-BAPI-API-KEY: bybitkey01</li>", "bybitkey01"),
        ("<li>X-BAPI-SIGN: 0ab1cd</li>", "0ab1cd"),
        ("<li>OK-ACCESS-KEY: okkey-1</li>", "okkey-1"),
        ("<li>OK-ACCESS-SIGN: oksig+1=</li>", "oksig+1="),
        ("<li>OK-ACCESS-PASSPHRASE: myPass</li>", "myPass"),
        ("<li>API-Key: kr4kenKey</li><li>API-Sign: krSig+9=</li>", "kr4kenKey"),
        ("<li>API-Key: kr4kenKey</li><li>API-Sign: krSig+9=</li>", "krSig+9="),
        ("/api/v3/order?symbol=BTCUSDT&timestamp=1&signature=abc123def", "abc123def"),
        ("/fapi?apiKey=pubkey77&x=1", "pubkey77"),
        ('{"api_key": "k-in-json", "qty": "1"}', "k-in-json"),
        ("{'X-BAPI-API-KEY': 'k-in-repr'}", "k-in-repr"),
        ("secret=hunter22", "hunter22"),
        (f"sign mismatch, got {HEX_SIG}", HEX_SIG),
        (f"sign mismatch, got {B64_SIG}", B64_SIG[:-1]),
        ("key: -----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBx\n-----END EC PRIVATE KEY-----",
         "MHcCAQEEIBx"),
        ("-----BEGIN PRIVATE KEY-----\\nMIGHAgEAMBMG (truncated", "MIGHAgEAMBMG"),
    ],
)
def test_credential_shapes_are_masked(text: str, secret: str) -> None:
    out = scrub(text)
    assert secret not in out and MASK in out


@pytest.mark.parametrize(
    "text",
    [
        "API key is invalid.",
        "Signature for this request is not valid.",
        "Order price lower than the minimum. (code 170133)",
        "intent 4f3a2b1c9d8e7f6a5b4c3d2e1f0a9b8c is already journaled",  # uuid4().hex ids
        "order 550e8400-e29b-41d4-a716-446655440000 not found",
        "HTTP 404: /api/v3/openOrderList/allOrderList/BTCUSDT not found",
        "qty=0.00100000 price=64250.10 symbol=BTCUSDT",
        "never acknowledged; not found at venue",
        "EAPI:Invalid nonce",
        "venues.okx.passphrase_env: environment variable OKX_PASS is not set",
        "venues.bybit.credentials_file: creds.json is readable by others",
        "missing api_key: required",
    ],
)
def test_ordinary_error_text_is_kept(text: str) -> None:
    assert scrub(text) == text


def test_the_rest_of_the_message_stays_readable() -> None:
    out = scrub("[bybit] error sign! origin_string[1700000000000KEY5000{}] (code 10004)")
    assert out == f"[bybit] error sign! origin_string[{MASK}] (code 10004)"
    page = f"<h1>502 Bad Gateway</h1><li>Host: 127.0.0.1</li><li>Authorization: Bearer {JWT}</li>"
    assert scrub(page) == (
        f"<h1>502 Bad Gateway</h1><li>Host: 127.0.0.1</li><li>Authorization: Bearer {MASK}</li>"
    )


def test_registration_is_deduplicated_and_bounded() -> None:
    for _ in range(10_000):  # the same credentials built again and again (config reloads)
        Credentials(api_key="the-api-key", secret="the-secret", passphrase="the-pass")
    assert redact.registered_count() == 3
    for i in range(redact.MAX_SECRETS + 500):
        register_secret(f"distinct-secret-{i:06d}")
    assert redact.registered_count() == redact.MAX_SECRETS
    newest = f"distinct-secret-{redact.MAX_SECRETS + 499:06d}"
    assert newest not in scrub(f"x {newest} y")


def test_short_and_empty_values_are_not_registered() -> None:
    for v in ("", None, "ab", MASK):
        register_secret(v)
    assert redact.registered_count() == 0
    assert scrub("ab cd") == "ab cd"


def test_errors_are_scrubbed_where_they_are_born() -> None:
    Credentials(api_key="AKIAkey0123456789", secret="s3cr3t-value-xyz")
    exc = AuthError("bad key AKIAkey0123456789 signed with s3cr3t-value-xyz", venue="binance",
                    code="origin_string[AKIAkey0123456789]")
    for text in (str(exc), repr(exc), exc.message, *map(str, exc.args)):
        assert "AKIAkey0123456789" not in text and "s3cr3t-value-xyz" not in text
    assert str(exc).startswith("[binance] bad key ")
    limited = RateLimited(f"HTTP 429 for Bearer {JWT}", venue="okx", retry_after=1.0)
    assert JWT[:40] not in f"{limited} {limited!r}" and limited.retry_after == 1.0
    exc.message = "reassigned with s3cr3t-value-xyz"
    assert "s3cr3t-value-xyz" not in str(exc)


class _Hostile:
    def __str__(self) -> str:
        raise RuntimeError("no")


def test_scrub_never_raises() -> None:
    assert scrub(_Hostile()) == MASK
    assert scrub(12) == "12"
    assert ServerError(_Hostile()).message == MASK  # type: ignore[arg-type]


@given(st.text())
def test_any_text_scrubs_to_text(text: str) -> None:
    out = scrub(text)
    assert isinstance(out, str)


_SECRET = st.text(min_size=redact.MIN_SECRET_LEN, max_size=40).filter(lambda s: s != MASK)


@given(secret=_SECRET, before=st.text(max_size=60), after=st.text(max_size=60),
       copies=st.integers(min_value=1, max_value=3))
def test_a_registered_secret_never_survives(secret: str, before: str, after: str,
                                            copies: int) -> None:
    clear_secrets()
    register_secret(secret)
    text = before + (secret + after) * copies
    assert secret not in scrub(text)
    assert secret not in str(AuthError(text, venue="x"))


@given(secret=st.text(alphabet="0123456789abcdefABCDEF+/=_-", min_size=8, max_size=64),
       junk=st.text(max_size=40))
def test_registered_secret_inside_credential_shapes(secret: str, junk: str) -> None:
    clear_secrets()
    register_secret(secret)
    for text in (f"origin_string[{junk}{secret}", f"X-BAPI-SIGN: {secret}{junk}",
                 f"Bearer {junk}{secret}", f"{junk}{secret}{junk}"):
        assert secret not in scrub(text)
