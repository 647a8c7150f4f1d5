"""python-okx (OKX's own Python SDK, V5), pointed at the OKX simulator.

Every python-okx API class takes ``domain`` (its base URL, handed to httpx as ``base_url``), so
the simulator's URL goes straight into the constructor. ``flag="0"`` is live trading (the SDK
sends it as ``x-simulated-trading``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal as D
from typing import Any

import pytest

from gapless.sim.okx.wire import TRADE_ID_BASE, ord_id

from .conftest import ThreadedSim

okx = pytest.importorskip("okx")
from okx.Account import AccountAPI  # noqa: E402
from okx.MarketData import MarketAPI  # noqa: E402
from okx.PublicData import PublicAPI  # noqa: E402
from okx.Trade import TradeAPI  # noqa: E402


@dataclass
class Apis:
    public: Any
    market: Any
    account: Any
    trade: Any


@pytest.fixture
def apis(okx_sim: ThreadedSim) -> Iterator[Apis]:
    sim = okx_sim.sim
    creds = (sim.api_key, sim.secret, sim.passphrase)
    made = Apis(public=PublicAPI(flag="0", domain=sim.rest_url),
                market=MarketAPI(flag="0", domain=sim.rest_url),
                account=AccountAPI(*creds, flag="0", domain=sim.rest_url),
                trade=TradeAPI(*creds, flag="0", domain=sim.rest_url))
    try:
        yield made
    finally:
        for api in (made.public, made.market, made.account, made.trade):
            api.close()


def _ok(answer: dict[str, Any]) -> list[dict[str, Any]]:
    assert answer["code"] == "0", answer
    data: list[dict[str, Any]] = answer["data"]
    return data


def test_public_calls(okx_sim: ThreadedSim, apis: Apis) -> None:
    ex = okx_sim.sim.exchange
    before = int(time.time() * 1000)
    (server,) = _ok(apis.public.get_system_time())
    assert before - 5000 <= int(server["ts"]) <= before + 5000

    (inst,) = _ok(apis.public.get_instruments(instType="SPOT", instId="BTC-USDT"))
    spec = ex.spec("BTC/USDT")
    assert (inst["baseCcy"], inst["quoteCcy"], inst["state"]) == ("BTC", "USDT", "live")
    assert D(inst["tickSz"]) == spec.tick and D(inst["lotSz"]) == spec.step

    (book,) = _ok(apis.market.get_orderbook(instId="BTC-USDT", sz="10"))
    _, bids, asks = ex.depth("BTC/USDT", 10)
    assert [(D(p), D(q)) for p, q, *_ in book["bids"]] == bids
    assert [(D(p), D(q)) for p, q, *_ in book["asks"]] == asks


def _balances(apis: Apis) -> dict[str, dict[str, str]]:
    (acct,) = _ok(apis.account.get_account_balance())
    return {d["ccy"]: d for d in acct["details"]}


def test_orders_balances_trades(okx_sim: ThreadedSim, apis: Apis) -> None:
    ex = okx_sim.sim.exchange
    acct = ex.account()
    bal = _balances(apis)
    assert D(bal["BTC"]["availBal"]) == acct.free["BTC"] == D(100)
    assert D(bal["USDT"]["cashBal"]) == acct.free["USDT"]

    # resting limit buy with our own clOrdId, queried by it, then canceled
    (placed,) = _ok(apis.trade.place_order(instId="BTC-USDT", tdMode="cash", side="buy",
                                           ordType="limit", sz="0.01", px="50000",
                                           clOrdId="sdklim1"))
    assert placed["sCode"] == "0" and placed["clOrdId"] == "sdklim1"
    (resting,) = ex.open_orders()
    assert placed["ordId"] == ord_id(resting.order_id) and resting.client_id == "sdklim1"
    assert resting.price == D("50000") and resting.qty == D("0.01")
    (got,) = _ok(apis.trade.get_order(instId="BTC-USDT", clOrdId="sdklim1"))
    assert got["state"] == "live" and got["ordId"] == placed["ordId"]
    assert D(got["px"]) == D("50000") and D(got["sz"]) == D("0.01")
    assert acct.locked["USDT"] == D(500)
    assert D(_balances(apis)["USDT"]["frozenBal"]) == acct.locked["USDT"]

    (canceled,) = _ok(apis.trade.cancel_order(instId="BTC-USDT", clOrdId="sdklim1"))
    assert canceled["sCode"] == "0" and canceled["ordId"] == placed["ordId"]
    assert resting.status == "CANCELED" and not ex.open_orders() and acct.locked["USDT"] == 0
    (after,) = _ok(apis.trade.get_order(instId="BTC-USDT", ordId=placed["ordId"]))
    assert after["state"] == "canceled"

    # market buy, size in the base currency, fills against the book
    (mkt,) = _ok(apis.trade.place_order(instId="BTC-USDT", tdMode="cash", side="buy",
                                        ordType="market", sz="0.02", tgtCcy="base_ccy"))
    fills = ex.user_fills()
    assert sum((f.qty for f in fills), D(0)) == D("0.02")
    assert {ord_id(f.order_id) for f in fills} == {mkt["ordId"]}
    (done,) = _ok(apis.trade.get_order(instId="BTC-USDT", ordId=mkt["ordId"]))
    assert done["state"] == "filled" and D(done["accFillSz"]) == D("0.02")

    trades = _ok(apis.trade.get_fills(instType="SPOT", instId="BTC-USDT"))
    assert sorted(t["tradeId"] for t in trades) == sorted(str(TRADE_ID_BASE + f.trade_id) for f in fills)
    assert all(t["ordId"] == mkt["ordId"] and t["side"] == "buy" for t in trades)
    # OKX reports fees as negative numbers (a charge)
    assert sorted((D(t["fillPx"]), D(t["fillSz"]), -D(t["fee"])) for t in trades) == \
        sorted((f.price, f.qty, f.fee) for f in fills)
    assert D(_balances(apis)["BTC"]["availBal"]) == acct.free["BTC"]


def test_errors_come_back_in_the_envelope(okx_sim: ThreadedSim, apis: Apis) -> None:
    unknown = apis.trade.get_order(instId="BTC-USDT", clOrdId="neverplaced")
    assert unknown["code"] == "51603"
    funds = apis.trade.place_order(instId="BTC-USDT", tdMode="cash", side="sell",
                                   ordType="limit", sz="1000", px="70000")
    assert funds["code"] == "1" and funds["data"][0]["sCode"] == "51008"
    assert not okx_sim.sim.exchange.open_orders()
