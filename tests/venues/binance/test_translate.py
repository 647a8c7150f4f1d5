from __future__ import annotations

from decimal import Decimal

import orjson
import pytest

from gapless.model import Order, OrderState, OrderType, Side, TimeInForce
from gapless.model.errors import FilterViolation, InvalidIntent, MalformedResponse
from gapless.venues.binance.translate import (
    STATUS_MAP,
    balances_from,
    book_from,
    decode_account,
    decode_depth,
    decode_exchange_info,
    decode_order,
    decode_trades,
    fill_from_trade,
    fmt_decimal,
    instruments_from,
    order_query,
    quantum_of,
    report_from,
    spec_for,
    state_of,
)

D = Decimal

EXCHANGE_INFO = {
    "timezone": "UTC",
    "serverTime": 1,
    "rateLimits": [
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000}
    ],
    "symbols": [
        {
            "symbol": "BTCUSDT",
            "status": "TRADING",
            "baseAsset": "BTC",
            "quoteAsset": "USDT",
            "orderTypes": ["LIMIT", "MARKET"],
            "filters": [
                {"filterType": "PRICE_FILTER", "minPrice": "0.01000000",
                 "maxPrice": "1000000.00000000", "tickSize": "0.01000000"},
                {"filterType": "LOT_SIZE", "minQty": "0.00001000", "maxQty": "9000.00000000",
                 "stepSize": "0.00001000"},
                {"filterType": "NOTIONAL", "minNotional": "5.00000000", "applyMinToMarket": True},
                {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
            ],
        },
        {
            "symbol": "SHIBUSDT", "status": "TRADING", "baseAsset": "SHIB", "quoteAsset": "USDT",
            "filters": [
                {"filterType": "PRICE_FILTER", "minPrice": "0", "maxPrice": "0",
                 "tickSize": "0.00000001"},
                {"filterType": "LOT_SIZE", "minQty": "1", "maxQty": "0", "stepSize": "100.00"},
            ],
        },
    ],
}


@pytest.fixture
def instruments():  # type: ignore[no-untyped-def]
    return instruments_from(decode_exchange_info(orjson.dumps(EXCHANGE_INFO)), "binance")


def make_order(**kw: object) -> Order:
    base: dict[str, object] = dict(
        intent_id="i1", venue="binance", symbol="BTC/USDT", side=Side.BUY,
        type=OrderType.LIMIT, qty=D("0.00100"), price=D("50000.10"), tif=TimeInForce.GTC,
        client_order_id="i1",
    )
    base.update(kw)
    return Order(**base)  # type: ignore[arg-type]


def test_instruments_and_symbol_mapping(instruments) -> None:  # type: ignore[no-untyped-def]
    btc = instruments["BTC/USDT"]
    assert btc.venue_symbol == "BTCUSDT" and btc.base == "BTC" and btc.quote == "USDT"
    assert btc.tick_size == D("0.01") and btc.step_size == D("0.00001")
    assert btc.min_notional == D("5") and btc.max_qty == D("9000")
    assert instruments["SHIB/USDT"].venue_symbol == "SHIBUSDT"


def test_quantum_and_plain_formatting() -> None:
    assert quantum_of(D("0.01000000")) == D("0.01")
    assert quantum_of(D("100.00")) == D("1")
    assert fmt_decimal(D("1E-8"), quantum_of(D("0.00000001"))) == "0.00000001"
    assert fmt_decimal(D("5E+4"), D("0.01")) == "50000.00"
    assert fmt_decimal(D("3E+2"), D("1")) == "300"
    assert fmt_decimal(D("0.1"), D(0)) == "0.1"
    with pytest.raises(FilterViolation):
        fmt_decimal(D("0.015"), D("0.01"))
    with pytest.raises(InvalidIntent):
        fmt_decimal(D("NaN"), D("0.01"))


def test_order_query_shapes(instruments) -> None:  # type: ignore[no-untyped-def]
    spec = spec_for(instruments["BTC/USDT"])
    assert order_query(spec, make_order()) == (
        "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.00100&price=50000.10"
        "&newClientOrderId=i1&newOrderRespType=FULL"
    )
    q = order_query(spec, make_order(tif=TimeInForce.IOC, side=Side.SELL))
    assert "&side=SELL&type=LIMIT&timeInForce=IOC&" in q
    assert "timeInForce=FOK" in order_query(spec, make_order(tif=TimeInForce.FOK))
    po = order_query(spec, make_order(tif=TimeInForce.POST_ONLY))
    assert "&type=LIMIT_MAKER&" in po and "timeInForce" not in po
    mkt = order_query(spec, make_order(type=OrderType.MARKET, price=None, qty=D("1E-5")))
    assert mkt == (
        "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.00001&newClientOrderId=i1"
        "&newOrderRespType=FULL"
    )
    with pytest.raises(InvalidIntent):
        order_query(spec, make_order(client_order_id="bad id!"))
    with pytest.raises(InvalidIntent):
        order_query(spec, make_order(client_order_id="x" * 37))
    with pytest.raises(FilterViolation):
        order_query(spec, make_order(price=D("50000.001")))


@pytest.mark.parametrize(
    ("status", "state"),
    [("NEW", OrderState.ACCEPTED), ("PARTIALLY_FILLED", OrderState.PARTIALLY_FILLED),
     ("FILLED", OrderState.FILLED), ("CANCELED", OrderState.CANCELED),
     ("EXPIRED", OrderState.CANCELED), ("EXPIRED_IN_MATCH", OrderState.CANCELED),
     ("REJECTED", OrderState.REJECTED)],
)
def test_status_map(status: str, state: OrderState) -> None:
    assert STATUS_MAP[status] is state


def test_unknown_status_is_malformed() -> None:
    with pytest.raises(MalformedResponse):
        state_of("SOMETHING_NEW")


FULL = {
    "symbol": "BTCUSDT", "orderId": 28, "orderListId": -1, "clientOrderId": "abc",
    "transactTime": 1507725176595, "price": "0.00000000", "origQty": "10.00000000",
    "executedQty": "10.00000000", "origQuoteOrderQty": "0.000000",
    "cummulativeQuoteQty": "10.00000000", "status": "FILLED", "timeInForce": "GTC",
    "type": "MARKET", "side": "SELL", "workingTime": 1507725176595,
    "selfTradePreventionMode": "NONE",
    "fills": [
        {"price": "4000.00000000", "qty": "1.00000000", "commission": "4.00000000",
         "commissionAsset": "USDT", "tradeId": 56},
        {"price": "3999.00000000", "qty": "9.00000000", "commission": "35.99100000",
         "commissionAsset": "USDT", "tradeId": 57},
    ],
}


def test_full_response_to_report() -> None:
    rep = report_from(decode_order(orjson.dumps(FULL)), "BTC/USDT", "binance")
    assert rep.state is OrderState.FILLED and rep.side is Side.SELL
    assert rep.client_order_id == "abc" and rep.venue_order_id == "28"
    assert rep.price is None and rep.filled_qty == D(10)
    assert [f.trade_id for f in rep.fills] == ["56", "57"]
    f = rep.fills[1]
    assert f.price == D("3999") and isinstance(f.price, Decimal) and f.fee == D("35.991")
    assert f.client_order_id == "abc" and f.symbol == "BTC/USDT" and f.side is Side.SELL


def test_cancel_response_uses_original_client_id() -> None:
    cancel = {**FULL, "fills": [], "status": "CANCELED", "origClientOrderId": "orig",
              "clientOrderId": "cancel-req-id"}
    rep = report_from(decode_order(orjson.dumps(cancel)), "BTC/USDT", "binance")
    assert rep.client_order_id == "orig" and rep.state is OrderState.CANCELED


HOSTILE_ORDERS = [
    b"",
    b"not json",
    b'{"symbol":"BTCUSDT"',  # truncated
    b"[]",
    orjson.dumps({k: v for k, v in FULL.items() if k != "status"}),  # missing field
    orjson.dumps({**FULL, "orderId": "twenty-eight"}),  # wrong type
    orjson.dumps({**FULL, "executedQty": "ten"}),
    orjson.dumps({**FULL, "status": "WHATEVER"}),
    orjson.dumps({**FULL, "side": "SIDEWAYS"}),
    orjson.dumps({**FULL, "executedQty": "-1"}),
    orjson.dumps({**FULL, "executedQty": "NaN"}),
    orjson.dumps({**FULL, "fills": [{"price": "1", "qty": "1", "tradeId": "x"}]}),
    orjson.dumps({**FULL, "fills": [{"price": "0", "qty": "1", "tradeId": 1}]}),
    orjson.dumps({**FULL, "fills": [{"price": "Infinity", "qty": "1", "tradeId": 1}]}),
    orjson.dumps({**FULL, "fills": {"price": "1"}}),
]


@pytest.mark.parametrize("raw", HOSTILE_ORDERS)
def test_hostile_order_responses(raw: bytes) -> None:
    with pytest.raises(MalformedResponse):
        report_from(decode_order(raw), "BTC/USDT", "binance")


def test_trades_account_depth() -> None:
    trades = decode_trades(orjson.dumps([{
        "symbol": "BTCUSDT", "id": 28457, "orderId": 100234, "orderListId": -1,
        "price": "4.00000100", "qty": "12.00000000", "quoteQty": "48.000012",
        "commission": "10.10000000", "commissionAsset": "BNB", "time": 1499865549590,
        "isBuyer": True, "isMaker": False, "isBestMatch": True}]))
    f = fill_from_trade(trades[0], "BTC/USDT", "binance", "cid")
    assert f.trade_id == "28457" and f.side is Side.BUY and f.price == D("4.000001")
    assert f.venue_order_id == "100234" and f.client_order_id == "cid"

    acct = decode_account(orjson.dumps({"balances": [
        {"asset": "BTC", "free": "4723846.89208129", "locked": "0.00000000"}]}))
    bal = balances_from(acct, "binance")
    assert bal["BTC"].free == D("4723846.89208129")

    depth = decode_depth(orjson.dumps({"lastUpdateId": 7, "bids": [["4.0", "431"], ["4.1", "1"]],
                                       "asks": [["4.3", "12"], ["4.2", "1"]]}))
    book = book_from(depth, "BTC/USDT", "binance", 1)
    assert book.bids[0].price == D("4.1") and book.asks[0].price == D("4.2")
    assert book.sequence == 7 and len(book.bids) == 1


@pytest.mark.parametrize("raw", [
    b'{"balances":[{"asset":"BTC","free":"Infinity"}]}',
    b'{"balances":[{"asset":"BTC"}]}',
    b'{"balances":{"BTC":"1"}}',
    b'{"balances":[{"asset":"BTC","free":"-5"}]}',
])
def test_hostile_accounts(raw: bytes) -> None:
    with pytest.raises(MalformedResponse):
        balances_from(decode_account(raw), "binance")


@pytest.mark.parametrize("raw", [
    b'{"lastUpdateId":"x","bids":[],"asks":[]}',
    b'{"lastUpdateId":1,"bids":[["1"]],"asks":[]}',
    b'{"lastUpdateId":1,"bids":[["a","1"]],"asks":[]}',
    b'{"lastUpdateId":1,"bids":[["-1","1"]],"asks":[]}',
])
def test_hostile_depth(raw: bytes) -> None:
    with pytest.raises(MalformedResponse):
        book_from(decode_depth(raw), "BTC/USDT", "binance")


@pytest.mark.parametrize("raw", [
    b'{"symbols":[{"symbol":"BTCUSDT"}]}',
    b'{"symbols":[{"symbol":"BTCUSDT","baseAsset":"BTC","quoteAsset":"USDT",'
    b'"filters":[{"filterType":"PRICE_FILTER","tickSize":"-0.01"}]}]}',
    b'{"symbols":"BTCUSDT"}',
])
def test_hostile_exchange_info(raw: bytes) -> None:
    with pytest.raises(MalformedResponse):
        instruments_from(decode_exchange_info(raw), "binance")
