"""Bybit signing against the derived vectors D4-D6 (venues.md §1.5) and the simulator's checker."""

from __future__ import annotations

from gapless.sim.bybit import auth as sim_auth
from gapless.venues.bybit.auth import BybitSigner

KEY = SECRET = "XXXXXXXXXX"

D4 = ("1658384314791XXXXXXXXXX5000category=option&symbol=BTC-29JUL22-25000-C",
      "c00720f96c5934ca7057ac28ae65b823f83b8b67a8fe784e7795ca0fa3c148ec")
D5 = ('1658385579423XXXXXXXXXX5000{"category": "option"}',
      "fbb4648b585b3e62de2c4eaecc8f3b6066aa18e98cc300eaff4d87f15b55724a")
D6 = ("GET/realtime1662350400000",
      "3d6cbbfa4569aab894f661add824ff3f06090d0edba388f1e47dc15e6a7b5a8b")


def test_d4_get_query_string() -> None:
    s = BybitSigner(KEY, SECRET, 5000)
    assert s.rest_signature(1658384314791, "category=option&symbol=BTC-29JUL22-25000-C") == D4[1]
    h = s.headers(1658384314791, "category=option&symbol=BTC-29JUL22-25000-C")
    assert h == {"X-BAPI-API-KEY": KEY, "X-BAPI-TIMESTAMP": "1658384314791",
                 "X-BAPI-RECV-WINDOW": "5000", "X-BAPI-SIGN": D4[1]}


def test_d5_post_raw_body() -> None:
    s = BybitSigner(KEY, SECRET, 5000)
    assert s.rest_signature(1658385579423, '{"category": "option"}') == D5[1]
    assert s.headers(1658385579423, "{}", json_body=True)["Content-Type"] == "application/json"


def test_d6_ws_auth() -> None:
    s = BybitSigner(KEY, SECRET)
    assert s.ws_auth_args(1662350400000) == [KEY, 1662350400000, D6[1]]


def test_simulator_checker_agrees() -> None:
    for prehash, sig in (D4, D5, D6):
        assert sim_auth.sign(SECRET, prehash) == sig
        assert sim_auth.verify(SECRET, prehash, sig.upper())
        assert not sim_auth.verify(SECRET, prehash + " ", sig)
    assert sim_auth.rest_prehash("1658384314791", KEY, "5000",
                                 "category=option&symbol=BTC-29JUL22-25000-C") == D4[0]
    assert sim_auth.ws_prehash(1662350400000) == D6[0]
