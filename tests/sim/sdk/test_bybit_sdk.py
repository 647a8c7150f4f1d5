"""pybit (Bybit's own Python SDK, V5 ``unified_trading.HTTP``), pointed at the Bybit simulator.

pybit computes ``endpoint`` (``https://api.bybit.com``) in ``__post_init__`` and prefixes it to
every request path; replacing that instance attribute after construction points the session
at the simulator.
"""

from __future__ import annotations

import time
from decimal import Decimal as D
from typing import Any

import pytest

from gapless.sim.bybit.wire import exec_id_str, order_id_str

from .conftest import ThreadedSim

pybit = pytest.importorskip("pybit")
from pybit.exceptions import InvalidRequestError  # noqa: E402
from pybit.unified_trading import HTTP  # noqa: E402


@pytest.fixture
def client(bybit_sim: ThreadedSim) -> Any:
    sim = bybit_sim.sim
    session = HTTP(api_key=sim.api_key, api_secret=sim.secret, max_retries=1, retry_delay=0)
    session.endpoint = sim.rest_url
    return session


def test_public_calls(bybit_sim: ThreadedSim, client: Any) -> None:
    ex = bybit_sim.sim.exchange
    before = int(time.time() * 1000)
    server = client.get_server_time()
    assert server["retCode"] == 0
    assert before - 5000 <= int(server["result"]["timeNano"]) // 1_000_000 <= before + 5000

    (inst,) = client.get_instruments_info(category="spot", symbol="BTCUSDT")["result"]["list"]
    spec = ex.spec("BTC/USDT")
    assert (inst["baseCoin"], inst["quoteCoin"], inst["status"]) == ("BTC", "USDT", "Trading")
    assert D(inst["priceFilter"]["tickSize"]) == spec.tick
    assert D(inst["lotSizeFilter"]["basePrecision"]) == spec.step

    book = client.get_orderbook(category="spot", symbol="BTCUSDT", limit=10)["result"]
    _, bids, asks = ex.depth("BTC/USDT", 10)
    assert book["s"] == "BTCUSDT"
    assert [(D(p), D(q)) for p, q in book["b"]] == bids
    assert [(D(p), D(q)) for p, q in book["a"]] == asks


def _coins(client: Any) -> dict[str, dict[str, str]]:
    (acct,) = client.get_wallet_balance(accountType="UNIFIED")["result"]["list"]
    return {c["coin"]: c for c in acct["coin"]}


def test_orders_balances_trades(bybit_sim: ThreadedSim, client: Any) -> None:
    ex = bybit_sim.sim.exchange
    acct = ex.account()
    coins = _coins(client)
    assert D(coins["BTC"]["walletBalance"]) == acct.free["BTC"] == D(100)
    assert D(coins["USDT"]["walletBalance"]) == acct.free["USDT"]

    # resting limit buy with our own orderLinkId, queried by it, then canceled
    placed = client.place_order(category="spot", symbol="BTCUSDT", side="Buy", orderType="Limit",
                                qty="0.01", price="50000", timeInForce="GTC",
                                orderLinkId="sdk-lim-1")["result"]
    (resting,) = ex.open_orders()
    assert placed["orderId"] == order_id_str(resting.order_id) and placed["orderLinkId"] == "sdk-lim-1"
    assert resting.client_id == "sdk-lim-1"
    assert resting.price == D("50000") and resting.qty == D("0.01")
    (got,) = client.get_open_orders(category="spot", symbol="BTCUSDT",
                                    orderLinkId="sdk-lim-1")["result"]["list"]
    assert got["orderStatus"] == "New" and got["orderId"] == placed["orderId"]
    assert D(got["price"]) == D("50000") and D(got["qty"]) == D("0.01")
    assert acct.locked["USDT"] == D(500)
    assert D(_coins(client)["USDT"]["locked"]) == acct.locked["USDT"]

    canceled = client.cancel_order(category="spot", symbol="BTCUSDT",
                                   orderLinkId="sdk-lim-1")["result"]
    assert canceled["orderId"] == placed["orderId"]
    assert resting.status == "CANCELED" and not ex.open_orders() and acct.locked["USDT"] == 0
    (hist,) = client.get_order_history(category="spot", orderLinkId="sdk-lim-1")["result"]["list"]
    assert hist["orderStatus"] == "Cancelled"

    # market buy (qty in the base coin) fills against the book
    mkt = client.place_order(category="spot", symbol="BTCUSDT", side="Buy", orderType="Market",
                             qty="0.02", marketUnit="baseCoin")["result"]
    fills = ex.user_fills()
    assert sum((f.qty for f in fills), D(0)) == D("0.02")
    assert {order_id_str(f.order_id) for f in fills} == {mkt["orderId"]}
    (done,) = client.get_order_history(category="spot", orderId=mkt["orderId"])["result"]["list"]
    assert done["orderStatus"] == "Filled" and D(done["cumExecQty"]) == D("0.02")
    assert D(done["cumExecValue"]) == sum((f.quote_qty for f in fills), D(0))

    execs = client.get_executions(category="spot", symbol="BTCUSDT")["result"]["list"]
    assert sorted(e["execId"] for e in execs) == sorted(exec_id_str(f.trade_id) for f in fills)
    assert all(e["orderId"] == mkt["orderId"] and e["side"] == "Buy" for e in execs)
    assert sorted((D(e["execPrice"]), D(e["execQty"]), D(e["execFee"])) for e in execs) == \
        sorted((f.price, f.qty, f.fee) for f in fills)
    assert D(_coins(client)["BTC"]["walletBalance"]) == acct.free["BTC"]


def test_errors_surface_as_sdk_exceptions(bybit_sim: ThreadedSim, client: Any) -> None:
    with pytest.raises(InvalidRequestError) as unknown:
        client.cancel_order(category="spot", symbol="BTCUSDT", orderLinkId="never-placed")
    assert unknown.value.status_code == 170213
    with pytest.raises(InvalidRequestError) as funds:
        client.place_order(category="spot", symbol="BTCUSDT", side="Sell", orderType="Limit",
                           qty="1000", price="70000")
    assert funds.value.status_code == 170131
    assert not bybit_sim.sim.exchange.open_orders()
