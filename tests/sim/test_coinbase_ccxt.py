"""ccxt's Coinbase client (and raw requests), pointed at the Coinbase simulator, agree with
the simulator's state; the simulator enforces the venue's JWT rules and error envelopes."""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import AsyncIterator
from decimal import Decimal as D
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import ccxt.async_support as ccxt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from gapless.sim.cluster import RunningSim, start_venue_sim

BROKERAGE = "/api/v3/brokerage"


def _rewrite(node: Any, base: str) -> Any:
    if isinstance(node, dict):
        return {k: _rewrite(v, base) for k, v in node.items()}
    if isinstance(node, str) and node.startswith(("http://", "https://")):
        parts, target = urlsplit(node), urlsplit(base)
        return urlunsplit((target.scheme, target.netloc, parts.path, parts.query, parts.fragment))
    return node


@pytest.fixture
async def cb() -> AsyncIterator[RunningSim]:
    s = await start_venue_sim("coinbase", host="127.0.0.1", port=0, seed=11, tick_interval=0)
    try:
        yield s
    finally:
        await s.stop()


def _client(sim: RunningSim, *, ed25519: bool = False) -> Any:
    ex = ccxt.coinbase({
        "apiKey": sim.ed25519_api_key if ed25519 else sim.api_key,
        "secret": sim.ed25519_private_key_pem if ed25519 else sim.secret,
        "enableRateLimit": False,
        "options": {"fetchMarkets": "fetchMarketsV3"},
    })
    ex.urls["api"] = _rewrite(ex.urls["api"], sim.rest_url)
    return ex


def _d(x: Any) -> D:
    return D(str(x))


async def test_ccxt_round_trip(cb: RunningSim) -> None:
    ex = _client(cb)
    try:
        markets = await ex.load_markets()
        assert {"BTC/USD", "ETH/USD", "BTC/USDT", "ETH/USDT", "ETH/BTC"} <= set(markets)
        m = markets["BTC/USD"]
        assert m["id"] == "BTC-USD" and m["spot"] and m["active"]
        assert _d(m["precision"]["price"]) == D("0.01")
        assert _d(m["precision"]["amount"]) == D("0.00001")
        assert _d(m["limits"]["cost"]["min"]) == D("5")

        acc = cb.exchange.account()
        bal = await ex.fetch_balance()  # /v2/accounts by default
        assert _d(bal["BTC"]["total"]) == acc.free["BTC"] + acc.locked["BTC"] == D("100")
        bal3 = await ex.fetch_balance({"v3": True})
        assert _d(bal3["USD"]["free"]) == acc.free["USD"]

        book = await ex.fetch_order_book("BTC/USD", limit=10)
        _, bids, asks = cb.exchange.depth("BTC/USD", 10)
        assert [(_d(p), _d(q)) for p, q in book["bids"]] == bids
        assert [(_d(p), _d(q)) for p, q in book["asks"]] == asks

        # resting limit buy well below the book
        lim = await ex.create_order("BTC/USD", "limit", "buy", 0.01, 50000)
        assert lim["id"] and lim["clientOrderId"].startswith("ccxt-")
        resting = cb.exchange.open_orders()
        assert [(o.client_id, o.price, o.qty) for o in resting] == [
            (lim["clientOrderId"], D("50000"), D("0.01"))]
        assert acc.locked["USD"] == D("500")
        got = await ex.fetch_order(lim["id"], "BTC/USD")
        assert got["status"] == "open" and got["type"] == "limit" and got["side"] == "buy"
        assert _d(got["price"]) == D("50000") and _d(got["amount"]) == D("0.01")
        assert got["timeInForce"] == "GTC" and _d(got["filled"]) == 0

        canceled = await ex.cancel_order(lim["id"], "BTC/USD")
        assert canceled["id"] == lim["id"]
        assert cb.exchange.open_orders() == [] and acc.locked["USD"] == 0
        assert (await ex.fetch_order(lim["id"]))["status"] == "canceled"

        # market buy sized in quote (ccxt: amount * price), market sell sized in base
        mb = await ex.create_order("BTC/USD", "market", "buy", 0.01, 60000)
        mb_state = await ex.fetch_order(mb["id"], "BTC/USD")
        assert mb_state["status"] == "closed" and mb_state["type"] == "market"
        core_buy = cb.exchange.find_order("test", None, client_id=mb_state["clientOrderId"])
        assert _d(mb_state["filled"]) == core_buy.filled > 0
        assert core_buy.quote_qty == D("600")
        ms = await ex.create_order("BTC/USD", "market", "sell", 0.005)
        assert (await ex.fetch_order(ms["id"]))["status"] == "closed"

        trades = await ex.fetch_my_trades("BTC/USD")
        fills = cb.exchange.user_fills(symbol="BTC/USD")
        assert len(trades) == len(fills) >= 2
        assert sorted(_d(t["amount"]) for t in trades) == sorted(f.qty for f in fills)
        assert {t["order"] for t in trades} == {mb["id"], ms["id"]}
        assert {t["side"] for t in trades} == {"buy", "sell"}

        after = await ex.fetch_balance()
        assert _d(after["BTC"]["total"]) == acc.free["BTC"] + acc.locked["BTC"]
        assert _d(after["USD"]["total"]) == acc.free["USD"] + acc.locked["USD"]
    finally:
        await ex.close()


async def test_ccxt_rejects_and_ed25519(cb: RunningSim) -> None:
    ex = _client(cb, ed25519=True)  # ccxt's EdDSA flavour: base64 secret, "uris" claim
    try:
        await ex.load_markets()
        with pytest.raises(ccxt.InsufficientFunds):
            await ex.create_order("BTC/USD", "limit", "sell", 1000, 70000)
        with pytest.raises(ccxt.ExchangeError):  # post-only that would cross
            await ex.create_order("BTC/USD", "limit", "buy", 0.01, 70000, {"postOnly": True})
        ioc = await ex.create_order("BTC/USD", "limit", "buy", 0.01, 50000, {"timeInForce": "IOC"})
        assert (await ex.fetch_order(ioc["id"]))["status"] == "canceled"
        assert cb.exchange.open_orders() == []
    finally:
        await ex.close()


# -- raw requests: auth rules and envelopes ---------------------------------------------
def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwt(sim: RunningSim, claims: dict[str, Any], kid: str | None = None) -> str:
    key = serialization.load_pem_private_key(sim.secret.encode(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    header = {"alg": "ES256", "kid": kid or sim.api_key, "nonce": secrets.token_hex(), "typ": "JWT"}
    signing = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    r, s = decode_dss_signature(key.sign(signing.encode(), ec.ECDSA(hashes.SHA256())))
    return f"{signing}.{_b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def _claims(sim: RunningSim, method: str, path: str, **over: Any) -> dict[str, Any]:
    now = int(time.time())
    host = urlsplit(sim.rest_url).netloc
    c = {"sub": sim.api_key, "iss": "cdp", "nbf": now, "exp": now + 120,
         "uri": f"{method} {host}{path}"}
    c.update(over)
    return c


async def test_jwt_rules(cb: RunningSim) -> None:
    path = f"{BROKERAGE}/accounts"
    now = int(time.time())
    cases = {
        "ok": (_claims(cb, "GET", path), 200),
        "coinbase-cloud issuer, aud and iat": (
            _claims(cb, "GET", path, iss="coinbase-cloud", aud=["retail_rest_api_proxy"], iat=now), 200),
        "query string in uri": (_claims(cb, "GET", path + "?limit=1"), 401),
        "other path": (_claims(cb, "GET", f"{BROKERAGE}/orders/historical/batch"), 401),
        "other method": (_claims(cb, "POST", path), 401),
        "expired": (_claims(cb, "GET", path, nbf=now - 300, exp=now - 180), 401),
        "not yet valid": (_claims(cb, "GET", path, nbf=now + 60, exp=now + 180), 401),
        "unknown issuer": (_claims(cb, "GET", path, iss="someone"), 401),
        "sub differs from kid": (_claims(cb, "GET", path, sub="organizations/x/apiKeys/y"), 401),
    }
    async with aiohttp.ClientSession() as http:
        for name, (claims, want) in cases.items():
            async with http.get(f"{cb.rest_url}{path}",
                                headers={"Authorization": f"Bearer {_jwt(cb, claims)}"}) as r:
                assert r.status == want, name
                if want == 401:
                    assert await r.text() == "Unauthorized", name
                else:
                    assert "x-ratelimit-remaining" in r.headers
        async with http.get(f"{cb.rest_url}{path}") as r:
            assert r.status == 401
        # public routes need no token
        async with http.get(f"{cb.rest_url}{BROKERAGE}/market/products") as r:
            assert r.status == 200 and (await r.json())["products"]


async def test_envelopes_and_rate_limit(cb: RunningSim) -> None:
    async def call(http: aiohttp.ClientSession, method: str, path: str,
                   body: Any = None) -> tuple[int, Any]:
        tok = _jwt(cb, _claims(cb, method, path))
        async with http.request(method, f"{cb.rest_url}{path}", json=body,
                                headers={"Authorization": f"Bearer {tok}"}) as r:
            return r.status, await r.json(content_type=None)

    async with aiohttp.ClientSession() as http:
        st, body = await call(http, "POST", f"{BROKERAGE}/orders", {
            "client_order_id": "c-1", "product_id": "BTC-USD", "side": "BUY",
            "order_configuration": {"limit_limit_gtc": {"base_size": "0.01",
                                                        "limit_price": "99999", "post_only": True}}})
        assert st == 200 and body["success"] is False
        assert body["error_response"]["error"] == "INVALID_LIMIT_PRICE_POST_ONLY"
        st, body = await call(http, "POST", f"{BROKERAGE}/orders", {
            "client_order_id": "c-2", "product_id": "BTC-USD", "side": "BUY",
            "order_configuration": {"limit_limit_gtd": {"base_size": "0.01", "limit_price": "1"}}})
        assert st == 200 and body["error_response"]["error"] == "UNSUPPORTED_ORDER_CONFIGURATION"
        st, body = await call(http, "POST", f"{BROKERAGE}/orders", {
            "product_id": "BTC-USD", "side": "BUY",
            "order_configuration": {"market_market_ioc": {"quote_size": "10"}}})
        assert st == 400 and body["error"] == "INVALID_ARGUMENT"
        st, body = await call(http, "GET", f"{BROKERAGE}/orders/historical/nope")
        assert st == 404 and body["error"] == "NOT_FOUND"
        st, body = await call(http, "POST", f"{BROKERAGE}/orders/batch_cancel", {"order_ids": ["nope"]})
        assert st == 200 and body["results"] == [
            {"success": False, "failure_reason": "UNKNOWN_CANCEL_ORDER", "order_id": "nope"}]
        # a reused client id answers with the order already held (idempotent create)
        order = {"client_order_id": "same", "product_id": "BTC-USD", "side": "BUY",
                 "order_configuration": {"limit_limit_gtc": {"base_size": "0.01",
                                                             "limit_price": "50000"}}}
        _, first = await call(http, "POST", f"{BROKERAGE}/orders", order)
        _, again = await call(http, "POST", f"{BROKERAGE}/orders", order)
        assert first["success"] and again["success_response"]["order_id"] == first["order_id"]
        assert len(cb.exchange.open_orders()) == 1

        cb.faults.weight_limit = 3
        statuses = [(await call(http, "GET", f"{BROKERAGE}/accounts"))[0] for _ in range(10)]
        assert 429 in statuses
        st, body = await call(http, "GET", f"{BROKERAGE}/accounts")
        if st == 429:
            assert body["errors"][0]["id"] == "rate_limit_exceeded"
        cb.faults.weight_limit = None


async def test_ccxt_pro_book_and_orders() -> None:
    """ccxt pro: ``level2`` never shows a transiently empty book; ``user`` delivers our order."""
    import asyncio

    import ccxt.pro as ccxtpro

    sim = await start_venue_sim("coinbase", host="127.0.0.1", port=0, seed=12, tick_interval=0.05)
    ex = ccxtpro.coinbase({"apiKey": sim.api_key, "secret": sim.secret, "enableRateLimit": False})
    ex.urls["api"]["rest"] = sim.rest_url
    ex.urls["api"]["ws"] = sim.ws_url
    try:
        await ex.load_markets()
        for _ in range(5):  # several liquidity ticks
            ob = await asyncio.wait_for(ex.watch_order_book("BTC/USD"), 5)
            assert ob["bids"] and ob["asks"] and ob["bids"][0][0] < ob["asks"][0][0]
        watch = asyncio.create_task(ex.watch_orders("BTC/USD"))
        await asyncio.sleep(0.2)
        placed = await ex.create_order("BTC/USD", "limit", "buy", 0.01, 50000)
        seen = await asyncio.wait_for(watch, 5)
        assert any(o["id"] == placed["id"] and o["status"] == "open" for o in seen)
    finally:
        await ex.close()
        await sim.stop()
