"""ccxt's Kraken client (spot), pointed at the Kraken simulator, agrees with its state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal as D
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import ccxt.async_support as ccxt
import pytest

from gapless.sim.cluster import RunningSim, start_venue_sim


@pytest.fixture
async def ksim() -> AsyncIterator[RunningSim]:
    s = await start_venue_sim("kraken", host="127.0.0.1", port=0, seed=1, tick_interval=0)
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
async def client(ksim: RunningSim) -> AsyncIterator[Any]:
    ex = ccxt.kraken({"apiKey": ksim.api_key, "secret": ksim.secret, "enableRateLimit": False,
                      "options": {"defaultType": "spot"}})
    ex.urls["api"] = _rewrite(ex.urls["api"], ksim.rest_url)
    try:
        yield ex
    finally:
        await ex.close()


async def test_ccxt_round_trip(ksim: RunningSim, client: Any) -> None:
    ex = ksim.exchange
    markets = await client.load_markets()
    m = markets["BTC/USD"]
    assert m["id"] == "XXBTZUSD" and m["altname"] == "XBTUSD" and m["spot"]
    assert D(str(m["precision"]["price"])) == D("0.1")
    assert D(str(m["limits"]["amount"]["min"])) == D("0.00005")
    assert {"BTC/USD", "ETH/USD", "BTC/USDT", "ETH/USDT", "ETH/BTC"} <= set(markets)

    bal = await client.fetch_balance()
    assert D(str(bal["BTC"]["total"])) == ex.account().free["BTC"] == D("100")
    assert D(str(bal["USD"]["free"])) == D("10000000")

    book = await client.fetch_order_book("BTC/USD", limit=10)
    _, bids, asks = ex.depth("BTC/USD", 10)
    assert [(D(str(p)), D(str(q))) for p, q, *_ in book["bids"]] == bids
    assert [(D(str(p)), D(str(q))) for p, q, *_ in book["asks"]] == asks

    # resting limit buy well below the book, found, then canceled
    lim = await client.create_order("BTC/USD", "limit", "buy", 0.01, 50000)
    (resting,) = ex.open_orders()
    assert resting.price == D("50000") and resting.qty == D("0.01")
    got = await client.fetch_order(lim["id"])
    assert got["status"] == "open" and got["symbol"] == "BTC/USD"
    assert D(str(got["amount"])) == D("0.01") and D(str(got["price"])) == D("50000")
    locked = ex.account().locked["USD"]
    assert locked == D("500") and D(str((await client.fetch_balance())["USD"]["used"])) == locked
    await client.cancel_order(lim["id"])
    assert not ex.open_orders()
    assert (await client.fetch_order(lim["id"]))["status"] == "canceled"
    assert ex.account().locked["USD"] == 0

    # market buy fills against the book
    mkt = await client.create_order("BTC/USD", "market", "buy", 0.02)
    filled = await client.fetch_order(mkt["id"])
    assert filled["status"] == "closed" and D(str(filled["filled"])) == D("0.02")
    sim_fills = ex.user_fills()
    assert sum((f.qty for f in sim_fills), D(0)) == D("0.02")
    assert D(str(filled["average"])) == sum((f.quote_qty for f in sim_fills), D(0)) / D("0.02")
    assert len(filled["trades"]) == len(sim_fills)

    trades = await client.fetch_my_trades("BTC/USD")
    assert len(trades) == len(sim_fills)
    assert {D(str(t["price"])) for t in trades} == {f.price for f in sim_fills}
    assert all(t["order"] == mkt["id"] and t["side"] == "buy" for t in trades)
    bal = await client.fetch_balance()
    assert D(str(bal["BTC"]["total"])) == ex.account().free["BTC"]


async def test_ccxt_maps_kraken_errors(ksim: RunningSim, client: Any) -> None:
    await client.load_markets()
    with pytest.raises(ccxt.InsufficientFunds):
        await client.create_order("BTC/USD", "limit", "sell", 1000, 70000)
    with pytest.raises(ccxt.OrderNotFound):
        await client.cancel_order("OAAAAA-BBBBB-CCCCCC")
    bad_key = ccxt.kraken({"apiKey": "nope", "secret": ksim.secret, "enableRateLimit": False})
    # ccxt has no entry for EAPI:Invalid signature: it surfaces as a plain ExchangeError
    bad_sig = ccxt.kraken({"apiKey": ksim.api_key, "secret": "c2VjcmV0", "enableRateLimit": False})
    for c in (bad_key, bad_sig):
        c.urls["api"] = _rewrite(c.urls["api"], ksim.rest_url)
    try:
        with pytest.raises(ccxt.AuthenticationError):
            await bad_key.fetch_balance()
        with pytest.raises(ccxt.ExchangeError, match="EAPI:Invalid signature"):
            await bad_sig.fetch_balance()
    finally:
        await bad_key.close()
        await bad_sig.close()
