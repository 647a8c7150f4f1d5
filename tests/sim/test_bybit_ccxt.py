"""ccxt's Bybit client (spot only), pointed at the Bybit simulator, agrees with its state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal as D
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import ccxt.async_support as ccxt
import pytest

from gapless.sim.bybit.wire import ORDER_ID_BASE
from gapless.sim.cluster import RunningSim, start_venue_sim


@pytest.fixture
async def bybit_sim() -> AsyncIterator[RunningSim]:
    s = await start_venue_sim("bybit", host="127.0.0.1", port=0, seed=1, tick_interval=0)
    try:
        yield s
    finally:
        await s.stop()


def _rewrite(node: Any, base: str) -> Any:
    if isinstance(node, dict):
        return {k: _rewrite(v, base) for k, v in node.items()}
    if isinstance(node, str) and node.startswith(("http://", "https://")):
        parts, target = urlsplit(node), urlsplit(base)
        return urlunsplit((target.scheme, target.netloc, parts.path, parts.query, parts.fragment))
    return node


@pytest.fixture
async def client(bybit_sim: RunningSim) -> AsyncIterator[Any]:
    ex = ccxt.bybit({
        "apiKey": bybit_sim.api_key, "secret": bybit_sim.secret, "enableRateLimit": False,
        "options": {"defaultType": "spot", "fetchMarkets": {"types": ["spot"]}},
    })
    ex.urls["api"] = _rewrite(ex.urls["api"], bybit_sim.rest_url)
    try:
        yield ex
    finally:
        await ex.close()


def _d(x: Any) -> D:
    return D(str(x))


async def test_ccxt_round_trip(bybit_sim: RunningSim, client: Any) -> None:
    ex = bybit_sim.exchange
    markets = await client.load_markets()
    m = markets["BTC/USDT"]
    assert m["id"] == "BTCUSDT" and m["spot"] and m["active"]
    assert _d(m["precision"]["price"]) == D("0.01") and _d(m["precision"]["amount"]) == D("0.00001")
    assert _d(m["limits"]["cost"]["min"]) == D("5")
    assert {"BTC/USDT", "ETH/USDT", "ETH/BTC"} <= set(markets)

    bal = await client.fetch_balance()
    assert _d(bal["BTC"]["free"]) == ex.account().free["BTC"] == D("100")
    assert _d(bal["USDT"]["total"]) == D("10000000")

    book = await client.fetch_order_book("BTC/USDT", limit=10)
    _, sim_bids, sim_asks = ex.depth("BTC/USDT", 10)
    assert [(_d(p), _d(q)) for p, q in book["bids"]] == sim_bids
    assert [(_d(p), _d(q)) for p, q in book["asks"]] == sim_asks

    # resting limit buy well below the book, with a client id
    lim = await client.create_order("BTC/USDT", "limit", "buy", 0.01, 50000,
                                    {"clientOrderId": "ccxt-lim-1"})
    assert lim["clientOrderId"] == "ccxt-lim-1"
    [sim_lim] = [o for o in ex.open_orders() if o.client_id == "ccxt-lim-1"]
    assert sim_lim.price == D("50000") and sim_lim.qty == D("0.01")
    assert _d(bal["USDT"]["free"]) - _d((await client.fetch_balance())["USDT"]["free"]) == D("500")
    got = await client.fetch_order(lim["id"], "BTC/USDT", {"acknowledged": True})
    assert got["status"] == "open" and _d(got["amount"]) == D("0.01") and got["id"] == lim["id"]
    assert _d(got["price"]) == D("50000") and got["side"] == "buy" and got["type"] == "limit"
    open_ = await client.fetch_open_orders("BTC/USDT")
    assert [o["id"] for o in open_] == [lim["id"]]
    cancelled = await client.cancel_order(lim["id"], "BTC/USDT")
    assert cancelled["id"] == lim["id"]
    assert sim_lim.status == "CANCELED" and not ex.open_orders()
    assert (await client.fetch_order(lim["id"], "BTC/USDT", {"acknowledged": True}))["status"] == "canceled"

    # market buy sized in base: fills against the book
    mkt = await client.create_order("BTC/USDT", "market", "buy", 0.02)
    got = await client.fetch_order(mkt["id"], "BTC/USDT", {"acknowledged": True})
    sim_mkt = ex.orders[int(mkt["id"]) - ORDER_ID_BASE]
    assert got["status"] == "closed" and _d(got["filled"]) == D("0.02") == sim_mkt.filled
    assert _d(got["cost"]) == sim_mkt.cum_quote

    trades = await client.fetch_my_trades("BTC/USDT")
    sim_fills = ex.user_fills()
    assert len(trades) == len(sim_fills) >= 1
    assert sum((_d(t["amount"]) for t in trades), D(0)) == D("0.02")
    assert {t["order"] for t in trades} == {mkt["id"]}
    for t in trades:
        assert t["side"] == "buy" and t["symbol"] == "BTC/USDT"
        assert t["fee"]["currency"] == "BTC"
    assert {_d(t["price"]) for t in trades} == {f.price for f in sim_fills}

    # market sell sized in base
    sell = await client.create_order("BTC/USDT", "market", "sell", 0.01)
    done = await client.fetch_order(sell["id"], "BTC/USDT", {"acknowledged": True})
    assert done["status"] == "closed" and _d(done["filled"]) == D("0.01")
    bal2 = await client.fetch_balance()
    acc = ex.account()
    assert _d(bal2["BTC"]["total"]) == acc.free["BTC"] + acc.locked["BTC"]
    assert _d(bal2["USDT"]["total"]) == acc.free["USDT"] + acc.locked["USDT"]


async def test_ccxt_errors(bybit_sim: RunningSim, client: Any) -> None:
    await client.load_markets()
    with pytest.raises(ccxt.InsufficientFunds):
        await client.create_order("BTC/USDT", "limit", "sell", 1000, 60000)
    with pytest.raises(ccxt.OrderNotFound):
        await client.cancel_order("1900000000000000999", "BTC/USDT")
    client.secret = "wrong" + client.secret
    with pytest.raises(ccxt.AuthenticationError):
        await client.fetch_balance()
