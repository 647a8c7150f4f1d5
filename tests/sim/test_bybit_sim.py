"""Bybit skin over raw HTTP/WS: auth checks, envelope codes, limits, faults, WS protocol."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from decimal import Decimal as D
from typing import Any

import aiohttp
import pytest

from gapless.sim.bybit import auth
from gapless.sim.cluster import RunningSim, start_venue_sim


@pytest.fixture
async def bybit_sim() -> AsyncIterator[RunningSim]:
    s = await start_venue_sim("bybit", host="127.0.0.1", port=0, seed=1, tick_interval=0)
    try:
        yield s
    finally:
        await s.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def signed(sim: RunningSim, payload: str, *, ts: int | None = None, secret: str | None = None,
           key: str | None = None, recv: str = "5000") -> dict[str, str]:
    t = str(ts if ts is not None else int(time.time() * 1000))
    k = key or sim.api_key
    return {"X-BAPI-API-KEY": k, "X-BAPI-TIMESTAMP": t, "X-BAPI-RECV-WINDOW": recv,
            "X-BAPI-SIGN": auth.sign(secret or sim.secret, t + k + recv + payload),
            "Content-Type": "application/json"}


async def get(http: aiohttp.ClientSession, sim: RunningSim, path: str, query: str,
              **kw: Any) -> tuple[dict[str, Any], Any]:
    async with http.get(f"{sim.rest_url}{path}?{query}", headers=signed(sim, query, **kw)) as r:
        assert r.status == 200
        return await r.json(), r.headers


async def post(http: aiohttp.ClientSession, sim: RunningSim, path: str, body: dict[str, Any],
               **kw: Any) -> tuple[dict[str, Any], Any]:
    raw = json.dumps(body)  # pybit style, with spaces: signed as sent
    async with http.post(f"{sim.rest_url}{path}", data=raw, headers=signed(sim, raw, **kw)) as r:
        assert r.status == 200
        return await r.json(), r.headers


async def test_auth_failures(bybit_sim: RunningSim, http: aiohttp.ClientSession) -> None:
    q = "accountType=UNIFIED"
    ok, headers = await get(http, bybit_sim, "/v5/account/wallet-balance", q)
    assert ok["retCode"] == 0 and ok["retMsg"] == "OK" and "retExtInfo" in ok
    assert headers["X-Bapi-Limit"] == "50" and int(headers["X-Bapi-Limit-Status"]) == 49
    bad, _ = await get(http, bybit_sim, "/v5/account/wallet-balance", q, secret="nope")
    assert bad["retCode"] == 10004
    bad, _ = await get(http, bybit_sim, "/v5/account/wallet-balance", q, key="NOTAKEY")
    assert bad["retCode"] == 10003
    bad, _ = await get(http, bybit_sim, "/v5/account/wallet-balance", q,
                       ts=int(time.time() * 1000) - 60_000)
    assert bad["retCode"] == 10002
    bybit_sim.faults.clock_skew_ms = -30_000  # the venue runs behind: we look ahead
    bad, _ = await get(http, bybit_sim, "/v5/account/wallet-balance", q)
    assert bad["retCode"] == 10002


async def test_recv_window_bounds_a_create_on_arrival(bybit_sim: RunningSim,
                                                       http: aiohttp.ClientSession) -> None:
    """A create signed 1 s before it arrives: refused under a 500 ms window (10002, nothing
    placed), accepted under the default 5000 ms one."""
    base = {"category": "spot", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit",
            "qty": "0.001", "price": "50000", "orderLinkId": "rw-1"}
    ts = bybit_sim.exchange.time_ms() - 1000
    late, _ = await post(http, bybit_sim, "/v5/order/create", base, ts=ts, recv="500")
    assert late["retCode"] == 10002 and "recv_window[500]" in late["retMsg"]
    assert not bybit_sim.exchange.user_orders()
    ok, _ = await post(http, bybit_sim, "/v5/order/create", base, ts=ts)
    assert ok["retCode"] == 0
    assert [o.client_id for o in bybit_sim.exchange.user_orders()] == ["rw-1"]


async def test_order_codes_and_rate_limit(bybit_sim: RunningSim,
                                          http: aiohttp.ClientSession) -> None:
    base = {"category": "spot", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit",
            "qty": "0.001", "price": "50000", "orderLinkId": "dup-1"}
    ok, _ = await post(http, bybit_sim, "/v5/order/create", base)
    assert ok["retCode"] == 0 and ok["result"]["orderLinkId"] == "dup-1"
    again, _ = await post(http, bybit_sim, "/v5/order/create", base)
    assert again["retCode"] == 170141
    for change, code in (({"price": "50000.001"}, 170134), ({"qty": "0.0000001"}, 170137),
                         ({"side": "Sell", "qty": "150", "orderLinkId": ""}, 170131),
                         ({"price": "70000", "timeInForce": "PostOnly", "orderLinkId": ""}, 170218),
                         ({"symbol": "NOPE"}, 170121), ({"category": "linear"}, 10001)):
        r, _ = await post(http, bybit_sim, "/v5/order/create", {**base, **change})
        assert r["retCode"] == code, (change, r)
    r, _ = await post(http, bybit_sim, "/v5/order/cancel",
                      {"category": "spot", "symbol": "BTCUSDT", "orderLinkId": "never"})
    assert r["retCode"] == 170213
    bybit_sim.faults.order_limit_10s = 1  # read by this skin as order/create per second
    results = [await post(http, bybit_sim, "/v5/order/create", {**base, "orderLinkId": f"rl{i}"})
               for i in range(3)]
    limited = [(b, h) for b, h in results if b["retCode"] == 10006]
    assert limited, "the tightened limit must answer 10006"
    _, h = limited[0]
    assert h["X-Bapi-Limit"] == "1" and h["X-Bapi-Limit-Status"] == "0"
    assert int(h["X-Bapi-Limit-Reset-Timestamp"]) > time.time() * 1000 - 1000


async def test_partial_fill_fault(bybit_sim: RunningSim, http: aiohttp.ClientSession) -> None:
    bybit_sim.faults.partial_fill_next = 1
    body = {"category": "spot", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Market",
            "qty": "0.01", "marketUnit": "baseCoin", "orderLinkId": "pf-1"}
    r, _ = await post(http, bybit_sim, "/v5/order/create", body)
    assert r["retCode"] == 0
    q, _ = await get(http, bybit_sim, "/v5/order/realtime", "category=spot&orderLinkId=pf-1")
    [o] = q["result"]["list"]
    assert o["orderStatus"] == "PartiallyFilledCanceled" and D(o["cumExecQty"]) == D("0.005")


async def test_public_ws_book_and_ping(bybit_sim: RunningSim,
                                       http: aiohttp.ClientSession) -> None:
    async with http.ws_connect(f"{bybit_sim.ws_url}/v5/public/spot") as ws:
        await ws.send_json({"req_id": "p", "op": "ping"})
        pong = await ws.receive_json(timeout=2)
        assert pong["op"] == "ping" and pong["ret_msg"] == "pong" and pong["success"]
        await ws.send_json({"req_id": "s", "op": "subscribe", "args": ["orderbook.50.BTCUSDT"]})
        ack = await ws.receive_json(timeout=2)
        assert ack["success"] and ack["op"] == "subscribe" and ack["req_id"] == "s"
        snap = await ws.receive_json(timeout=2)
        assert snap["type"] == "snapshot" and snap["data"]["s"] == "BTCUSDT"
        u = snap["data"]["u"]
        bybit_sim.liquidity.step()
        await ws.send_json({"op": "subscribe", "args": ["orderbook.7.BTCUSDT"]})
        while True:
            msg = await ws.receive_json(timeout=2)
            if "topic" not in msg:
                assert msg["op"] == "subscribe" and not msg["success"]
                break
            assert msg["type"] == "delta" and msg["data"]["u"] == u + 1
            u += 1


async def test_private_ws_auth_and_events(bybit_sim: RunningSim,
                                          http: aiohttp.ClientSession) -> None:
    async with http.ws_connect(f"{bybit_sim.ws_url}/v5/private") as ws:
        exp = int(time.time() * 1000) + 5000
        await ws.send_json({"op": "auth", "args": [bybit_sim.api_key, exp, "00" * 32]})
        assert not (await ws.receive_json(timeout=2))["success"]
        await ws.send_json({"op": "subscribe", "args": ["order"]})
        assert (await ws.receive_json(timeout=2))["ret_msg"] == "Request not authorized"
        sig = auth.sign(bybit_sim.secret, auth.ws_prehash(exp))
        await ws.send_json({"op": "auth", "args": [bybit_sim.api_key, exp, sig]})
        assert (await ws.receive_json(timeout=2))["success"]
        await ws.send_json({"op": "subscribe", "args": ["order", "execution", "wallet"]})
        assert (await ws.receive_json(timeout=2))["success"]
        await ws.send_json({"req_id": "x", "op": "ping"})
        pong = await ws.receive_json(timeout=2)
        assert pong["op"] == "pong" and pong["req_id"] == "x"
        body = {"category": "spot", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Market",
                "qty": "0.01", "marketUnit": "baseCoin", "orderLinkId": "ws-1"}
        r, _ = await post(http, bybit_sim, "/v5/order/create", body)
        assert r["retCode"] == 0
        topics: list[str] = []
        while "wallet" not in topics:
            msg = await ws.receive_json(timeout=2)
            topics.append(msg["topic"])
            if msg["topic"] == "execution":
                assert msg["data"][0]["orderLinkId"] == "ws-1"
        assert "order" in topics and "execution" in topics
        bybit_sim.faults.disconnect_ws()
        closed = await asyncio.wait_for(ws.receive(), 2)
        assert closed.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED,
                               aiohttp.WSMsgType.CLOSING)


async def test_admin_routes_resolve_bybit_symbols(bybit_sim: RunningSim,
                                                  http: aiohttp.ClientSession) -> None:
    async with http.post(f"{bybit_sim.rest_url}/__sim/mid",
                         json={"symbol": "BTCUSDT", "price": "61000"}) as r:
        assert r.status == 200 and (await r.json())["symbol"] == "BTC/USDT"
    async with http.post(f"{bybit_sim.rest_url}/__sim/faults", json={"outage": "503"}) as r:
        assert r.status == 200
    async with http.get(f"{bybit_sim.rest_url}/v5/market/time") as r:
        assert r.status == 503
