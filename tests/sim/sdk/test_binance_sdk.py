"""python-binance (the venue's own Python SDK), pointed at the Binance simulator.

python-binance builds every Spot URL from the ``API_URL`` attribute, which ``__init__``
formats into an instance attribute; setting it on the instance after construction (with
``ping=False`` so the constructor makes no request) points the client at the simulator.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal as D
from typing import Any

import pytest

from .conftest import ThreadedSim

binance = pytest.importorskip("binance")
from binance.client import Client  # noqa: E402
from binance.exceptions import BinanceAPIException  # noqa: E402


@pytest.fixture
def client(binance_sim: ThreadedSim) -> Iterator[Any]:
    sim = binance_sim.sim
    c = Client(sim.api_key, sim.secret, ping=False)
    c.API_URL = sim.rest_url + "/api"
    try:
        yield c
    finally:
        c.close_connection()


def test_public_calls(binance_sim: ThreadedSim, client: Any) -> None:
    ex = binance_sim.sim.exchange
    client.ping()
    before = int(time.time() * 1000)
    server = client.get_server_time()["serverTime"]
    assert before - 5000 <= server <= int(time.time() * 1000) + 5000

    info = client.get_symbol_info("BTCUSDT")
    spec = ex.spec("BTC/USDT")
    assert info["baseAsset"] == "BTC" and info["quoteAsset"] == "USDT"
    filters = {f["filterType"]: f for f in info["filters"]}
    assert D(filters["PRICE_FILTER"]["tickSize"]) == spec.tick
    assert D(filters["LOT_SIZE"]["stepSize"]) == spec.step

    book = client.get_order_book(symbol="BTCUSDT", limit=10)
    update_id, bids, asks = ex.depth("BTC/USDT", 10)
    assert book["lastUpdateId"] == update_id
    assert [(D(p), D(q)) for p, q in book["bids"]] == bids
    assert [(D(p), D(q)) for p, q in book["asks"]] == asks


def test_orders_balances_trades(binance_sim: ThreadedSim, client: Any) -> None:
    ex = binance_sim.sim.exchange
    acct = ex.account()
    usdt = client.get_asset_balance(asset="USDT")
    assert D(usdt["free"]) == acct.free["USDT"] and D(usdt["locked"]) == 0
    balances = {b["asset"]: D(b["free"]) for b in client.get_account()["balances"]}
    assert balances["BTC"] == acct.free["BTC"] == D(100)

    # resting limit buy with our own client id, queried by that id, then canceled
    placed = client.order_limit_buy(symbol="BTCUSDT", quantity="0.01", price="50000",
                                    newClientOrderId="sdk-lim-1")
    (resting,) = ex.open_orders()
    assert placed["orderId"] == resting.order_id and resting.client_id == "sdk-lim-1"
    assert resting.price == D("50000") and resting.qty == D("0.01")
    got = client.get_order(symbol="BTCUSDT", origClientOrderId="sdk-lim-1")
    assert got["status"] == "NEW" and got["orderId"] == resting.order_id
    assert D(got["price"]) == D("50000") and D(got["origQty"]) == D("0.01")
    assert D(client.get_asset_balance(asset="USDT")["locked"]) == acct.locked["USDT"] == D(500)
    assert [o["clientOrderId"] for o in client.get_open_orders(symbol="BTCUSDT")] == ["sdk-lim-1"]

    canceled = client.cancel_order(symbol="BTCUSDT", orderId=placed["orderId"])
    assert canceled["status"] == "CANCELED" and resting.status == "CANCELED"
    assert not ex.open_orders() and acct.locked["USDT"] == 0
    assert client.get_order(symbol="BTCUSDT", orderId=placed["orderId"])["status"] == "CANCELED"

    # market buy fills against the book
    mkt = client.order_market_buy(symbol="BTCUSDT", quantity="0.02")
    fills = ex.user_fills()
    assert mkt["status"] == "FILLED" and D(mkt["executedQty"]) == D("0.02")
    assert sum((f.qty for f in fills), D(0)) == D("0.02")
    assert D(mkt["cummulativeQuoteQty"]) == sum((f.quote_qty for f in fills), D(0))
    assert [int(f["tradeId"]) for f in mkt["fills"]] == [f.trade_id for f in fills]

    trades = client.get_my_trades(symbol="BTCUSDT")
    assert [t["id"] for t in trades] == [f.trade_id for f in fills]
    assert all(t["orderId"] == mkt["orderId"] and t["isBuyer"] for t in trades)
    assert [(D(t["price"]), D(t["qty"]), D(t["commission"])) for t in trades] == \
        [(f.price, f.qty, f.fee) for f in fills]
    assert D(client.get_asset_balance(asset="BTC")["free"]) == acct.free["BTC"]


def test_errors_surface_as_sdk_exceptions(binance_sim: ThreadedSim, client: Any) -> None:
    with pytest.raises(BinanceAPIException) as unknown:
        client.get_order(symbol="BTCUSDT", origClientOrderId="never-placed")
    assert unknown.value.code == -2013
    with pytest.raises(BinanceAPIException) as funds:
        client.order_limit_sell(symbol="BTCUSDT", quantity="1000", price="70000")
    assert funds.value.code == -2010
    assert not binance_sim.sim.exchange.open_orders()
