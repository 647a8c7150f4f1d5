"""coinbase-advanced-py (Coinbase's own Advanced Trade SDK), pointed at the Coinbase simulator.

The SDK takes ``base_url`` as a *host* (``api.coinbase.com``) and always requests
``https://{base_url}{path}``; the JWT it signs names ``"METHOD {base_url}{path}"``. The
simulator speaks plain HTTP on loopback, so the test gives the SDK the simulator's
``127.0.0.1:PORT`` as ``base_url`` and mounts, on the SDK's public ``requests`` session, a
transport adapter for that one ``https://`` prefix that sends the same request over ``http://``.
Nothing else about the request (path, query, body, headers, JWT) changes.
"""

from __future__ import annotations

import time
from decimal import Decimal as D
from typing import Any

import pytest

from .conftest import ThreadedSim

coinbase = pytest.importorskip("coinbase")
import requests  # noqa: E402
from coinbase.rest import RESTClient  # noqa: E402
from requests.adapters import HTTPAdapter  # noqa: E402


class _PlainHttp(HTTPAdapter):
    """Carries a request the SDK built for ``https://host`` over ``http://host``."""

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        assert request.url is not None and request.url.startswith("https://")
        request.url = "http://" + request.url.removeprefix("https://")
        return super().send(request, *args, **kwargs)


@pytest.fixture
def client(coinbase_sim: ThreadedSim) -> Any:
    sim = coinbase_sim.sim
    host = sim.rest_url.removeprefix("http://")
    c = RESTClient(api_key=sim.api_key, api_secret=sim.secret, base_url=host, timeout=5)
    c.session.mount(f"https://{host}", _PlainHttp())
    return c


def test_public_calls(coinbase_sim: ThreadedSim, client: Any) -> None:
    ex = coinbase_sim.sim.exchange
    before = int(time.time() * 1000)
    server = int(client.get_unix_time()["epoch_millis"])
    assert before - 5000 <= server <= before + 5000

    product = client.get_product("BTC-USD")
    spec = ex.spec("BTC/USD")
    assert (product["base_currency_id"], product["quote_currency_id"]) == ("BTC", "USD")
    assert product["product_type"] == "SPOT" and product["status"] == "online"
    assert D(product["price_increment"]) == spec.tick
    assert D(product["base_increment"]) == spec.step
    listed = {p["product_id"] for p in client.get_products(product_type="SPOT")["products"]}
    assert {"BTC-USD", "ETH-USD", "ETH-BTC"} <= listed

    book = client.get_product_book("BTC-USD", limit=10)["pricebook"]
    _, bids, asks = ex.depth("BTC/USD", 10)
    assert [(D(lv["price"]), D(lv["size"])) for lv in book["bids"]] == bids
    assert [(D(lv["price"]), D(lv["size"])) for lv in book["asks"]] == asks


def _wallets(client: Any) -> dict[str, Any]:
    return {a["currency"]: a for a in client.get_accounts(limit=250)["accounts"]}


def test_orders_balances_trades(coinbase_sim: ThreadedSim, client: Any) -> None:
    ex = coinbase_sim.sim.exchange
    acct = ex.account()
    wallets = _wallets(client)
    assert D(wallets["BTC"]["available_balance"]["value"]) == acct.free["BTC"] == D(100)
    assert D(wallets["USD"]["available_balance"]["value"]) == acct.free["USD"]

    # resting limit buy with our own client_order_id, queried, then canceled
    placed = client.limit_order_gtc(client_order_id="sdk-lim-1", product_id="BTC-USD",
                                    side="BUY", base_size="0.01", limit_price="50000")
    assert placed["success"] is True
    oid = placed["order_id"]
    (resting,) = ex.open_orders()
    assert resting.client_id == "sdk-lim-1"
    assert resting.price == D("50000") and resting.qty == D("0.01")
    got = client.get_order(oid)["order"]
    assert got["status"] == "OPEN" and got["client_order_id"] == "sdk-lim-1"
    cfg = got["order_configuration"]["limit_limit_gtc"]
    assert D(cfg["base_size"]) == D("0.01") and D(cfg["limit_price"]) == D("50000")
    assert acct.locked["USD"] == D(500)
    assert D(_wallets(client)["USD"]["hold"]["value"]) == acct.locked["USD"]

    (result,) = client.cancel_orders(order_ids=[oid])["results"]
    assert result["success"] is True and result["order_id"] == oid
    assert resting.status == "CANCELED" and not ex.open_orders() and acct.locked["USD"] == 0
    assert client.get_order(oid)["order"]["status"] == "CANCELLED"

    # market buy sized in the base currency fills against the book
    mkt = client.market_order_buy(client_order_id="sdk-mkt-1", product_id="BTC-USD",
                                  base_size="0.02")
    assert mkt["success"] is True
    fills = ex.user_fills()
    assert sum((f.qty for f in fills), D(0)) == D("0.02")
    done = client.get_order(mkt["order_id"])["order"]
    assert done["status"] == "FILLED" and D(done["filled_size"]) == D("0.02")
    assert D(done["filled_value"]) == sum((f.quote_qty for f in fills), D(0))
    assert int(done["number_of_fills"]) == len(fills)

    trades = client.get_fills(order_ids=[mkt["order_id"]])["fills"]
    assert len(trades) == len(fills)
    assert all(t["order_id"] == mkt["order_id"] and t["side"] == "BUY" for t in trades)
    assert sorted((D(t["price"]), D(t["size"]), D(t["commission"])) for t in trades) == \
        sorted((f.price, f.qty, f.fee) for f in fills)
    assert D(_wallets(client)["BTC"]["available_balance"]["value"]) == acct.free["BTC"]


def test_errors_reach_the_caller(coinbase_sim: ThreadedSim, client: Any) -> None:
    with pytest.raises(requests.HTTPError) as unknown:
        client.get_order("00000000-0000-0000-0000-000000000000")
    response = unknown.value.response
    assert response is not None and response.status_code == 404
    funds = client.limit_order_gtc(client_order_id="sdk-big-1", product_id="BTC-USD",
                                   side="SELL", base_size="1000", limit_price="70000")
    assert funds["success"] is False
    assert funds["response"]["error"] == "INSUFFICIENT_FUND"
    assert not coinbase_sim.sim.exchange.open_orders()
