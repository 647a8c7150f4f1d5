from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from gapless.sim.cluster import RunningSim

from .conftest import sign, signed

ORDER = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=50000"


async def _admin(http: aiohttp.ClientSession, sim: RunningSim, path: str, body: dict | None = None) -> dict:
    r = await http.post(sim.admin_url + "/__sim/" + path, json=body or {})
    assert r.status == 200, await r.text()
    return await r.json()


async def test_outage_refuse_and_503(sim: RunningSim, http: aiohttp.ClientSession) -> None:
    await _admin(http, sim, "faults/outage", {"mode": "refuse"})
    with pytest.raises(aiohttp.ClientConnectorError):  # refused: the request was never sent
        await http.get(sim.rest_url + "/api/v3/ping")
    await _admin(http, sim, "faults/outage", {"mode": "503"})
    r = await http.get(sim.rest_url + "/api/v3/ping")
    assert r.status == 503
    await _admin(http, sim, "faults/outage", {"mode": None})
    r = await http.get(sim.rest_url + "/api/v3/ping")
    assert r.status == 200


async def test_latency(sim: RunningSim, http: aiohttp.ClientSession) -> None:
    sim.faults.latency_ms = 200
    t0 = time.monotonic()
    await http.get(sim.rest_url + "/api/v3/ping")
    assert time.monotonic() - t0 >= 0.2


async def test_drop_response_after_accept_close(sim: RunningSim, http: aiohttp.ClientSession) -> None:
    await _admin(http, sim, "faults/drop_response", {"count": 1, "mode": "close"})
    with pytest.raises(aiohttp.ClientError):
        await signed(http, sim, "POST", "/api/v3/order", ORDER + "&newClientOrderId=drop1")
    # the order was accepted and booked anyway
    st, body, _ = await signed(http, sim, "GET", "/api/v3/order", "symbol=BTCUSDT&origClientOrderId=drop1")
    assert st == 200 and body["status"] == "NEW"
    assert len(sim.exchange.open_orders()) == 1


async def test_drop_response_after_accept_hang(sim: RunningSim) -> None:
    sim.faults.drop_response_next = 1
    sim.faults.drop_mode = "hang"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=0.5)) as http:
        with pytest.raises(asyncio.TimeoutError):
            await signed(http, sim, "POST", "/api/v3/order", ORDER)
    assert len(sim.exchange.open_orders()) == 1


async def test_forced_partial_fill(sim: RunningSim, http: aiohttp.ClientSession) -> None:
    await _admin(http, sim, "faults/partial_fills", {"count": 1, "fraction": "0.4"})
    st, body, _ = await signed(http, sim, "POST", "/api/v3/order",
                               "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.1")
    assert st == 200 and body["status"] == "EXPIRED" and body["executedQty"] == "0.04000000"
    st, body, _ = await signed(http, sim, "POST", "/api/v3/order",
                               "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.1")
    assert body["status"] == "FILLED"


async def test_rate_limit_override_and_clock_skew(sim: RunningSim, http: aiohttp.ClientSession) -> None:
    await _admin(http, sim, "faults/rate_limits", {"weight_limit": 1})
    assert (await http.get(sim.rest_url + "/api/v3/ping")).status == 200
    assert (await http.get(sim.rest_url + "/api/v3/ping")).status == 429
    await _admin(http, sim, "reset")
    await _admin(http, sim, "faults/clock_skew", {"ms": -20_000})
    _st, body, _ = await signed(http, sim, "GET", "/api/v3/account")
    assert body["code"] == -1021


async def test_ws_disconnect_and_stall(sim: RunningSim, http: aiohttp.ClientSession) -> None:
    ws = await http.ws_connect(sim.ws_url + "/ws/btcusdt@trade")
    await _admin(http, sim, "faults/ws_disconnect")
    msg = await ws.receive(timeout=2)
    assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
    ws = await http.ws_connect(sim.ws_url + "/ws/btcusdt@trade")
    await _admin(http, sim, "faults/ws_stall", {"on": True})
    await _admin(http, sim, "trade", {"symbol": "BTC/USDT", "side": "BUY", "qty": "0.01",
                                      "user_only": False})
    with pytest.raises(asyncio.TimeoutError):
        await ws.receive(timeout=0.3)
    assert not ws.closed
    await _admin(http, sim, "faults/ws_stall", {"on": False})
    await _admin(http, sim, "trade", {"symbol": "BTC/USDT", "side": "BUY", "qty": "0.01",
                                      "user_only": False})
    msg = await ws.receive(timeout=2)
    assert msg.type == aiohttp.WSMsgType.TEXT and '"e":"trade"' in msg.data
    await ws.close()


async def test_admin_state_mid_reset(sim: RunningSim, http: aiohttp.ClientSession) -> None:
    await signed(http, sim, "POST", "/api/v3/order",
                 "symbol=BTCUSDT&side=SELL&type=LIMIT&timeInForce=GTC&quantity=0.01&price=61000")
    await _admin(http, sim, "mid", {"symbol": "BTCUSDT", "price": "62000"})
    r = await http.get(sim.rest_url + "/__sim/state")
    state = await r.json()
    assert state["orders"][0]["status"] == "FILLED" and len(state["trades"]) == 1
    assert float(state["mids"]["BTC/USDT"]) == 62000
    await _admin(http, sim, "reset")
    state = await (await http.get(sim.rest_url + "/__sim/state")).json()
    assert state["orders"] == [] and state["balances"]["BTC"]["free"] == "100"
    # the sim still signs/verifies normally after a reset
    ts = int(time.time() * 1000)
    assert sign(sim.secret, f"timestamp={ts}")
    st, _, _ = await signed(http, sim, "GET", "/api/v3/account")
    assert st == 200
