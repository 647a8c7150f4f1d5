"""Book integrity (u continuity, snapshot resets) and private-stream parsing."""

from __future__ import annotations

from decimal import Decimal

import orjson
import pytest

from gapless.model import OrderReport, OrderState, Side
from gapless.venues.bybit.book import BookGap, LocalBook, parse_book_message
from gapless.venues.bybit.translate import bybit_client_order_id
from gapless.venues.bybit.userstream import parse_private_message

TOPIC = "orderbook.50.BTCUSDT"


def book_msg(kind: str, u: int, b: list[list[str]], a: list[list[str]]) -> bytes:
    return orjson.dumps({"topic": TOPIC, "type": kind, "ts": 1,
                         "data": {"s": "BTCUSDT", "b": b, "a": a, "u": u, "seq": 7}, "cts": 1})


def test_snapshot_then_contiguous_deltas() -> None:
    book = LocalBook("bybit", "BTC/USDT")
    for raw in (book_msg("delta", 4, [["1", "1"]], []),):  # before any snapshot: ignored
        m = parse_book_message(raw)
        assert m is not None and not book.apply(m)
    m = parse_book_message(book_msg("snapshot", 10, [["100", "1"], ["99", "2"]], [["101", "3"]]))
    assert m is not None and book.apply(m)
    m = parse_book_message(book_msg("delta", 11, [["100", "0"], ["98", "5"]], [["101", "4"]]))
    assert m is not None and book.apply(m)
    snap = book.snapshot(5)
    assert [lv.price for lv in snap.bids] == [Decimal("99"), Decimal("98")]
    assert snap.asks[0].qty == Decimal("4") and snap.sequence == 11
    dup = parse_book_message(book_msg("delta", 11, [["97", "1"]], []))
    assert dup is not None and not book.apply(dup)
    gap = parse_book_message(book_msg("delta", 13, [["97", "1"]], []))
    assert gap is not None
    with pytest.raises(BookGap):
        book.apply(gap)


def test_snapshot_with_u_1_resets_the_book() -> None:
    book = LocalBook("bybit", "BTC/USDT")
    m = parse_book_message(book_msg("snapshot", 500, [["100", "1"]], [["101", "1"]]))
    assert m is not None
    book.apply(m)
    m = parse_book_message(book_msg("snapshot", 1, [["90", "1"]], [["91", "1"]]))
    assert m is not None and book.apply(m)
    assert list(book.bids) == [Decimal("90")] and book.u == 1
    m = parse_book_message(book_msg("delta", 2, [["89", "1"]], []))
    assert m is not None and book.apply(m)


@pytest.mark.parametrize("raw", [b"nope", b'{"topic":"x"}', b'{"op":"subscribe","success":false}',
                                 book_msg("delta", 1, [["-1", "1"]], []),
                                 book_msg("weird", 1, [], [])])
def test_bad_book_frames_raise(raw: bytes) -> None:
    with pytest.raises(ValueError):
        parse_book_message(raw)


def test_acks_and_pongs_are_ignored() -> None:
    assert parse_book_message(b'{"success":true,"ret_msg":"pong","conn_id":"x","op":"ping"}') is None
    assert parse_book_message(b'{"success":true,"ret_msg":"subscribe","op":"subscribe"}') is None


ORDER = {"orderId": "19", "orderLinkId": "abc", "symbol": "BTCUSDT", "side": "Buy",
         "orderType": "Limit", "price": "100", "qty": "2", "orderStatus": "PartiallyFilled",
         "cumExecQty": "1", "cumExecValue": "100", "leavesQty": "1", "updatedTime": "5"}
EXEC = {"symbol": "BTCUSDT", "orderId": "19", "orderLinkId": "abc", "side": "Buy", "execId": "e1",
        "execPrice": "100", "execQty": "1", "execFee": "0.001", "feeCurrency": "BTC",
        "isMaker": False, "execTime": "5", "execType": "Trade", "orderQty": "2", "leavesQty": "0"}
SYMS = {"BTCUSDT": "BTC/USDT"}


def test_private_order_execution_wallet() -> None:
    [rep] = parse_private_message(orjson.dumps({"topic": "order", "data": [ORDER]}), SYMS, "bybit")
    assert isinstance(rep, OrderReport) and rep.state is OrderState.PARTIALLY_FILLED
    assert rep.symbol == "BTC/USDT" and rep.filled_qty == 1 and rep.side is Side.BUY
    [rep] = parse_private_message(orjson.dumps({"topic": "execution", "data": [EXEC]}), SYMS,
                                  "bybit")
    assert isinstance(rep, OrderReport) and rep.state is OrderState.FILLED
    assert rep.fills[0].trade_id == "e1" and rep.fills[0].fee == Decimal("0.001")
    bals = parse_private_message(orjson.dumps({"topic": "wallet", "data": [{"accountType": "UNIFIED",
                                 "coin": [{"coin": "BTC", "walletBalance": "3", "locked": "1"}]}]}),
                                 SYMS, "bybit")
    assert [(b.asset, b.free, b.locked) for b in bals] == [("BTC", Decimal(2), Decimal(1))]
    assert parse_private_message(b'{"op":"pong","args":["1"],"conn_id":"c"}', SYMS, "bybit") == []


@pytest.mark.parametrize("raw", [
    b"{{", b'{"topic":"order","data":[{"orderId":1}]}', b'{"topic":"mystery","data":[]}',
    orjson.dumps({"topic": "order", "data": [{**ORDER, "orderStatus": "Exploded"}]}),
    orjson.dumps({"topic": "execution", "data": [{**EXEC, "execQty": "-1"}]}),
    b'{"op":"auth","success":false,"ret_msg":"Invalid sign"}',
])
def test_private_garbage_is_dead_lettered(raw: bytes) -> None:
    with pytest.raises(ValueError):
        parse_private_message(raw, SYMS, "bybit")


def test_client_ids() -> None:
    assert bybit_client_order_id("simple-1_x") == "simple-1_x"
    for intent in ("x" * 37, "a.b:c", "ü" * 10):
        cid = bybit_client_order_id(intent)
        assert len(cid) <= 36 and cid.replace("-", "").replace("_", "").isalnum()
        assert cid == bybit_client_order_id(intent)


class FakeConn:
    """Stands in for WsConnection: replays frames, records what the book driver sends."""

    def __init__(self, frames: list[object]) -> None:
        self.frames = frames
        self.sent: list[object] = []
        self.forced = False

    async def messages(self):  # type: ignore[no-untyped-def]
        for f in self.frames:
            yield f

    async def send_json(self, obj: object) -> None:
        self.sent.append(obj)

    def reconnect(self) -> None:
        self.forced = True


async def test_gap_resubscribes_and_recovers_from_the_next_snapshot() -> None:
    from gapless.transport.deadletter import DeadLetterQueue
    from gapless.transport.ws import Reconnected as WsReconnected
    from gapless.venues.bybit.book import run_book

    frames: list[object] = [
        book_msg("snapshot", 10, [["100", "1"]], [["101", "1"]]),
        book_msg("delta", 11, [["99", "1"]], []),
        book_msg("delta", 13, [["98", "1"]], []),  # gap: 12 is missing
        book_msg("delta", 14, [["97", "1"]], []),  # ignored until a snapshot arrives
        book_msg("snapshot", 20, [["95", "1"]], [["96", "1"]]),
        WsReconnected("x"),
        book_msg("delta", 21, [["94", "1"]], []),  # ignored: the reconnect reset the book
        book_msg("snapshot", 30, [["90", "1"]], [["91", "1"]]),
        b"garbage",
    ]
    conn = FakeConn(frames)
    dlq = DeadLetterQueue()
    book = LocalBook("bybit", "BTC/USDT")
    snaps = [s async for s in run_book(conn, book, TOPIC, dlq=dlq)]  # type: ignore[arg-type]
    assert [s.sequence for s in snaps] == [10, 11, 20, 30]
    assert conn.sent == [{"op": "unsubscribe", "args": [TOPIC]},
                         {"op": "subscribe", "args": [TOPIC]}]
    reasons = [d.reason for d in dlq.drain()]
    assert len(reasons) == 2 and "expected u=12" in reasons[0]
