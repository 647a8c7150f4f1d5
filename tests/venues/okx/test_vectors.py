"""Documented OKX vectors (venue notes §1): book checksums O1/O2 (official examples) and the
derived REST/WS signature vectors D1-D3, checked against both the adapter and the simulator
(which share no code)."""

from __future__ import annotations

import pytest

from gapless.sim.okx import auth as sim_auth
from gapless.sim.okx import wire as sim_wire
from gapless.venues.okx.auth import Signer, iso_ms, rest_prehash, sign
from gapless.venues.okx.book import checksum_of

SECRET = "22582BD0CFF14C41EDBF1AB98506286D"
TS = "2020-12-08T09:08:57.715Z"
D2_BODY = ('{"instId":"BTC-USDT","tdMode":"cash","clOrdId":"b15","side":"buy",'
           '"ordType":"limit","px":"2.15","sz":"2"}')

SIGNATURES = [
    ("D1", f"{TS}GET/api/v5/account/balance?ccy=BTC", "HiZhvSfMtWJA3uUIVXV3a/bSXNPCWvYFXoGCVS8V4zY="),
    ("D2", f"{TS}POST/api/v5/trade/order{D2_BODY}", "dI6rrL9rXW/HdaPKJ/6LC1OgvH4/PYju6R3CqixMTNQ="),
    ("D3", "1704876947GET/users/self/verify", "5/36BgGV6m/6pmdc20zdqk0mzF5ZalmzzPD2fo3wavU="),
]


@pytest.mark.parametrize(("name", "prehash", "expected"), SIGNATURES)
def test_signature_vectors(name: str, prehash: str, expected: str) -> None:
    assert sign(SECRET, prehash) == expected
    assert Signer("k", SECRET, "p").sign(prehash) == expected
    assert sim_auth.sign(SECRET, prehash) == expected
    assert sim_auth.verify(SECRET, prehash, expected)


def test_prehash_and_headers_build_d1_d2() -> None:
    assert rest_prehash(TS, "GET", "/api/v5/account/balance?ccy=BTC") == SIGNATURES[0][1]
    assert rest_prehash(TS, "post", "/api/v5/trade/order", D2_BODY) == SIGNATURES[1][1]
    h = Signer("key", SECRET, "pass").headers(TS, "POST", "/api/v5/trade/order", D2_BODY)
    assert h["OK-ACCESS-SIGN"] == SIGNATURES[1][2]
    assert h["OK-ACCESS-TIMESTAMP"] == TS and h["OK-ACCESS-KEY"] == "key"
    assert h["OK-ACCESS-PASSPHRASE"] == "pass" and "x-simulated-trading" not in h
    assert Signer("k", SECRET, "p", demo=True).headers(TS, "GET", "/x")["x-simulated-trading"] == "1"


def test_ws_login_d3() -> None:
    msg = Signer("key", SECRET, "pass").ws_login("1704876947")
    assert msg["op"] == "login"
    arg = msg["args"][0]  # type: ignore[index]
    assert arg["sign"] == SIGNATURES[2][2] and arg["timestamp"] == "1704876947"


def test_iso_timestamp() -> None:
    assert iso_ms(1607418537.715) == TS
    assert sim_auth.parse_iso_ms(TS) == 1607418537715
    assert sim_auth.parse_iso_ms("2020-12-08 09:08:57") is None


CHECKSUMS = [
    ("O1", [("3366.1", "7"), ("3366", "6")], [("3366.8", "9"), ("3368", "8")], -1881014294),
    ("O2", [("3366.1", "7")], [("3366.8", "9"), ("3368", "8"), ("3372", "8")], 831078360),
]


@pytest.mark.parametrize(("name", "bids", "asks", "expected"), CHECKSUMS)
def test_book_checksum_vectors(
    name: str, bids: list[tuple[str, str]], asks: list[tuple[str, str]], expected: int
) -> None:
    assert checksum_of(bids, asks) == expected
    as_levels = [[p, q, "0", "1"] for p, q in bids], [[p, q, "0", "1"] for p, q in asks]
    assert sim_wire.checksum(*as_levels) == expected
