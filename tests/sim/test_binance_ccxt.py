"""ccxt's Binance client, pointed at the simulator, agrees with the simulator's state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal as D
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import ccxt.async_support as ccxt
import pytest

from gapless.sim.cluster import RunningSim


def _rewrite(node: Any, base: str) -> Any:
    if isinstance(node, dict):
        return {k: _rewrite(v, base) for k, v in node.items()}
    if isinstance(node, str) and node.startswith(("http://", "https://", "ws://", "wss://")):
        parts = urlsplit(node)
        target = urlsplit(base)
        scheme = target.scheme if parts.scheme.startswith("http") else "ws"
        return urlunsplit((scheme, target.netloc, parts.path, parts.query, parts.fragment))
    return node


@pytest.fixture
async def client(sim: RunningSim) -> AsyncIterator[Any]:
    ex = ccxt.binance({
        "apiKey": sim.api_key, "secret": sim.secret, "enableRateLimit": False,
        "options": {"defaultType": "spot", "fetchMarkets": {"types": ["spot"]},
                    "fetchCurrencies": False, "fetchMargins": False},
    })
    ex.urls["api"] = _rewrite(ex.urls["api"], sim.rest_url)
    try:
        yield ex
    finally:
        await ex.close()


async def test_ccxt_round_trip(sim: RunningSim, client: Any) -> None:
    markets = await client.load_markets()
    m = markets["BTC/USDT"]
    assert m["id"] == "BTCUSDT" and m["spot"]
    assert D(str(m["precision"]["price"])) == D("0.01")
    assert D(str(m["limits"]["cost"]["min"])) == D("5")
    assert {"BTC/USDT", "ETH/USDT", "BTC/USD", "ETH/USD", "ETH/BTC"} <= set(markets)

    bal = await client.fetch_balance()
    assert D(str(bal["BTC"]["free"])) == sim.exchange.account().free["BTC"] == D("100")
    assert D(str(bal["USDT"]["total"])) == D("10000000")

    book = await client.fetch_order_book("BTC/USDT", limit=10)
    sim_uid, sim_bids, sim_asks = sim.exchange.depth("BTC/USDT", 10)
    assert book["nonce"] == sim_uid
    assert [(D(str(p)), D(str(q))) for p, q in book["bids"]] == sim_bids
    assert [(D(str(p)), D(str(q))) for p, q in book["asks"]] == sim_asks

    # resting limit buy well below the book
    lim = await client.create_order("BTC/USDT", "limit", "buy", 0.01, 50000)
    core = sim.exchange.orders[int(lim["id"])]
    assert lim["status"] == "open" and core.status == "NEW" and core.price == D("50000")
    assert sim.exchange.account().locked["USDT"] == D("500")
    fetched = await client.fetch_order(lim["id"], "BTC/USDT")
    assert fetched["status"] == "open" and fetched["clientOrderId"] == core.client_id
    canceled = await client.cancel_order(lim["id"], "BTC/USDT")
    assert canceled["status"] == "canceled" and core.status == "CANCELED"
    assert sim.exchange.account().locked["USDT"] == 0

    # market buy walks the synthetic book
    mkt = await client.create_order("BTC/USDT", "market", "buy", 0.3)
    core = sim.exchange.orders[int(mkt["id"])]
    assert mkt["status"] == "closed" and core.status == "FILLED"
    assert D(str(mkt["filled"])) == core.filled == D("0.3")
    assert D(str(mkt["cost"])) == core.cum_quote
    assert len(mkt["trades"]) == len(core.fills)

    # a resting order filled by a synthetic taker shows up in myTrades
    sell = await client.create_order("BTC/USDT", "limit", "sell", 0.02, 65000)
    sim.liquidity.set_mid("BTC/USDT", D("66000"))
    fetched = await client.fetch_order(sell["id"], "BTC/USDT")
    assert fetched["status"] == "closed" and D(str(fetched["filled"])) == D("0.02")

    trades = await client.fetch_my_trades("BTC/USDT")
    fills = sim.exchange.user_fills(symbol="BTC/USDT")
    assert sorted(int(t["id"]) for t in trades) == sorted(f.trade_id for f in fills)
    by_id = {int(t["id"]): t for t in trades}
    for f in fills:
        t = by_id[f.trade_id]
        assert D(str(t["price"])) == f.price and D(str(t["amount"])) == f.qty
        assert t["takerOrMaker"] == ("maker" if f.is_maker else "taker")
        assert D(str(t["fee"]["cost"])) == f.fee and t["fee"]["currency"] == f.fee_asset

    bal = await client.fetch_balance()
    acc = sim.exchange.account()
    for asset in ("BTC", "USDT"):
        assert D(str(bal[asset]["free"])) == acc.free[asset]
