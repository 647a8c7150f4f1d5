"""OKX adapter units: error table, strict parsing, client ids, local book, private stream."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import orjson
import pytest

from gapless.model import Order, OrderState, OrderType, Side, TimeInForce
from gapless.model.errors import (
    AuthError,
    DuplicateClientOrderId,
    InsufficientFunds,
    InvalidOrder,
    MalformedResponse,
    OrderNotFound,
    Outcome,
    RateLimited,
    Rejected,
    ServerError,
    TimestampRejected,
    VenueUnavailable,
)
from gapless.venues.base import Reconnected
from gapless.venues.okx.adapter import okx_client_order_id
from gapless.venues.okx.book import BookData, BookGap, LocalBook, checksum_of
from gapless.venues.okx.errors import from_code, map_http_error
from gapless.venues.okx.translate import (
    SymbolSpec,
    balances_from,
    decode_balance,
    decode_orders,
    order_body,
    report_from,
)
from gapless.venues.okx.userstream import parse_private_message


@pytest.mark.parametrize(
    ("code", "status", "mutating", "cls", "outcome"),
    [
        ("50011", 429, True, RateLimited, Outcome.RETRYABLE),
        ("50061", 200, True, RateLimited, Outcome.RETRYABLE),
        ("50001", 503, False, VenueUnavailable, Outcome.RETRYABLE),
        ("50001", 503, True, ServerError, Outcome.UNKNOWN),
        ("50004", 400, True, ServerError, Outcome.UNKNOWN),
        ("50026", 500, False, ServerError, Outcome.UNKNOWN),
        ("50102", 401, True, TimestampRejected, Outcome.REJECTED),
        ("50036", 200, True, TimestampRejected, Outcome.REJECTED),  # arrived after expTime
        ("50111", 401, False, AuthError, Outcome.REJECTED),
        ("50113", 401, False, AuthError, Outcome.REJECTED),
        ("50105", 401, False, AuthError, Outcome.REJECTED),
        ("51008", 200, True, InsufficientFunds, Outcome.REJECTED),
        ("51008_1000", 200, True, InsufficientFunds, Outcome.REJECTED),
        ("51016", 200, True, DuplicateClientOrderId, Outcome.REJECTED),
        ("51400", 200, True, OrderNotFound, Outcome.REJECTED),
        ("51603", 200, False, OrderNotFound, Outcome.REJECTED),
        ("51000", 400, True, InvalidOrder, Outcome.REJECTED),
        ("51001", 200, True, InvalidOrder, Outcome.REJECTED),
        ("51121", 200, True, InvalidOrder, Outcome.REJECTED),
        ("59999", 200, True, Rejected, Outcome.REJECTED),
    ],
)
def test_error_table(code: str, status: int, mutating: bool, cls: type, outcome: Outcome) -> None:
    body = orjson.dumps({"code": code, "msg": "m", "data": []})
    err = map_http_error(status, body, mutating=mutating) if status != 200 else from_code(
        code, "m", mutating=mutating)
    assert type(err) is cls and err.outcome is outcome and err.code == code


@pytest.mark.parametrize(
    ("status", "mutating", "cls"),
    [(503, False, VenueUnavailable), (503, True, ServerError), (502, False, ServerError),
     (429, True, RateLimited), (401, False, AuthError), (400, True, MalformedResponse)],
)
def test_unparseable_error_bodies(status: int, mutating: bool, cls: type) -> None:
    assert type(map_http_error(status, b"<html>", mutating=mutating)) is cls


def test_exp_time_header_is_not_signed() -> None:
    from gapless.venues.okx.auth import Signer

    signer = Signer("k", "22582BD0CFF14C41EDBF1AB98506286D", "p")
    ts, path = "2020-12-08T09:08:57.715Z", "/api/v5/account/balance?ccy=BTC"
    plain = signer.headers(ts, "GET", path)
    with_exp = signer.headers(ts, "GET", path, exp_time_ms=1607418542715)
    assert "expTime" not in plain and with_exp["expTime"] == "1607418542715"
    assert with_exp["OK-ACCESS-SIGN"] == plain["OK-ACCESS-SIGN"] == (
        "HiZhvSfMtWJA3uUIVXV3a/bSXNPCWvYFXoGCVS8V4zY=")  # vector D1


def test_client_ids() -> None:
    assert okx_client_order_id("abc123") == "abc123"
    long_id = okx_client_order_id("x" * 33)
    assert len(long_id) == 32 and long_id.isalnum() and long_id.startswith("gl")
    for intent in ("with-dash", "ü" * 10, "a.b:c", "x" * 64):
        cid = okx_client_order_id(intent)
        assert cid.isalnum() and 1 <= len(cid) <= 32 and cid.isascii()
        assert okx_client_order_id(intent) == cid


SPEC = SymbolSpec("BTC/USDT", "BTC-USDT", Decimal("0.1"), Decimal("0.00001"))


def _order(**kw: object) -> Order:
    base: dict[str, object] = dict(intent_id="i", venue="okx", symbol="BTC/USDT", side=Side.BUY,
                                   type=OrderType.LIMIT, qty=Decimal("0.01"),
                                   price=Decimal("60000.5"), tif=TimeInForce.GTC,
                                   client_order_id="abc")
    base.update(kw)
    return Order(**base)  # type: ignore[arg-type]


def test_order_bodies() -> None:
    assert orjson.loads(order_body(SPEC, _order())) == {
        "instId": "BTC-USDT", "tdMode": "cash", "clOrdId": "abc", "side": "buy",
        "ordType": "limit", "px": "60000.5", "sz": "0.01000"}
    for tif, ot in ((TimeInForce.IOC, "ioc"), (TimeInForce.FOK, "fok"),
                    (TimeInForce.POST_ONLY, "post_only")):
        assert orjson.loads(order_body(SPEC, _order(tif=tif)))["ordType"] == ot
    mkt = orjson.loads(order_body(SPEC, _order(type=OrderType.MARKET, price=None, side=Side.SELL)))
    assert mkt["ordType"] == "market" and mkt["tgtCcy"] == "base_ccy" and "px" not in mkt


ORDER = {"instId": "BTC-USDT", "ordId": "1", "clOrdId": "abc", "px": "100", "sz": "2",
         "ordType": "limit", "side": "buy", "state": "partially_filled", "accFillSz": "1",
         "avgPx": "99", "uTime": "1700000000000"}


def test_report_and_hostile_orders() -> None:
    rep = report_from(decode_orders(orjson.dumps({"code": "0", "data": [ORDER]}))[0],
                      "BTC/USDT", "okx")
    assert rep.state is OrderState.PARTIALLY_FILLED and rep.quote_filled == Decimal(99)
    for bad in ({"state": "weird"}, {"side": "up"}, {"accFillSz": "-1"}, {"sz": "NaN"},
                {"uTime": "soon"}, {"avgPx": "Infinity"}, {"ordId": ""}):
        w = decode_orders(orjson.dumps({"code": "0", "data": [{**ORDER, **bad}]}))[0]
        with pytest.raises(MalformedResponse):
            report_from(w, "BTC/USDT", "okx")
    for body in (b"garbage", b'{"code":"0","data":[{"instId":1}]}', b'{"code":"0"}',
                 b'{"code":0,"data":[]}'):
        with pytest.raises(MalformedResponse):
            decode_orders(body)


def test_balances() -> None:
    body = orjson.dumps({"code": "0", "data": [{"details": [
        {"ccy": "BTC", "availBal": "1.5", "frozenBal": "0.5", "eq": "2"}]}]})
    b = balances_from(decode_balance(body), "okx")["BTC"]
    assert b.free == Decimal("1.5") and b.locked == Decimal("0.5")
    with pytest.raises(MalformedResponse):
        balances_from(decode_balance(b'{"code":"0","data":[]}'), "okx")


def _d(bids: list[list[str]], asks: list[list[str]], prev: int, seq: int, cs: int = 0) -> BookData:
    return BookData(asks=asks, bids=bids, seqId=seq, prevSeqId=prev, checksum=cs)


def test_local_book_sequence_rules() -> None:
    b = LocalBook("okx", "BTC/USDT")
    assert not b.apply("update", _d([["1", "1"]], [], 4, 5))  # before the snapshot: ignored
    assert b.apply("snapshot", _d([["10", "1", "0", "1"]], [["11", "2", "0", "1"]], -1, 5))
    assert b.apply("update", _d([["10", "0"]], [["12", "3"]], 5, 6))
    assert 10 not in b.snapshot().bids and b.snapshot().asks[1].price == Decimal(12)
    assert not b.apply("update", _d([], [], 6, 6))  # heartbeat
    with pytest.raises(BookGap):
        b.apply("update", _d([["9", "1"]], [], 7, 8))
    assert b.apply("update", _d([["9", "1"]], [], 6, 2))  # sequence reset after maintenance
    assert b.seq == 2


def test_local_book_checksum() -> None:
    b = LocalBook("okx", "X/Y")
    good = checksum_of([("3366.1", "7"), ("3366", "6")], [("3366.8", "9"), ("3368", "8")])
    assert good == -1881014294
    b.apply("snapshot", _d([["3366.1", "7"], ["3366", "6"]], [["3366.8", "9"], ["3368", "8"]],
                           -1, 1, good))
    with pytest.raises(BookGap):
        b.apply("update", _d([["3366", "5"]], [], 1, 2, good))


PUSH = {"arg": {"channel": "orders", "instType": "SPOT", "uid": "1"}, "data": [{
    **ORDER, "state": "filled", "accFillSz": "2", "tradeId": "77", "fillPx": "99",
    "fillSz": "1", "fillFee": "-0.001", "fillFeeCcy": "BTC", "execType": "T",
    "fillTime": "1700000000001"}]}


def test_private_stream_parsing() -> None:
    (rep,) = parse_private_message(orjson.dumps(PUSH), {"BTC-USDT": "BTC/USDT"}, "okx")
    assert not isinstance(rep, Reconnected)
    assert rep.state is OrderState.FILLED  # type: ignore[union-attr]
    (fill,) = rep.fills  # type: ignore[union-attr]
    assert fill.trade_id == "77" and fill.fee == Decimal("0.001") and not fill.is_maker
    assert parse_private_message("pong", {}, "okx") == []
    assert parse_private_message(b'{"event":"subscribe","arg":{}}', {}, "okx") == []
    for bad in (b"nope", b'{"event":"error","code":"60012","msg":"x"}',
                orjson.dumps({**PUSH, "data": [{**PUSH["data"][0], "state": "??"}]}),  # type: ignore[dict-item]
                orjson.dumps(PUSH).replace(b"BTC-USDT", b"ZZZ-USDT")):
        with pytest.raises(ValueError):
            parse_private_message(bad, {"BTC-USDT": "BTC/USDT"}, "okx")
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"x": 1}, BookData)


def test_limits_are_per_instrument_for_trading() -> None:
    from gapless.venues.okx.limits import COSTS, DEFAULT_RULES, INSTRUMENT_COSTS, INSTRUMENT_RULES

    assert {r.name: (r.limit, r.window_s) for r in INSTRUMENT_RULES} == {
        "order_cancel": (60, 2.0), "order_place": (60, 2.0), "order_query": (60, 2.0)}
    account = {r.name: r.limit for r in DEFAULT_RULES}
    assert account["account_orders_2s"] == 1000 and account["balance"] == 10
    assert "order_place" not in account
    assert INSTRUMENT_COSTS["order_place"] == {"order_place": 1}
    assert COSTS["order_place"] == {"account_orders_2s": 1}
    assert "order_cancel" not in COSTS and COSTS["books"] == {"books": 1}


async def test_adapter_keeps_one_trading_limiter_per_instrument() -> None:
    from gapless.venues.base import VenueConfig
    from gapless.venues.okx.adapter import OkxVenue

    v = OkxVenue(VenueConfig(name="okx", driver="okx", rest_url="http://127.0.0.1:9"))
    a, b = v._inst_limiter("BTC-USDT"), v._inst_limiter("ETH-USDT")
    assert a is not b and a is v._inst_limiter("BTC-USDT")
    await v.close()
