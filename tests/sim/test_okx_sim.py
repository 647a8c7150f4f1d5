"""OKX simulator over raw sockets: auth, envelopes, batch codes, post-only, limits, WS."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from gapless.sim.cluster import RunningSim, start_venue_sim


def _iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


def _sign(secret: str, prehash: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), prehash.encode(), hashlib.sha256).digest()).decode()


@pytest.fixture
async def okx() -> AsyncIterator[RunningSim]:
    s = await start_venue_sim("okx", host="127.0.0.1", port=0, seed=1, tick_interval=0,
                              idle_timeout=0.6, book_heartbeat=0.3)
    try:
        yield s
    finally:
        await s.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


async def call(http: aiohttp.ClientSession, sim: RunningSim, method: str, path: str,
               body: Any = None, *, secret: str | None = None, key: str | None = None,
               passphrase: str | None = None, ts_ms: int | None = None,
               drop: tuple[str, ...] = (), extra: dict[str, str] | None = None) -> tuple[int, Any]:
    raw = json.dumps(body) if body is not None else ""
    ts = _iso(ts_ms if ts_ms is not None else int(time.time() * 1000))
    headers = {
        "OK-ACCESS-KEY": key if key is not None else sim.api_key,
        "OK-ACCESS-PASSPHRASE": passphrase if passphrase is not None else sim.passphrase,
        "OK-ACCESS-TIMESTAMP": ts,
        "OK-ACCESS-SIGN": _sign(secret or sim.secret, ts + method + path + raw),
        "Content-Type": "application/json",
        "x-simulated-trading": "1",
    }
    for h in drop:
        headers.pop(h)
    headers.update(extra or {})
    async with http.request(method, sim.rest_url + path, data=raw or None, headers=headers) as r:
        return r.status, await r.json()


async def test_auth_errors(okx: RunningSim, http: aiohttp.ClientSession) -> None:
    p = "/api/v5/account/balance"
    assert (await call(http, okx, "GET", p))[1]["code"] == "0"
    status, one = await call(http, okx, "GET", p + "?ccy=BTC")  # the query string is signed
    assert status == 200 and [d["ccy"] for d in one["data"][0]["details"]] == ["BTC"]
    cases = [
        ({"secret": "0" * 32}, "50113"), ({"key": "nope"}, "50111"),
        ({"passphrase": "bad"}, "50105"), ({"ts_ms": int(time.time() * 1000) - 60_000}, "50102"),
        ({"drop": ("OK-ACCESS-KEY",)}, "50103"), ({"drop": ("OK-ACCESS-SIGN",)}, "50106"),
        ({"drop": ("OK-ACCESS-TIMESTAMP",)}, "50107"),
        ({"drop": ("OK-ACCESS-PASSPHRASE",)}, "50104"),
    ]
    for kw, code in cases:
        status, body = await call(http, okx, "GET", p, **kw)
        assert (status, body["code"], body["data"]) == (401, code, []), kw
    okx.faults.clock_skew_ms = 45_000
    assert (await call(http, okx, "GET", p))[1]["code"] == "50102"


async def test_orders_batch_post_only_and_limits(okx: RunningSim, http: aiohttp.ClientSession) -> None:
    ex = okx.exchange
    (bid, _), (ask, _) = ex.best_bid_ask("BTC/USDT")  # type: ignore[misc]
    good = {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "limit",
            "px": str(bid - 100), "sz": "0.001", "clOrdId": "a1"}
    bad = {**good, "clOrdId": "a2", "sz": "500000"}
    status, body = await call(http, okx, "POST", "/api/v5/trade/batch-orders", [good, bad])
    assert status == 200 and body["code"] == "2"
    assert [d["sCode"] for d in body["data"]] == ["0", "51201"]
    _, dup = await call(http, okx, "POST", "/api/v5/trade/order", good)
    assert dup["code"] == "1" and dup["data"][0]["sCode"] == "51016"
    _, q = await call(http, okx, "GET", "/api/v5/trade/order?instId=BTC-USDT&clOrdId=a1")
    assert q["data"][0]["state"] == "live" and q["data"][0]["clOrdId"] == "a1"
    _, nf = await call(http, okx, "GET", "/api/v5/trade/order?instId=BTC-USDT&clOrdId=zz")
    assert nf == {"code": "51603", "msg": "Order does not exist", "data": []}
    _, noinst = await call(http, okx, "GET", "/api/v5/trade/order?instId=NOPE-USDT&clOrdId=zz")
    assert noinst["code"] == "51001"

    # post-only that would cross: accepted, then cancelled by the venue (cancelSource 31)
    po = {**good, "clOrdId": "p1", "ordType": "post_only", "px": str(ask + 10)}
    _, ack = await call(http, okx, "POST", "/api/v5/trade/order", po)
    assert ack["code"] == "0" and ack["data"][0]["sCode"] == "0"
    _, q = await call(http, okx, "GET", "/api/v5/trade/order?instId=BTC-USDT&clOrdId=p1")
    assert q["data"][0]["state"] == "canceled" and q["data"][0]["cancelSource"] == "31"
    assert ex.account().locked["USDT"] == (bid - 100) * Decimal("0.001")
    assert len(ex.open_orders(symbol="BTC/USDT")) == 1

    _, c = await call(http, okx, "POST", "/api/v5/trade/cancel-order",
                      {"instId": "BTC-USDT", "clOrdId": "a1"})
    assert c["code"] == "0" and c["data"][0]["sCode"] == "0"
    _, c = await call(http, okx, "POST", "/api/v5/trade/cancel-order",
                      {"instId": "BTC-USDT", "clOrdId": "a1"})
    assert c["code"] == "1" and c["data"][0]["sCode"] == "51400"

    okx.faults.order_limit_10s = 1
    await call(http, okx, "POST", "/api/v5/trade/order", {**good, "clOrdId": "r1"})
    status, rl = await call(http, okx, "POST", "/api/v5/trade/order", {**good, "clOrdId": "r2"})
    assert (status, rl["code"]) in ((429, "50011"), (200, "0"))  # window may roll over once
    okx.faults.order_limit_10s = None
    okx.faults.weight_limit = 0
    async with http.get(okx.rest_url + "/api/v5/public/time") as r:
        assert r.status == 429 and (await r.json())["code"] == "50011"


async def test_exp_time_is_enforced_on_arrival(okx: RunningSim, http: aiohttp.ClientSession) -> None:
    """A place whose ``expTime`` passed before it arrived is not processed (sCode 50036);
    one still within it is placed; a malformed expTime is a parameter error."""
    ex = okx.exchange
    (bid, _), _ = ex.best_bid_ask("BTC/USDT")  # type: ignore[misc]
    one = {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "limit",
           "px": str(bid - 100), "sz": "0.001", "clOrdId": "e1"}
    now = ex.time_ms()
    past = {"expTime": str(now - 1)}
    status, body = await call(http, okx, "POST", "/api/v5/trade/order", one, extra=past)
    assert (status, body["code"], body["msg"]) == (200, "1", "All operations failed")
    assert body["data"][0]["sCode"] == "50036" and body["data"][0]["ordId"] == ""
    batch = [{**one, "clOrdId": "e2"}, {**one, "clOrdId": "e3"}]
    _, body = await call(http, okx, "POST", "/api/v5/trade/batch-orders", batch, extra=past)
    assert body["code"] == "1" and [d["sCode"] for d in body["data"]] == ["50036", "50036"]
    assert not ex.user_orders()  # nothing was placed
    for bad in ("soon", "-5", "1.5"):
        status, body = await call(http, okx, "POST", "/api/v5/trade/order", one,
                                  extra={"expTime": bad})
        assert (status, body["code"]) == (400, "51000"), bad
    assert not ex.user_orders()
    future = {"expTime": str(ex.time_ms() + 5_000)}
    _, body = await call(http, okx, "POST", "/api/v5/trade/order", one, extra=future)
    assert body["code"] == "0" and body["data"][0]["sCode"] == "0"
    assert [o.client_id for o in ex.user_orders()] == ["e1"]


async def test_public_ws_books_ping_heartbeat_idle(okx: RunningSim, http: aiohttp.ClientSession) -> None:
    async with http.ws_connect(okx.ws_url + "/ws/v5/public") as ws:
        await ws.send_str("ping")
        assert await ws.receive_str(timeout=2) == "pong"
        await ws.send_json({"op": "subscribe", "args": [{"channel": "books", "instId": "BTC-USDT"}]})
        ev = json.loads(await ws.receive_str(timeout=2))
        assert ev["event"] == "subscribe" and ev["arg"]["instId"] == "BTC-USDT"
        snap = json.loads(await ws.receive_str(timeout=2))
        d = snap["data"][0]
        assert snap["action"] == "snapshot" and d["prevSeqId"] == -1 and d["checksum"] == 0
        assert len(d["bids"][0]) == 4
        hb = json.loads(await ws.receive_str(timeout=2))  # idle book heartbeat
        h = hb["data"][0]
        assert hb["action"] == "update" and h["prevSeqId"] == h["seqId"] == d["seqId"]
        assert h["bids"] == [] and h["asks"] == []
        await ws.send_json({"op": "subscribe", "args": [{"channel": "books", "instId": "X-Y"}]})
        err = json.loads(await ws.receive_str(timeout=2))
        assert err["event"] == "error" and err["code"] == "60018"
    # no subscription and nothing pushed: the venue hangs up (close code 4004)
    async with http.ws_connect(okx.ws_url + "/ws/v5/public") as ws:
        msg = await ws.receive(timeout=3)
        assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert ws.close_code == 4004


async def test_private_ws_login(okx: RunningSim, http: aiohttp.ClientSession) -> None:
    async with http.ws_connect(okx.ws_url + "/ws/v5/private") as ws:
        await ws.send_json({"op": "subscribe", "args": [{"channel": "orders", "instType": "SPOT"}]})
        assert json.loads(await ws.receive_str(timeout=2))["code"] == "60011"
        ts = str(int(time.time()))
        login = {"apiKey": okx.api_key, "passphrase": okx.passphrase, "timestamp": ts,
                 "sign": _sign("0" * 32, ts + "GET/users/self/verify")}
        await ws.send_json({"op": "login", "args": [login]})
        assert json.loads(await ws.receive_str(timeout=2))["code"] == "60007"
        login["sign"] = _sign(okx.secret, ts + "GET/users/self/verify")
        await ws.send_json({"op": "login", "args": [login]})
        ok = json.loads(await ws.receive_str(timeout=2))
        assert ok["event"] == "login" and ok["code"] == "0"
        await ws.send_json({"op": "subscribe", "args": [{"channel": "orders", "instType": "SPOT"}]})
        assert json.loads(await ws.receive_str(timeout=2))["event"] == "subscribe"
        (bid, _), _ = okx.exchange.best_bid_ask("BTC/USDT")  # type: ignore[misc]
        await call(http, okx, "POST", "/api/v5/trade/order", {
            "instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "limit",
            "px": str(bid - 50), "sz": "0.001", "clOrdId": "w1"})
        push = json.loads(await ws.receive_str(timeout=2))
        assert push["arg"]["channel"] == "orders"
        assert push["data"][0]["clOrdId"] == "w1" and push["data"][0]["state"] == "live"
    await asyncio.sleep(0)
