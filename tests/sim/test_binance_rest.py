from __future__ import annotations

import base64
import time
from decimal import Decimal as D

import aiohttp

from gapless.sim.binance.app import ed25519_sign
from gapless.sim.binance.auth import ApiKey, hmac_hex, signed_payload, verify
from gapless.sim.cluster import RunningSim, SimCluster

from .conftest import signed

B1_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
B1_PAYLOAD = ("symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
              "&recvWindow=5000&timestamp=1499827319559")
B1_SIG = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"


def test_signature_checker_b1_vector() -> None:
    key = ApiKey("k", "test", "HMAC", secret=B1_SECRET)
    assert hmac_hex(B1_SECRET, B1_PAYLOAD) == B1_SIG
    payload, sig = signed_payload("", B1_PAYLOAD + "&signature=" + B1_SIG)
    assert payload == B1_PAYLOAD and sig == B1_SIG
    # query first, then body, no separator
    q, b = B1_PAYLOAD[:40], B1_PAYLOAD[40:]
    payload, sig = signed_payload(q, b + "&signature=" + B1_SIG.upper())
    assert payload == B1_PAYLOAD
    assert sig is not None and verify(key, payload, sig)  # upper-case hex accepted
    assert not verify(key, payload + "0", B1_SIG)


async def test_public_endpoints_and_weight_header(sim: RunningSim, http: aiohttp.ClientSession) -> None:
    r = await http.get(sim.rest_url + "/api/v3/ping")
    assert r.status == 200 and await r.json() == {}
    assert r.headers["X-MBX-USED-WEIGHT-1M"] == "1"
    r = await http.get(sim.rest_url + "/api/v3/exchangeInfo")
    info = await r.json()
    assert r.headers["X-MBX-USED-WEIGHT-1M"] == "21"
    btc = next(s for s in info["symbols"] if s["symbol"] == "BTCUSDT")
    filters = {f["filterType"]: f for f in btc["filters"]}
    assert filters["PRICE_FILTER"]["tickSize"] == "0.01000000"
    assert filters["LOT_SIZE"]["stepSize"] == "0.00001000"
    assert filters["NOTIONAL"]["minNotional"] == "5.00000000"
    assert {"BTCUSDT", "ETHUSDT", "BTCUSD", "ETHUSD", "ETHBTC"} <= {s["symbol"] for s in info["symbols"]}
    r = await http.get(sim.rest_url + "/api/v3/depth?symbol=BTCUSDT&limit=5")
    d = await r.json()
    assert r.headers["X-MBX-USED-WEIGHT-1M"] == "26"
    assert len(d["bids"]) == 5 and D(d["bids"][0][0]) < D(d["asks"][0][0])
    assert d["lastUpdateId"] == sim.exchange.books["BTC/USDT"].update_id
    r = await http.get(sim.rest_url + "/api/v3/depth?symbol=NOPE")
    assert r.status == 400 and await r.json() == {"code": -1121, "msg": "Invalid symbol."}


async def test_order_lifecycle_signed(sim: RunningSim, http: aiohttp.ClientSession) -> None:
    st, body, h = await signed(http, sim, "POST", "/api/v3/order",
                               "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01"
                               "&price=50000&newClientOrderId=abc-1")
    assert st == 200, body
    assert h["X-MBX-ORDER-COUNT-10S"] == "1" and h["X-MBX-ORDER-COUNT-1D"] == "1"
    assert body["status"] == "NEW" and body["cummulativeQuoteQty"] == "0.00000000"
    oid = body["orderId"]
    assert sim.exchange.orders[oid].client_id == "abc-1"
    st, body, _ = await signed(http, sim, "POST", "/api/v3/order",
                               "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01"
                               "&price=50000&newClientOrderId=abc-1")
    assert (st, body) == (400, {"code": -2010, "msg": "Duplicate order sent."})
    st, body, _ = await signed(http, sim, "GET", "/api/v3/order", f"symbol=BTCUSDT&orderId={oid}")
    assert st == 200 and body["status"] == "NEW" and body["origQty"] == "0.01000000"
    st, body, _ = await signed(http, sim, "GET", "/api/v3/openOrders", "symbol=BTCUSDT")
    assert [o["orderId"] for o in body] == [oid]
    # cancel via query string on DELETE
    st, body, _ = await signed(http, sim, "DELETE", "/api/v3/order",
                               "symbol=BTCUSDT&origClientOrderId=abc-1")
    assert st == 200 and body["status"] == "CANCELED"
    st, body, _ = await signed(http, sim, "DELETE", "/api/v3/order", f"symbol=BTCUSDT&orderId={oid}")
    assert (st, body) == (400, {"code": -2011, "msg": "Unknown order sent."})
    st, body, _ = await signed(http, sim, "GET", "/api/v3/order", "symbol=BTCUSDT&orderId=999999")
    assert (st, body) == (400, {"code": -2013, "msg": "Order does not exist."})
    # market FULL with fills, then myTrades
    st, body, _ = await signed(http, sim, "POST", "/api/v3/order",
                               "symbol=BTCUSDT&side=SELL&type=MARKET&quantity=0.5")
    assert st == 200 and body["status"] == "FILLED" and body["fills"]
    total = sum(D(f["qty"]) for f in body["fills"])
    assert total == D("0.5")
    st, trades, _ = await signed(http, sim, "GET", "/api/v3/myTrades", "symbol=BTCUSDT")
    assert [t["id"] for t in trades] == [f["tradeId"] for f in body["fills"]]
    assert all(not t["isBuyer"] and not t["isMaker"] for t in trades)
    # IOC remainder expires
    st, body, _ = await signed(http, sim, "POST", "/api/v3/order",
                               "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=IOC&quantity=0.1"
                               "&price=100")
    assert st == 200 and body["status"] == "EXPIRED"
    st, body, _ = await signed(http, sim, "GET", "/api/v3/allOrders", "symbol=BTCUSDT")
    assert [o["status"] for o in body] == ["CANCELED", "FILLED", "EXPIRED"]
    st, acct, _ = await signed(http, sim, "GET", "/api/v3/account")
    bal = {b["asset"]: b for b in acct["balances"]}
    assert D(bal["BTC"]["free"]) == sim.exchange.account().free["BTC"]
    st, body, _ = await signed(http, sim, "POST", "/api/v3/order/test",
                               "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01"
                               "&price=50000")
    assert (st, body) == (200, {})
    st, body, _ = await signed(http, sim, "GET", "/api/v3/rateLimit/order")
    assert body[0]["count"] == 4  # rejected orders count too


async def test_error_bodies(sim: RunningSim, http: aiohttp.ClientSession) -> None:
    cases = [
        ("symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=50000.000000001",
         -1111, "Parameter 'price' has too much precision."),
        ("symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=50000.005",
         -1013, "Filter failure: PRICE_FILTER"),
        ("symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.000015&price=50000",
         -1013, "Filter failure: LOT_SIZE"),
        ("symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.00001&price=50000",
         -1013, "Filter failure: NOTIONAL"),
        ("symbol=XXXYYY&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=1", -1121, "Invalid symbol."),
        ("symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=1", -1102,
         "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed."),
        ("symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=250&price=50000", -2010,
         "Account has insufficient balance for requested action."),
        ("symbol=BTCUSDT&side=BUY&type=LIMIT_MAKER&quantity=0.01&price=70000", -2010,
         "Order would immediately match and take."),
    ]
    for params, code, msg in cases:
        st, body, _ = await signed(http, sim, "POST", "/api/v3/order", params)
        assert (st, body) == (400, {"code": code, "msg": msg}), params
    r = await http.put(sim.rest_url + "/api/v3/userDataStream?listenKey=nope",
                       headers={"X-MBX-APIKEY": sim.api_key})
    assert r.status == 400 and (await r.json())["code"] == -1125


async def test_recv_window_bounds_a_create_on_arrival(sim: RunningSim,
                                                       http: aiohttp.ClientSession) -> None:
    """A create signed 1 s before it arrives: refused under recvWindow=500 (-1021, nothing
    placed), accepted under 5000; a recvWindow over 60000 is refused (-1131)."""
    mid = sim.liquidity.mids["BTC/USDT"]
    order = (f"symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001"
             f"&price={(mid * D('0.9')).quantize(D('0.01'))}&newClientOrderId=rw-1")
    ts = sim.exchange.time_ms() - 1000
    st, body, _ = await signed(http, sim, "POST", "/api/v3/order", order + "&recvWindow=500", ts=ts)
    assert (st, body) == (400, {"code": -1021,
                                "msg": "Timestamp for this request is outside of the recvWindow."})
    assert not sim.exchange.user_orders()
    st, body, _ = await signed(http, sim, "POST", "/api/v3/order", order + "&recvWindow=60001")
    assert (st, body["code"]) == (400, -1131)
    st, body, _ = await signed(http, sim, "POST", "/api/v3/order", order + "&recvWindow=5000", ts=ts)
    assert st == 200 and body["status"] == "NEW"
    assert [o.client_id for o in sim.exchange.user_orders()] == ["rw-1"]


async def test_auth_failures(sim: RunningSim, http: aiohttp.ClientSession) -> None:
    st, body, _ = await signed(http, sim, "GET", "/api/v3/account", ts=int(time.time() * 1000) - 10_000)
    assert (st, body["code"]) == (400, -1021)
    st, body, _ = await signed(http, sim, "GET", "/api/v3/account", ts=int(time.time() * 1000) + 5_000)
    assert (st, body["code"]) == (400, -1021)
    st, body, _ = await signed(http, sim, "GET", "/api/v3/account", secret="x" * 64)
    assert (st, body) == (400, {"code": -1022, "msg": "Signature for this request is not valid."})
    st, body, _ = await signed(http, sim, "GET", "/api/v3/account", key="A" * 64)
    assert (st, body["code"]) == (401, -2015)
    st, body, _ = await signed(http, sim, "GET", "/api/v3/account", key="short")
    assert (st, body["code"]) == (401, -2014)
    # clock skew: the venue's clock runs ahead, a correct client is now "behind"
    sim.faults.clock_skew_ms = 30_000
    st, body, _ = await signed(http, sim, "GET", "/api/v3/account")
    assert body["code"] == -1021
    r = await http.get(sim.rest_url + "/api/v3/time")
    server = (await r.json())["serverTime"]
    st, body, _ = await signed(http, sim, "GET", "/api/v3/account", ts=server)
    assert st == 200


async def test_ed25519_key_accepted(sim: RunningSim, http: aiohttp.ClientSession) -> None:
    payload = f"symbol=ETHUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.1&price=2000&timestamp={int(time.time() * 1000)}"
    sig = ed25519_sign(sim.ed25519_private_key_pem, payload)
    assert len(base64.b64decode(sig)) == 64
    from urllib.parse import quote
    r = await http.post(sim.rest_url + "/api/v3/order", data=payload + "&signature=" + quote(sig, safe=""),
                        headers={"X-MBX-APIKEY": sim.ed25519_api_key,
                                 "Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 200, await r.text()
    bad = ed25519_sign(sim.ed25519_private_key_pem, payload + "x")
    r = await http.post(sim.rest_url + "/api/v3/order", data=payload + "&signature=" + quote(bad, safe=""),
                        headers={"X-MBX-APIKEY": sim.ed25519_api_key,
                                 "Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 400 and (await r.json())["code"] == -1022


async def test_429_then_418(sim: RunningSim, http: aiohttp.ClientSession) -> None:
    sim.faults.weight_limit = 3
    for i in range(3):
        r = await http.get(sim.rest_url + "/api/v3/ping")
        assert r.status == 200 and r.headers["X-MBX-USED-WEIGHT-1M"] == str(i + 1)
    r = await http.get(sim.rest_url + "/api/v3/ping")
    assert r.status == 429 and int(r.headers["Retry-After"]) >= 1
    assert (await r.json())["code"] == -1003
    r = await http.get(sim.rest_url + "/api/v3/ping")
    assert r.status == 418 and r.headers["Retry-After"] == "5"
    assert "IP banned until" in (await r.json())["msg"]
    r = await http.get(sim.rest_url + "/api/v3/time")
    assert r.status == 418
    r = await http.post(sim.rest_url + "/__sim/reset")
    assert r.status == 200
    r = await http.get(sim.rest_url + "/api/v3/ping")
    assert r.status == 200


async def test_order_count_limit(sim: RunningSim, http: aiohttp.ClientSession) -> None:
    sim.faults.order_limit_10s = 2
    p = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=50000"
    for _ in range(2):
        st, _, _ = await signed(http, sim, "POST", "/api/v3/order", p)
        assert st == 200
    st, body, h = await signed(http, sim, "POST", "/api/v3/order", p)
    assert st == 429 and body["code"] == -1015 and "Retry-After" in h


async def test_cluster_credentials() -> None:
    async with SimCluster(["binance"], host="127.0.0.1", port_base=0, seed=1, tick_interval=0) as c:
        creds = c.credentials()["binance"]
        assert creds["rest_url"] == c["binance"].rest_url and creds["passphrase"] == ""
        async with aiohttp.ClientSession() as http:
            r = await http.get(creds["rest_url"] + "/api/v3/ping")
            assert r.status == 200
