from __future__ import annotations

import asyncio
import json
import time
from decimal import Decimal as D
from typing import Any

import aiohttp

from gapless.sim.cluster import RunningSim

from .conftest import sign, signed


async def _next_json(ws: aiohttp.ClientWebSocketResponse, timeout: float = 3.0) -> Any:
    msg = await ws.receive(timeout=timeout)
    assert msg.type == aiohttp.WSMsgType.TEXT, msg
    return json.loads(msg.data)


async def test_depth_diffs_consistent_with_rest(sim: RunningSim, http: aiohttp.ClientSession) -> None:
    ws = await http.ws_connect(sim.ws_url + "/ws/btcusdt@depth@100ms")
    buffered: list[dict[str, Any]] = []
    # cause book changes
    sim.liquidity.step()
    buffered.append(await _next_json(ws))
    r = await http.get(sim.rest_url + "/api/v3/depth?symbol=BTCUSDT&limit=5000")
    snap = await r.json()
    book = {"b": {D(p): D(q) for p, q in snap["bids"]}, "a": {D(p): D(q) for p, q in snap["asks"]}}
    local = snap["lastUpdateId"]
    assert buffered[0]["U"] <= local + 1
    for _ in range(3):
        sim.liquidity.step()
        buffered.append(await _next_json(ws))
    for ev in buffered:
        assert ev["e"] == "depthUpdate" and ev["s"] == "BTCUSDT"
        if ev["u"] <= local:
            continue
        assert ev["U"] <= local + 1 <= ev["u"]
        for side in ("b", "a"):
            for p, q in ev[side]:
                if D(q) == 0:
                    book[side].pop(D(p), None)
                else:
                    book[side][D(p)] = D(q)
        local = ev["u"]
    uid, bids, asks = sim.exchange.depth("BTC/USDT", 5000)
    assert local == uid
    assert sorted(book["b"].items(), reverse=True) == bids
    assert sorted(book["a"].items()) == asks
    await ws.close()


async def test_combined_stream_subscribe_and_book_ticker(sim: RunningSim, http: aiohttp.ClientSession) -> None:
    ws = await http.ws_connect(sim.ws_url + "/stream?streams=ethusdt@bookTicker")
    await ws.send_json({"method": "SUBSCRIBE", "params": ["btcusdt@trade"], "id": 7})
    assert await _next_json(ws) == {"result": None, "id": 7}
    await ws.send_json({"method": "LIST_SUBSCRIPTIONS", "id": 8})
    assert await _next_json(ws) == {"result": ["btcusdt@trade", "ethusdt@bookTicker"], "id": 8}
    sim.liquidity.set_mid("ETH/USDT", D("3100"))
    msg = await _next_json(ws)
    while D(msg["data"]["b"]) == 0:  # set_mid lifts the synthetic ladder before re-quoting
        msg = await _next_json(ws)
    assert msg["stream"] == "ethusdt@bookTicker" and D(msg["data"]["b"]) < D(msg["data"]["a"])
    assert D(msg["data"]["b"]) < D("3100") < D(msg["data"]["a"])
    await ws.close()


async def test_user_stream_execution_report_on_fill(sim: RunningSim, http: aiohttp.ClientSession) -> None:
    r = await http.post(sim.rest_url + "/api/v3/userDataStream", headers={"X-MBX-APIKEY": sim.api_key})
    key = (await r.json())["listenKey"]
    ws = await http.ws_connect(f"{sim.ws_url}/ws/{key}")
    st, body, _ = await signed(http, sim, "POST", "/api/v3/order",
                               "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.02"
                               "&price=55000&newClientOrderId=u1")
    assert st == 200
    events = [await _next_json(ws) for _ in range(2)]
    new = next(e for e in events if e["e"] == "executionReport")
    assert new["x"] == "NEW" and new["X"] == "NEW" and new["c"] == "u1" and new["i"] == body["orderId"]
    assert any(e["e"] == "outboundAccountPosition" for e in events)
    r = await http.post(sim.rest_url + "/__sim/trade",
                        json={"symbol": "BTCUSDT", "side": "SELL", "qty": "0.005"})
    assert (await r.json())["filled"] == "0.005"
    reports = []
    while len(reports) < 1:
        e = await _next_json(ws)
        if e["e"] == "executionReport":
            reports.append(e)
    t = reports[0]
    assert t["x"] == "TRADE" and t["X"] == "PARTIALLY_FILLED" and t["m"] is True
    assert t["l"] == "0.00500000" and t["z"] == "0.00500000" and t["L"] == "55000.00000000"
    assert t["N"] == "BTC" and t["t"] == sim.exchange.orders[body["orderId"]].fills[0].trade_id
    assert D(t["Z"]) / D(t["z"]) == D("55000")
    await ws.close()


async def test_ws_api_user_data_subscription(sim: RunningSim, http: aiohttp.ClientSession) -> None:
    ws = await http.ws_connect(sim.ws_url + "/ws-api/v3")
    ts = int(time.time() * 1000)
    payload = f"apiKey={sim.api_key}&timestamp={ts}"
    await ws.send_json({"id": "s1", "method": "userDataStream.subscribe.signature",
                        "params": {"apiKey": sim.api_key, "timestamp": ts,
                                   "signature": sign(sim.secret, payload)}})
    assert await _next_json(ws) == {"id": "s1", "status": 200, "result": {"subscriptionId": 0}}
    await signed(http, sim, "POST", "/api/v3/order",
                 "symbol=ETHUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.1&price=2000")
    ev = await _next_json(ws)
    assert ev["subscriptionId"] == 0 and ev["event"]["e"] in ("executionReport", "outboundAccountPosition")
    await ws.close()


async def test_server_pings(http: aiohttp.ClientSession) -> None:
    from gapless.sim.cluster import start_venue_sim

    s = await start_venue_sim("binance", seed=2, tick_interval=0, ping_interval=0.1)
    try:
        ws = await http.ws_connect(s.ws_url + "/ws/btcusdt@trade", autoping=False)
        msg = await ws.receive(timeout=2)
        assert msg.type == aiohttp.WSMsgType.PING
        await ws.close()
    finally:
        await s.stop()
    await asyncio.sleep(0)
