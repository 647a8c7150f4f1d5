"""Secrets never reach log output (structlog and stdlib records, JSON and console)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import orjson
import pytest
import structlog

from gapless.obs.logging import (
    MASK,
    clear_secrets,
    configure_logging,
    get_logger,
    register_secret,
    scrub_text,
)

SECRET = "sEcReT-9f8e7d6c5b4a"
KEY = "AKIAkey0123456789"


@pytest.fixture(autouse=True)
def _reset() -> Iterator[None]:
    clear_secrets()
    yield
    clear_secrets()
    for h in list(logging.getLogger().handlers):
        if getattr(h, "_gapless", False):
            logging.getLogger().removeHandler(h)
    structlog.reset_defaults()


class Creds:
    def __repr__(self) -> str:
        return f"Creds(key={KEY}, secret={SECRET})"


def _emit_everything() -> None:
    log = get_logger("gapless.test")
    log.info("signing with " + SECRET, venue="binance")
    log.info("headers", headers={"X-MBX-APIKEY": KEY, "Accept": "json"})
    log.info("nested", payload={"list": [f"a{SECRET}b", {"deep": KEY}]}, obj=Creds())
    log.info(
        "keys",
        api_key="plain-looking",
        secret="x",
        passphrase="pp-value",
        signature="sig-value",
        token="tok-value",
        authorization="Bearer abc",
    )
    try:
        raise RuntimeError(f"bad secret {SECRET}")
    except RuntimeError:
        log.exception("boom")
    logging.getLogger("aiohttp.client").warning("stdlib says %s and %s", SECRET, KEY)
    try:
        raise ValueError(KEY)
    except ValueError:
        logging.getLogger("other").exception("stdlib exc")


@pytest.mark.parametrize("json", [True, False])
def test_secrets_never_reach_output(json: bool) -> None:
    buf = io.StringIO()
    configure_logging("DEBUG", json=json, stream=buf)
    register_secret(SECRET)
    register_secret(KEY)
    _emit_everything()
    out = buf.getvalue()
    assert out.count("\n") >= 7
    assert SECRET not in out
    assert KEY not in out
    for leaked in ("plain-looking", "Bearer abc", "tok-value", "sig-value", "pp-value"):
        assert leaked not in out
    assert MASK in out
    assert "signing with" in out and "stdlib says" in out  # the rest is still logged


def test_json_lines_parse_and_mask_keys() -> None:
    buf = io.StringIO()
    configure_logging("INFO", json=True, stream=buf)
    get_logger("t").info("order", api_key="abcd", qty="1.5", symbol="BTC/USDT")
    line = orjson.loads(buf.getvalue().splitlines()[-1])
    assert line["api_key"] == MASK
    assert line["qty"] == "1.5" and line["symbol"] == "BTC/USDT"
    assert line["level"] == "info" and line["event"] == "order"


def test_level_filters() -> None:
    buf = io.StringIO()
    configure_logging("WARNING", json=True, stream=buf)
    get_logger("t").info("hidden")
    get_logger("t").warning("shown")
    assert "hidden" not in buf.getvalue() and "shown" in buf.getvalue()


def test_register_secret_edge_cases() -> None:
    register_secret("")
    register_secret(None)
    register_secret("ab")  # too short to mask safely
    assert scrub_text("ab cd") == "ab cd"
    register_secret("abcd")
    register_secret("abcdefgh")  # longer secret containing a shorter one is masked whole
    assert scrub_text("x abcdefgh y abcd") == f"x {MASK} y {MASK}"


def test_reconfigure_does_not_duplicate_handlers() -> None:
    buf = io.StringIO()
    configure_logging("INFO", json=True, stream=buf)
    configure_logging("INFO", json=True, stream=buf)
    get_logger("t").info("once")
    assert buf.getvalue().count("once") == 1


JWT = ("eyJhbGciOiJFUzI1NiIsImtpZCI6Im9yZ2FuaXphdGlvbnMveCJ9"
       ".eyJzdWIiOiJvcmdhbml6YXRpb25zL3giLCJleHAiOjE3MDAwMDAwMDV9.MEUCIQDx7r3Q0cA1Pq9Zb2X")
PAGE = (f"<li>Authorization: Bearer {JWT}</li><li>X-BAPI-API-KEY: bybit-key-77</li>"
        "<li>X-BAPI-SIGN: 6ea853d75d57a542eaa60738fc8ded260b9f8eff7ee6bbdcd40e1c2a3b4c5d6e</li>"
        "<li>OK-ACCESS-PASSPHRASE: pp-77</li>")


@pytest.mark.parametrize("json", [True, False])
def test_an_error_carrying_echoed_credentials_logs_clean(json: bool) -> None:
    """Nothing registered: the shapes alone (bearer, JWT, key/sign/passphrase headers)."""
    from gapless.model.errors import ServerError

    buf = io.StringIO()
    configure_logging("INFO", json=json, stream=buf)
    exc = ServerError(f"HTTP 502: {PAGE}", venue="bybit", code=502)
    get_logger("gapless.test").warning("create failed", error=exc, text=str(exc))
    try:
        try:
            raise RuntimeError(f"transport said {PAGE}")
        except RuntimeError as inner:
            raise ServerError(f"wrapped {PAGE}") from inner
    except ServerError:
        logging.getLogger("gapless.engine").exception("create %s failed: %r", "i-1", exc)
    out = buf.getvalue()
    for leaked in (JWT[:20], "bybit-key-77", "6ea853d75d57a542", "pp-77"):
        assert leaked not in out
    assert "create failed" in out and "502" in out and MASK in out

