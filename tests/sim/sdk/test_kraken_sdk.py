"""python-kraken-sdk (the community SDK Kraken links to), pointed at the Kraken simulator.

Every Spot client (``Market``, ``User``, ``Trade``) takes ``url=`` (its base URL); requests go
to ``url + /0/public/...`` or ``/0/private/...``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from typing import Any

import pytest

from .conftest import ThreadedSim

kraken = pytest.importorskip("kraken")
from kraken.exceptions import KrakenInsufficientFundsError, KrakenUnknownOrderError  # noqa: E402
from kraken.spot import Market, Trade, User  # noqa: E402


@dataclass
class Clients:
    market: Any
    user: Any
    trade: Any


@pytest.fixture
def clients(kraken_sim: ThreadedSim) -> Clients:
    sim = kraken_sim.sim
    return Clients(market=Market(url=sim.rest_url),
                   user=User(key=sim.api_key, secret=sim.secret, url=sim.rest_url),
                   trade=Trade(key=sim.api_key, secret=sim.secret, url=sim.rest_url))


def test_public_calls(kraken_sim: ThreadedSim, clients: Clients) -> None:
    ex = kraken_sim.sim.exchange
    status = clients.market.get_system_status()
    assert status["status"] == "online"
    stamp = datetime.strptime(status["timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs(stamp - datetime.now(UTC)) < timedelta(seconds=5)
    # the SDK has no wrapper for /0/public/Time; its generic request() reaches it
    server = clients.market.request("GET", "/0/public/Time", auth=False)
    assert abs(server["unixtime"] - time.time()) < 5

    pairs = clients.market.get_asset_pairs(pair="XBTUSD")
    ((key, pair),) = pairs.items()
    spec = ex.spec("BTC/USD")
    assert key == "XXBTZUSD" and pair["altname"] == "XBTUSD"
    assert D(pair["tick_size"]) == spec.tick and D(pair["ordermin"]) == spec.min_qty

    book = clients.market.get_order_book(pair="XBTUSD", count=10)["XXBTZUSD"]
    _, bids, asks = ex.depth("BTC/USD", 10)
    assert [(D(p), D(q)) for p, q, _ in book["bids"]] == bids
    assert [(D(p), D(q)) for p, q, _ in book["asks"]] == asks


def test_orders_balances_trades(kraken_sim: ThreadedSim, clients: Clients) -> None:
    ex = kraken_sim.sim.exchange
    acct = ex.account()
    bal = clients.user.get_account_balance()
    assert D(bal["XXBT"]) == acct.free["BTC"] == D(100)
    assert D(bal["ZUSD"]) == acct.free["USD"]

    # resting limit buy with our own cl_ord_id, queried, then canceled by that id
    placed = clients.trade.create_order(ordertype="limit", side="buy", pair="XBTUSD",
                                        volume="0.01", price="50000", cl_ord_id="sdk-lim-1")
    (txid,) = placed["txid"]
    (resting,) = ex.open_orders()
    assert resting.client_id == "sdk-lim-1"
    assert resting.price == D("50000") and resting.qty == D("0.01")
    got = clients.user.get_orders_info(txid=txid)[txid]
    assert got["status"] == "open" and got["cl_ord_id"] == "sdk-lim-1"
    assert D(got["vol"]) == D("0.01") and D(got["descr"]["price"]) == D("50000")
    assert list(clients.user.get_open_orders()["open"]) == [txid]
    assert acct.locked["USD"] == D(500)
    ex_bal = clients.user.get_balances()
    assert D(ex_bal["ZUSD"]["hold_trade"]) == acct.locked["USD"]

    assert clients.trade.cancel_order(cl_ord_id="sdk-lim-1")["count"] == 1
    assert resting.status == "CANCELED" and not ex.open_orders() and acct.locked["USD"] == 0
    assert clients.user.get_orders_info(txid=txid)[txid]["status"] == "canceled"

    # market buy fills against the book
    mkt = clients.trade.create_order(ordertype="market", side="buy", pair="XBTUSD",
                                     volume="0.02")
    (mtx,) = mkt["txid"]
    fills = ex.user_fills()
    assert sum((f.qty for f in fills), D(0)) == D("0.02")
    done = clients.user.get_orders_info(txid=mtx, trades=True)[mtx]
    assert done["status"] == "closed" and D(done["vol_exec"]) == D("0.02")
    assert D(done["cost"]) == sum((f.quote_qty for f in fills), D(0))
    assert len(done["trades"]) == len(fills)

    trades = clients.user.get_trades_history()["trades"]
    assert sorted(trades) == sorted(done["trades"])
    assert all(t["ordertxid"] == mtx and t["type"] == "buy" for t in trades.values())
    assert sorted((D(t["price"]), D(t["vol"]), D(t["fee"])) for t in trades.values()) == \
        sorted((f.price, f.qty, f.fee) for f in fills)
    assert D(clients.user.get_account_balance()["XXBT"]) == acct.free["BTC"]


def test_errors_surface_as_sdk_exceptions(kraken_sim: ThreadedSim, clients: Clients) -> None:
    with pytest.raises(KrakenUnknownOrderError):
        clients.trade.cancel_order(txid="OAAAAA-BBBBB-CCCCCC")
    with pytest.raises(KrakenInsufficientFundsError):
        clients.trade.create_order(ordertype="limit", side="sell", pair="XBTUSD",
                                   volume="1000", price="70000")
    assert not kraken_sim.sim.exchange.open_orders()
