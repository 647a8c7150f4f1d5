from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import orjson
import pytest

from gapless.model import BookLevel
from gapless.transport.deadletter import DeadLetterQueue
from gapless.transport.ws import Reconnected as WsReconnected
from gapless.venues.binance.book import BookGap, LocalBook, parse_depth_message, run_book
from gapless.venues.binance.translate import DepthWire

D = Decimal


def snap(last: int, bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> DepthWire:
    return DepthWire(
        lastUpdateId=last,
        bids=[BookLevel(D(p), D(q)) for p, q in bids],
        asks=[BookLevel(D(p), D(q)) for p, q in asks],
    )


def diff(first: int, last: int, b: list[list[str]] | None = None,
         a: list[list[str]] | None = None, wrap: bool = False) -> bytes:
    ev = {"e": "depthUpdate", "E": 1, "s": "BTCUSDT", "U": first, "u": last,
          "b": b or [], "a": a or []}
    return orjson.dumps({"stream": "btcusdt@depth", "data": ev} if wrap else ev)


def test_local_book_procedure() -> None:
    book = LocalBook("binance", "BTC/USDT")
    book.load(snap(100, [("10", "1"), ("9", "2")], [("11", "1")]))
    assert not book.apply(parse_depth_message(diff(90, 100)))  # type: ignore[arg-type]
    assert book.apply(parse_depth_message(diff(95, 102, b=[["10", "0"], ["9.5", "3"]])))  # type: ignore[arg-type]
    s = book.snapshot(5)
    assert [lv.price for lv in s.bids] == [D("9.5"), D("9")]
    assert s.sequence == 102
    with pytest.raises(BookGap):
        book.apply(parse_depth_message(diff(104, 105)))  # type: ignore[arg-type]


def test_parse_depth_messages() -> None:
    assert parse_depth_message(b'{"result":null,"id":1}') is None
    assert parse_depth_message(diff(1, 2, wrap=True)) is not None
    for bad in (b"garbage", b'{"e":"trade","U":1,"u":2,"b":[],"a":[]}', b'{"foo":1}'):
        with pytest.raises(ValueError):
            parse_depth_message(bad)


class FakeConn:
    def __init__(self, frames: list[object]) -> None:
        self.frames = frames
        self.closed = False

    async def messages(self) -> AsyncIterator[object]:
        for f in self.frames:
            yield f

    async def close(self) -> None:
        self.closed = True


async def test_run_book_resyncs_on_gap_and_dead_letters() -> None:
    snaps = [
        snap(10, [("10", "1")], [("11", "1")]),
        snap(20, [("10", "5")], [("11", "1")]),
        snap(30, [("8", "1")], [("12", "1")]),
    ]
    fetches = 0

    async def fetch() -> DepthWire:
        nonlocal fetches
        fetches += 1
        return snaps.pop(0)

    frames: list[object] = [
        diff(9, 11, b=[["10", "2"]]),  # first event: snapshot 10, then applied
        b"not json",  # dead-lettered
        diff(12, 12, a=[["11", "3"]]),
        diff(15, 21),  # gap (13, 14 missing) -> resync with snapshot 20 -> apply 21
        WsReconnected("binance-btcusdt@depth"),  # reset -> resync on the next event
        diff(31, 31, b=[["8", "4"]]),
    ]
    dlq = DeadLetterQueue()
    book = LocalBook("binance", "BTC/USDT")
    out = [s async for s in run_book(FakeConn(frames), fetch, book, dlq=dlq)]  # type: ignore[arg-type]
    assert fetches == 3
    assert [s.sequence for s in out] == [11, 12, 21, 31]
    assert out[0].bids[0] == BookLevel(D("10"), D("2"))
    assert out[1].asks[0] == BookLevel(D("11"), D("3"))
    assert out[2].bids[0] == BookLevel(D("10"), D("5"))
    assert out[3].bids[0] == BookLevel(D("8"), D("4")) and out[3].asks[0].price == D("12")
    assert len(dlq) == 1
