"""ccxt's OKX client (spot only), pointed at the OKX simulator, agrees with its state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal as D
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import ccxt.async_support as ccxt
import pytest

from gapless.sim.cluster import RunningSim, start_venue_sim


def _rewrite(node: Any, base: str) -> Any:
    """Rewrite scheme+host of every URL (OKX's rest URL is the template ``https://{hostname}``)."""
    if isinstance(node, dict):
        return {k: _rewrite(v, base) for k, v in node.items()}
    if isinstance(node, str) and node.startswith(("http://", "https://", "ws://", "wss://")):
        parts = urlsplit(node)
        target = urlsplit(base)
        scheme = target.scheme if parts.scheme.startswith("http") else "ws"
        return urlunsplit((scheme, target.netloc, parts.path, parts.query, parts.fragment))
    return node


@pytest.fixture
async def okx_sim() -> AsyncIterator[RunningSim]:
    s = await start_venue_sim("okx", host="127.0.0.1", port=0, seed=1, tick_interval=0)
    try:
        yield s
    finally:
        await s.stop()


@pytest.fixture
async def client(okx_sim: RunningSim) -> AsyncIterator[Any]:
    ex = ccxt.okx({
        "apiKey": okx_sim.api_key, "secret": okx_sim.secret, "password": okx_sim.passphrase,
        "enableRateLimit": False,
        "options": {"defaultType": "spot", "fetchMarkets": {"types": ["spot"]}},
    })
    ex.urls["api"] = _rewrite(ex.urls["api"], okx_sim.rest_url)
    try:
        yield ex
    finally:
        await ex.close()


async def test_ccxt_round_trip(okx_sim: RunningSim, client: Any) -> None:
    sim = okx_sim
    ex = sim.exchange
    markets = await client.load_markets()
    m = markets["BTC/USDT"]
    assert m["id"] == "BTC-USDT" and m["spot"]
    assert D(str(m["precision"]["price"])) == D("0.01")
    assert D(str(m["precision"]["amount"])) == D("0.00001")
    assert D(str(m["limits"]["amount"]["min"])) == D("0.00001")
    assert {"BTC/USDT", "ETH/USDT", "BTC/USD", "ETH/USD", "ETH/BTC"} <= set(markets)

    bal = await client.fetch_balance()
    assert D(str(bal["BTC"]["free"])) == ex.account().free["BTC"] == D("100")
    assert D(str(bal["USDT"]["total"])) == D("10000000")

    book = await client.fetch_order_book("BTC/USDT", limit=10)
    _, sim_bids, sim_asks = ex.depth("BTC/USDT", 10)
    assert [(D(str(lv[0])), D(str(lv[1]))) for lv in book["bids"]] == sim_bids
    assert [(D(str(lv[0])), D(str(lv[1]))) for lv in book["asks"]] == sim_asks

    # resting limit buy well below the book
    lim = await client.create_order("BTC/USDT", "limit", "buy", 0.01, 50000)
    oid = int(lim["id"]) - 600_000_000_000_000_000
    core = ex.orders[oid]
    assert core.client_id == lim["clientOrderId"] and core.status == "NEW"
    assert ex.account().locked["USDT"] == D("500")
    got = await client.fetch_order(lim["id"], "BTC/USDT")
    assert got["status"] == "open" and got["clientOrderId"] == lim["clientOrderId"]
    assert D(str(got["price"])) == D("50000") and D(str(got["amount"])) == D("0.01")
    assert D(str(got["filled"])) == 0
    by_cid = await client.fetch_order(None, "BTC/USDT", {"clOrdId": lim["clientOrderId"]})
    assert by_cid["id"] == lim["id"]
    open_orders = await client.fetch_open_orders("BTC/USDT")
    assert [o["id"] for o in open_orders] == [lim["id"]]

    await client.cancel_order(lim["id"], "BTC/USDT")
    assert core.status == "CANCELED" and ex.account().locked["USDT"] == 0
    assert (await client.fetch_order(lim["id"], "BTC/USDT"))["status"] == "canceled"

    # market buy in base units (ccxt sends tgtCcy=base_ccy): fills against the ladder
    mkt = await client.create_order("BTC/USDT", "market", "buy", 0.02)
    filled = await client.fetch_order(mkt["id"], "BTC/USDT")
    core = ex.orders[int(mkt["id"]) - 600_000_000_000_000_000]
    assert filled["status"] == "closed" and core.status == "FILLED"
    assert D(str(filled["filled"])) == core.filled == D("0.02")
    assert D(str(filled["average"])) == core.cum_quote / core.filled
    assert D(str(filled["fee"]["cost"])) == sum(f.fee for f in core.fills)
    assert filled["fee"]["currency"] == "BTC"

    # market sell in base units
    sell = await client.create_order("BTC/USDT", "market", "sell", 0.01)
    s_core = ex.orders[int(sell["id"]) - 600_000_000_000_000_000]
    assert s_core.status == "FILLED" and s_core.filled == D("0.01")

    trades = await client.fetch_my_trades("BTC/USDT")
    sim_fills = ex.user_fills(symbol="BTC/USDT")
    assert len(trades) == len(sim_fills) >= 2
    by_id = {t["id"]: t for t in trades}
    for f in sim_fills:
        t = by_id[str(100_000_000 + f.trade_id)]
        assert D(str(t["price"])) == f.price and D(str(t["amount"])) == f.qty
        assert t["side"] == f.side.lower() and t["order"] == str(600_000_000_000_000_000 + f.order_id)
        assert D(str(t["fee"]["cost"])) == f.fee and t["fee"]["currency"] == f.fee_asset

    bal = await client.fetch_balance()
    acc = ex.account()
    for asset in ("BTC", "USDT"):
        assert D(str(bal[asset]["free"])) == acc.free[asset]
        assert D(str(bal[asset]["total"])) == acc.free[asset] + acc.locked[asset]


async def test_ccxt_errors_map(okx_sim: RunningSim, client: Any) -> None:
    await client.load_markets()
    with pytest.raises(ccxt.InsufficientFunds):
        await client.create_order("BTC/USDT", "limit", "sell", 200, 40000)
    with pytest.raises(ccxt.OrderNotFound):
        await client.fetch_order("600000000000000999", "BTC/USDT")
    okx_sim.faults.order_limit_10s = 0
    with pytest.raises(ccxt.RateLimitExceeded):
        await client.create_order("BTC/USDT", "limit", "buy", 0.01, 50000)
    okx_sim.faults.order_limit_10s = None
    bad = ccxt.okx({"apiKey": okx_sim.api_key, "secret": "0" * 32, "password": okx_sim.passphrase,
                    "options": {"fetchMarkets": {"types": ["spot"]}}})
    bad.urls["api"] = _rewrite(bad.urls["api"], okx_sim.rest_url)
    bad.markets = client.markets
    bad.markets_by_id = client.markets_by_id
    try:
        with pytest.raises(ccxt.AuthenticationError):
            await bad.fetch_balance()
    finally:
        await bad.close()
