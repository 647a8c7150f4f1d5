"""Coinbase adapter units: error table, strict parsing, level2 sequencing, user channel."""

from __future__ import annotations

from decimal import Decimal

import orjson
import pytest

from gapless.model import OrderState
from gapless.model.errors import (
    AuthError,
    DuplicateClientOrderId,
    InsufficientFunds,
    InvalidOrder,
    MalformedResponse,
    OrderNotFound,
    Outcome,
    RateLimited,
    ServerError,
    VenueUnavailable,
)
from gapless.transport.deadletter import DeadLetterQueue
from gapless.venues.coinbase.book import (
    BookGap,
    LocalBook,
    Sequencer,
    parse_envelope,
    parse_l2_events,
)
from gapless.venues.coinbase.errors import map_cancel_failure, map_error, map_order_failure
from gapless.venues.coinbase.translate import (
    coinbase_client_order_id,
    decode_accounts,
    decode_create,
    decode_order,
    report_from_order,
    state_of,
)
from gapless.venues.coinbase.userstream import parse_user_orders, report_from_user_order

V = "coinbase"


@pytest.mark.parametrize(("status", "body", "mutating", "cls", "outcome"), [
    (401, b"Unauthorized", False, AuthError, Outcome.REJECTED),
    (403, b'{"error":"PERMISSION_DENIED","message":"Missing required scopes"}', True, AuthError,
     Outcome.REJECTED),
    (429, b'{"errors":[{"id":"rate_limit_exceeded","message":"Too many requests"}]}', True,
     RateLimited, Outcome.RETRYABLE),
    (404, b'{"error":"NOT_FOUND","message":"order not found"}', False, OrderNotFound,
     Outcome.REJECTED),
    (400, b'{"error":"INVALID_ARGUMENT","message":"bad"}', True, InvalidOrder, Outcome.REJECTED),
    (503, b"Service Unavailable", False, VenueUnavailable, Outcome.RETRYABLE),
    (503, b"Service Unavailable", True, ServerError, Outcome.UNKNOWN),
    (500, b"<html>", False, ServerError, Outcome.UNKNOWN),
])
def test_error_table(status: int, body: bytes, mutating: bool, cls: type, outcome: Outcome) -> None:
    err = map_error(status, {"Retry-After": "2"}, body, mutating=mutating, venue=V)
    assert type(err) is cls and err.outcome is outcome


def test_order_failures() -> None:
    assert isinstance(map_order_failure("INSUFFICIENT_FUND", "", "", venue=V), InsufficientFunds)
    assert isinstance(map_order_failure("", "", "PREVIEW_INSUFFICIENT_FUND", venue=V),
                      InsufficientFunds)
    assert isinstance(map_order_failure("INVALID_LIMIT_PRICE_POST_ONLY", "x", "", venue=V),
                      InvalidOrder)
    assert isinstance(map_order_failure("INVALID_REQUEST", "duplicate client_order_id", "",
                                        venue=V), DuplicateClientOrderId)
    assert isinstance(map_cancel_failure("UNKNOWN_CANCEL_ORDER", venue=V), OrderNotFound)
    assert isinstance(map_cancel_failure("COMMANDER_REJECTED_CANCEL_ORDER", venue=V), InvalidOrder)


def test_client_ids_are_uuid5() -> None:
    a = coinbase_client_order_id("intent-1")
    assert a == coinbase_client_order_id("intent-1") != coinbase_client_order_id("intent-2")
    assert len(a) == 36 and a[14] == "5"


ORDER = {"order": {
    "order_id": "o-1", "product_id": "BTC-USD", "side": "BUY", "client_order_id": "c-1",
    "status": "OPEN", "filled_size": "0.5", "filled_value": "30000",
    "order_configuration": {"limit_limit_gtc": {"base_size": "1", "limit_price": "60000",
                                                "post_only": False}},
    "created_time": "2024-01-02T03:04:05.123456Z"}}


def test_order_report() -> None:
    w = decode_order(orjson.dumps(ORDER))
    rep = report_from_order(w.order, "BTC/USD", V)
    assert rep.state is OrderState.PARTIALLY_FILLED
    assert rep.qty == Decimal(1) and rep.price == Decimal(60000) and rep.filled_qty == Decimal("0.5")
    assert rep.ts_ms == 1704164645123


@pytest.mark.parametrize("mutate", [
    lambda o: o["order"].pop("status"),
    lambda o: o["order"].__setitem__("filled_size", {"x": 1}),
    lambda o: o["order"].__setitem__("status", "WHAT"),
    lambda o: o["order"].__setitem__("filled_size", "-1"),
    lambda o: o["order"]["order_configuration"]["limit_limit_gtc"].__setitem__("base_size", [1]),
])
def test_hostile_orders_are_malformed(mutate: object) -> None:
    data = orjson.loads(orjson.dumps(ORDER))
    mutate(data)  # type: ignore[operator]
    with pytest.raises(MalformedResponse):
        w = decode_order(orjson.dumps(data))
        report_from_order(w.order, "BTC/USD", V)


def test_other_strict_decoders() -> None:
    with pytest.raises(MalformedResponse):
        decode_create(b'{"success":"maybe"}')
    with pytest.raises(MalformedResponse):
        decode_accounts(b'{"accounts":[{}]}')
    assert state_of("CANCELLED", Decimal(0), V) is OrderState.CANCELED
    assert state_of("EXPIRED", Decimal(1), V) is OrderState.CANCELED
    assert state_of("FAILED", Decimal(0), V) is OrderState.REJECTED


def _l2(seq: int, kind: str, updates: list[tuple[str, str, str]]) -> bytes:
    return orjson.dumps({"channel": "l2_data", "client_id": "", "timestamp": "", "sequence_num": seq,
                         "events": [{"type": kind, "product_id": "BTC-USD", "updates": [
                             {"side": s, "event_time": "", "price_level": p, "new_quantity": q}
                             for s, p, q in updates]}]})


def test_level2_book_and_sequence() -> None:
    book, seq = LocalBook(V, "BTC/USD"), Sequencer()
    for raw in (_l2(0, "update", [("bid", "1", "1")]),  # before the snapshot: ignored
                _l2(1, "snapshot", [("bid", "100", "1"), ("offer", "101", "2")]),
                _l2(2, "update", [("bid", "100", "0"), ("bid", "99", "3")])):
        env = parse_envelope(raw)
        seq.check(env.sequence_num)
        for ev in parse_l2_events(env):
            book.apply(ev, env.sequence_num)
    snap = book.snapshot(5)
    assert [(lv.price, lv.qty) for lv in snap.bids] == [(Decimal(99), Decimal(3))]
    assert [(lv.price, lv.qty) for lv in snap.asks] == [(Decimal(101), Decimal(2))]
    with pytest.raises(BookGap):
        seq.check(4)
    with pytest.raises(ValueError):
        parse_l2_events(parse_envelope(_l2(5, "update", [("middle", "1", "1")])))
    with pytest.raises(ValueError):
        parse_envelope(b'{"type":"error","message":"nope"}')


def test_user_channel() -> None:
    raw = orjson.dumps({"channel": "user", "client_id": "", "timestamp": "", "sequence_num": 3,
                        "events": [{"type": "update", "orders": [{
                            "order_id": "o-1", "client_order_id": "c-1", "status": "FILLED",
                            "product_id": "BTC-USD", "order_side": "SELL",
                            "cumulative_quantity": "2", "leaves_quantity": "0",
                            "filled_value": "200", "limit_price": ""}]}]})
    channel, orders = parse_user_orders(raw)
    assert channel == "user" and len(orders) == 1
    rep = report_from_user_order(orders[0], "BTC/USD", V)
    assert rep.state is OrderState.FILLED and rep.qty == 2 and rep.quote_filled == 200
    with pytest.raises(ValueError):
        parse_user_orders(b'{"channel":"user","sequence_num":1,"events":[{"orders":"x"}]}')


async def test_user_stream_dead_letters_and_reconnect_marker() -> None:
    from gapless.transport.ws import Reconnected as WsReconnected
    from gapless.venues.base import Reconnected
    from gapless.venues.coinbase.userstream import UserStream

    good = orjson.dumps({"channel": "user", "sequence_num": 1, "events": [{"type": "update",
                         "orders": [{"order_id": "o-1", "client_order_id": "c-1", "status": "OPEN",
                                     "product_id": "BTC-USD", "order_side": "BUY",
                                     "cumulative_quantity": "0", "leaves_quantity": "1"}]}]})

    class FakeConn:
        async def messages(self):  # type: ignore[no-untyped-def]
            for m in (b"garbage", good, WsReconnected("x"), good):
                yield m

    async def no_fills(symbol: str, vid: str, cid: str) -> list:  # type: ignore[type-arg]
        return []

    dlq = DeadLetterQueue()
    stream = UserStream(venue=V, conn=FakeConn(), symbols={"BTC-USD": "BTC/USD"},  # type: ignore[arg-type]
                        fetch_fills=no_fills, dlq=dlq)
    got = [ev async for ev in stream.events()]
    assert isinstance(got[1], Reconnected) and len(got) == 3
    assert got[0].state is OrderState.ACCEPTED  # type: ignore[union-attr]
    assert next(d.reason for d in dlq.drain()).startswith("unparseable")
