"""The Kraken skin over raw HTTP/WS: auth and nonce, envelopes, counters, WS v2 protocol."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import time
import zlib
from collections.abc import AsyncIterator
from decimal import Decimal as D
from typing import Any
from urllib.parse import urlencode

import aiohttp
import orjson
import pytest

from gapless.sim.cluster import RunningSim, start_venue_sim

_nonces = itertools.count(int(time.time() * 1000))


@pytest.fixture
async def ksim() -> AsyncIterator[RunningSim]:
    s = await start_venue_sim("kraken", host="127.0.0.1", port=0, seed=1, tick_interval=0)
    try:
        yield s
    finally:
        await s.stop()


def sign(secret: str, path: str, nonce: str, body: bytes) -> str:
    msg = path.encode() + hashlib.sha256(nonce.encode() + body).digest()
    return base64.b64encode(hmac.new(base64.b64decode(secret), msg, hashlib.sha512).digest()).decode()


async def private(http: aiohttp.ClientSession, sim: RunningSim, method: str,
                  params: dict[str, str] | None = None, *, nonce: int | None = None,
                  key: str | None = None) -> tuple[int, Any]:
    n = str(nonce if nonce is not None else next(_nonces))
    body = urlencode({"nonce": n, **(params or {})}).encode()
    path = f"/0/private/{method}"
    headers = {"API-Key": key or sim.api_key, "API-Sign": sign(sim.secret, path, n, body),
               "Content-Type": "application/x-www-form-urlencoded"}
    async with http.post(sim.rest_url + path, data=body, headers=headers) as r:
        return r.status, orjson.loads(await r.read())


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


async def test_auth_nonce_and_envelopes(ksim: RunningSim, http: aiohttp.ClientSession) -> None:
    st, body = await private(http, ksim, "Balance", nonce=5)
    assert st == 200 and body["error"] == [] and body["result"]["XXBT"].startswith("100")
    assert (await private(http, ksim, "Balance", nonce=5))[1] == {"error": ["EAPI:Invalid nonce"]}
    assert (await private(http, ksim, "Balance", key="other"))[1]["error"] == ["EAPI:Invalid key"]
    n = str(next(_nonces))
    async with http.post(ksim.rest_url + "/0/private/Balance", data=f"nonce={n}",
                         headers={"API-Key": ksim.api_key, "API-Sign": "AAAA"}) as r:
        assert (await r.json())["error"] == ["EAPI:Invalid signature"]
    async with http.get(ksim.rest_url + "/0/public/Depth?pair=NOPE") as r:
        assert (await r.json())["error"] == ["EQuery:Unknown asset pair"]
    ksim.faults.outage = "503"
    async with http.get(ksim.rest_url + "/0/public/Time") as r:
        assert r.status == 503 and (await r.json())["error"] == ["EService:Unavailable"]
    ksim.faults.outage = None


async def test_orders_by_cl_ord_id_and_userref(ksim: RunningSim, http: aiohttp.ClientSession) -> None:
    base = {"pair": "XBTUSD", "type": "buy", "ordertype": "limit", "price": "50000.0",
            "volume": "0.01"}
    _, r = await private(http, ksim, "AddOrder", {**base, "cl_ord_id": "c1", "userref": "3"})
    assert r["error"] == ["EGeneral:Invalid arguments:cl_ord_id"]
    _, r = await private(http, ksim, "AddOrder", {**base, "cl_ord_id": "x" * 19})
    assert r["error"] == ["EGeneral:Invalid arguments:cl_ord_id"]
    _, r = await private(http, ksim, "AddOrder", {**base, "price": "50000.05"})
    assert r["error"][0].startswith("EOrder:Invalid price")
    _, r = await private(http, ksim, "AddOrder", {**base, "timeinforce": "FOK"})
    assert r["error"] == ["EGeneral:Invalid arguments:timeinforce"]
    _, r = await private(http, ksim, "AddOrder", {**base, "price": "70000.0", "oflags": "post"})
    assert r["error"] == ["EOrder:Post only order"]
    _, r = await private(http, ksim, "AddOrder", {**base, "cl_ord_id": "c1"})
    assert r["result"]["descr"]["order"] == "buy 0.01000000 XBTUSD @ limit 50000.0"
    (txid,) = r["result"]["txid"]
    _, r = await private(http, ksim, "AddOrder", {**base, "userref": "42", "validate": "True"})
    assert "txid" not in r["result"] and len(ksim.exchange.open_orders()) == 1
    _, r = await private(http, ksim, "OpenOrders", {"cl_ord_id": "c1"})
    assert list(r["result"]["open"]) == [txid]
    _, r = await private(http, ksim, "CancelOrder", {"cl_ord_id": "c1"})
    assert r["result"]["count"] == 1
    _, r = await private(http, ksim, "CancelOrder", {"txid": txid})
    assert r["error"] == ["EOrder:Unknown order"]
    _, r = await private(http, ksim, "QueryOrders", {"txid": txid, "trades": "true"})
    assert r["result"][txid]["status"] == "canceled" and r["result"][txid]["cl_ord_id"] == "c1"
    _, r = await private(http, ksim, "ClosedOrders", {"cl_ord_id": "c1"})
    assert r["result"]["count"] == 1


async def test_trading_counter_per_pair(ksim: RunningSim, http: aiohttp.ClientSession) -> None:
    ksim.faults.order_limit_10s = 3
    base = {"type": "buy", "ordertype": "limit", "volume": "0.01"}
    errs = []
    for _ in range(4):
        _, r = await private(http, ksim, "AddOrder", {**base, "pair": "XBTUSD", "price": "50000.0"})
        errs.append(r["error"])
    assert errs[:3] == [[], [], []] and errs[3] == ["EOrder:Rate limit exceeded"]
    _, r = await private(http, ksim, "AddOrder", {**base, "pair": "ETHUSD", "price": "2000.00"})
    assert r["error"] == []  # a different pair has its own counter
    ksim.faults.weight_limit = 2
    results = [(await private(http, ksim, "Balance"))[1]["error"] for _ in range(3)]
    assert results[-1] == ["EAPI:Rate limit exceeded"]


def _crc(book: dict[str, dict[D, D]]) -> int:
    def part(v: D, dp: int) -> str:
        return f"{v.quantize(D(1).scaleb(-dp)):f}".replace(".", "").lstrip("0")
    asks = sorted(book["asks"].items())[:10]
    bids = sorted(book["bids"].items(), reverse=True)[:10]
    s = "".join(part(p, 1) + part(q, 8) for p, q in asks + bids)
    return zlib.crc32(s.encode())


async def test_ws_v2_protocol(ksim: RunningSim, http: aiohttp.ClientSession) -> None:
    async with http.ws_connect(ksim.ws_url + "/v2") as ws:
        status = orjson.loads((await ws.receive()).data)
        assert status["channel"] == "status" and status["data"][0]["api_version"] == "v2"
        await ws.send_str('{"method":"ping","req_id":7}')
        pong = orjson.loads((await ws.receive()).data)
        assert pong["method"] == "pong" and pong["req_id"] == 7
        await ws.send_json({"method": "subscribe", "params": {"channel": "executions",
                                                              "token": "bogus"}, "req_id": 1})
        ack = orjson.loads((await ws.receive()).data)
        assert ack["success"] is False and ack["req_id"] == 1
        await ws.send_json({"method": "subscribe", "params": {"channel": "book",
                                                              "symbol": ["BTC/USD"], "depth": 10}})
        ack = orjson.loads((await ws.receive()).data)
        assert ack["success"] and ack["result"]["symbol"] == "BTC/USD"
        raw = (await ws.receive()).data
        snap = orjson.loads(raw)
        assert snap["type"] == "snapshot" and b'"price":"' not in raw.encode()  # JSON numbers
        data = snap["data"][0]
        book = {side: {D(str(lv["price"])): D(str(lv["qty"])) for lv in data[side]}
                for side in ("bids", "asks")}
        assert _crc(book) == data["checksum"]
        # an order at a new best bid arrives as an update with a matching checksum
        bid = max(book["bids"])
        _, r = await private(http, ksim, "AddOrder", {"pair": "XBTUSD", "type": "buy",
                                                      "ordertype": "limit", "volume": "0.5",
                                                      "price": f"{bid + D('0.1')}"})
        assert r["error"] == []
        while True:
            msg = orjson.loads((await asyncio.wait_for(ws.receive(), 5)).data)
            if msg.get("channel") == "book" and msg["type"] == "update":
                break
        for side in ("bids", "asks"):
            for lv in msg["data"][0][side]:
                p, q = D(str(lv["price"])), D(str(lv["qty"]))
                if q:
                    book[side][p] = q
                else:
                    book[side].pop(p, None)
        book = {"bids": dict(sorted(book["bids"].items(), reverse=True)[:10]),
                "asks": dict(sorted(book["asks"].items())[:10])}
        assert _crc(book) == msg["data"][0]["checksum"]
        assert book["bids"][bid + D("0.1")] == D("0.5")
        # heartbeat once per second while subscribed and idle
        for _ in range(5):
            m = orjson.loads((await asyncio.wait_for(ws.receive(), 3)).data)
            if m.get("channel") == "heartbeat":
                break
        else:
            pytest.fail("no heartbeat")


async def test_ws_executions_and_admin(ksim: RunningSim, http: aiohttp.ClientSession) -> None:
    _, r = await private(http, ksim, "GetWebSocketsToken")
    token = r["result"]["token"]
    async with http.ws_connect(ksim.ws_url + "/v2") as ws:
        await ws.receive()  # status
        await ws.send_json({"method": "subscribe", "params": {"channel": "executions",
                                                              "token": token}})
        assert orjson.loads((await ws.receive()).data)["success"]
        assert orjson.loads((await ws.receive()).data)["type"] == "snapshot"
        _, r = await private(http, ksim, "AddOrder", {"pair": "XBTUSD", "type": "buy",
                                                      "ordertype": "market", "volume": "0.01",
                                                      "cl_ord_id": "mkt-1"})
        (txid,) = r["result"]["txid"]
        kinds = []
        while "filled" not in kinds:
            m = orjson.loads((await asyncio.wait_for(ws.receive(), 5)).data)
            if m.get("channel") != "executions":
                continue
            for e in m["data"]:
                assert e["order_id"] == txid and e["cl_ord_id"] == "mkt-1"
                kinds.append(e["order_status"])
                if e["exec_type"] == "trade":
                    assert e["last_qty"] > 0 and e["fees"][0]["asset"] == "BTC"
        assert kinds[0] == "new"
    async with http.get(ksim.rest_url + "/__sim/state") as resp:
        state = await resp.json()
    assert state["venue"] == "kraken" and state["orders"][0]["client_id"] == "mkt-1"


async def test_an_overtaken_add_order_is_refused_and_creates_nothing(
        ksim: RunningSim, http: aiohttp.ClientSession) -> None:
    """The nonce rule judged at arrival: a create signed before a query that the venue has
    already answered arrives with a lower nonce, is refused, and no order exists."""
    early, late = next(_nonces), next(_nonces)
    assert (await private(http, ksim, "OpenOrders", nonce=late))[1]["error"] == []
    order = {"pair": "XBTUSD", "type": "buy", "ordertype": "limit", "price": "50000.0",
             "volume": "0.01", "cl_ord_id": "overtaken"}
    assert (await private(http, ksim, "AddOrder", order, nonce=early))[1] == {
        "error": ["EAPI:Invalid nonce"]}
    assert ksim.exchange.user_orders() == []
    # equal to the last accepted one is refused too (no nonce window by default)
    assert (await private(http, ksim, "AddOrder", order, nonce=late))[1]["error"] == [
        "EAPI:Invalid nonce"]
    assert ksim.exchange.user_orders() == []


async def test_a_nonce_window_lets_a_lower_nonce_in_once(http: aiohttp.ClientSession) -> None:
    s = await start_venue_sim("kraken", host="127.0.0.1", port=0, seed=1, tick_interval=0,
                              nonce_window=100)
    try:
        assert (await private(http, s, "Balance", nonce=1000))[1]["error"] == []
        assert (await private(http, s, "Balance", nonce=950))[1]["error"] == []  # in the window
        assert (await private(http, s, "Balance", nonce=950))[1]["error"] == [
            "EAPI:Invalid nonce"]  # but never twice
        assert (await private(http, s, "Balance", nonce=1000))[1]["error"] == [
            "EAPI:Invalid nonce"]
        assert (await private(http, s, "Balance", nonce=900))[1]["error"] == [
            "EAPI:Invalid nonce"]  # below the window
        assert (await private(http, s, "Balance", nonce=1001))[1]["error"] == []
    finally:
        await s.stop()


def _rfc3339(unix_ms: int, *, fraction: bool = True) -> str:
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(unix_ms // 1000))
    return text + (f".{unix_ms % 1000:03d}Z" if fraction else "Z")


async def test_add_order_deadline_is_judged_on_arrival_and_a_refusal_creates_nothing(
        ksim: RunningSim, http: aiohttp.ClientSession) -> None:
    """``deadline`` (docs: min now() + 2 s, max now() + 60 s) on the venue's clock: passed
    -> ``EService:Deadline elapsed``; too close, too far or unreadable -> an invalid
    argument; no order either way. Inside the range, or absent, the order is placed."""
    ksim.exchange.faults.clock_skew_ms = -3_600_000  # the venue's clock, not ours, decides
    now = ksim.exchange.time_ms()
    order = {"pair": "XBTUSD", "type": "buy", "ordertype": "limit", "price": "50000.0",
             "volume": "0.01"}
    refused = [
        (_rfc3339(now - 1000), "EService:Deadline elapsed"),
        (_rfc3339(now + 10_000 + 3_600_000), "EGeneral:Invalid arguments:deadline"),  # our clock
        (_rfc3339(now + 500), "EGeneral:Invalid arguments:deadline"),
        (_rfc3339(now + 61_000), "EGeneral:Invalid arguments:deadline"),
        ("tomorrow", "EGeneral:Invalid arguments:deadline"),
    ]
    for i, (deadline, error) in enumerate(refused):
        _, r = await private(http, ksim, "AddOrder",
                             {**order, "cl_ord_id": f"late-{i}", "deadline": deadline})
        assert r == {"error": [error]}, deadline
    assert ksim.exchange.user_orders() == []
    placed = [_rfc3339(now + 10_000), _rfc3339(now + 30_000, fraction=False),
              _rfc3339(now + 10_000).replace("Z", "+00:00"), None]
    for i, deadline in enumerate(placed):
        params = {**order, "cl_ord_id": f"in-time-{i}"}
        if deadline is not None:
            params["deadline"] = deadline
        _, r = await private(http, ksim, "AddOrder", params)
        assert r["error"] == [] and len(r["result"]["txid"]) == 1, deadline
    assert len(ksim.exchange.user_orders()) == 4
