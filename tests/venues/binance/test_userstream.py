from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import orjson
import pytest

from gapless.model import Balance, OrderReport, OrderState, Side
from gapless.transport.deadletter import DeadLetterQueue
from gapless.transport.ws import Reconnected as WsReconnected
from gapless.venues.base import Reconnected
from gapless.venues.binance.userstream import UserStream, parse_user_message

D = Decimal
SYMBOLS = {"BTCUSDT": "BTC/USDT"}

EXEC_TRADE = {
    "e": "executionReport", "E": 1499405658658, "s": "BTCUSDT", "c": "mUvoqJxFIILMdfAW5iGSOW",
    "S": "BUY", "o": "LIMIT", "f": "GTC", "q": "1.00000000", "p": "0.10264410",
    "P": "0.00000000", "F": "0.00000000", "g": -1, "C": "", "x": "TRADE",
    "X": "PARTIALLY_FILLED", "r": "NONE", "i": 4293153, "l": "0.40000000",
    "z": "0.40000000", "L": "0.10264400", "n": "0.00004", "N": "BTC", "T": 1499405658657,
    "t": 77, "I": 8641984, "w": False, "m": True, "M": False, "O": 1499405658657,
    "Z": "0.041057600", "Y": "0.041057600", "Q": "0.00000000",
}


def test_execution_report_trade() -> None:
    parsed = parse_user_message(orjson.dumps(EXEC_TRADE), SYMBOLS, "binance")
    (rep,) = parsed.events
    assert isinstance(rep, OrderReport)
    assert rep.symbol == "BTC/USDT" and rep.state is OrderState.PARTIALLY_FILLED
    assert rep.client_order_id == "mUvoqJxFIILMdfAW5iGSOW" and rep.venue_order_id == "4293153"
    assert rep.filled_qty == D("0.4") and rep.side is Side.BUY
    (fill,) = rep.fills
    assert fill.trade_id == "77" and fill.qty == D("0.4") and fill.price == D("0.102644")
    assert fill.fee == D("0.00004") and fill.fee_asset == "BTC" and fill.is_maker


def test_execution_report_cancel_uses_original_id() -> None:
    ev = {**EXEC_TRADE, "x": "CANCELED", "X": "CANCELED", "c": "cancel-req", "C": "orig",
          "t": -1, "l": "0", "L": "0", "n": "0", "N": None}
    (rep,) = parse_user_message(orjson.dumps(ev), SYMBOLS, "binance").events
    assert isinstance(rep, OrderReport)
    assert rep.client_order_id == "orig" and rep.state is OrderState.CANCELED and not rep.fills


def test_expired_ioc_is_canceled() -> None:
    ev = {**EXEC_TRADE, "x": "EXPIRED", "X": "EXPIRED", "t": -1}
    (rep,) = parse_user_message(orjson.dumps(ev), SYMBOLS, "binance").events
    assert isinstance(rep, OrderReport) and rep.state is OrderState.CANCELED


def test_account_position() -> None:
    ev = {"e": "outboundAccountPosition", "E": 1, "u": 1,
          "B": [{"a": "ETH", "f": "10000.000000", "l": "0.000000"},
                {"a": "USDT", "f": "1.5", "l": "2"}]}
    evs = parse_user_message(orjson.dumps(ev), SYMBOLS, "binance").events
    assert evs == [Balance(asset="ETH", free=D("10000")), Balance(asset="USDT", free=D("1.5"),
                                                                    locked=D("2"))]


@pytest.mark.parametrize("raw", [
    b"garbage",
    b'{"e":"somethingNew","E":1}',
    b'{"no":"tag"}',
    orjson.dumps({**EXEC_TRADE, "X": "MYSTERY"}),
    orjson.dumps({**EXEC_TRADE, "q": ["1"]}),
    orjson.dumps({k: v for k, v in EXEC_TRADE.items() if k != "i"}),
    orjson.dumps({**EXEC_TRADE, "t": -1}),  # TRADE without a trade id
    orjson.dumps({**EXEC_TRADE, "L": "NaN"}),
])
def test_bad_messages_raise(raw: bytes) -> None:
    with pytest.raises(ValueError):
        parse_user_message(raw, SYMBOLS, "binance")


def test_listen_key_expired_triggers_relogin() -> None:
    parsed = parse_user_message(b'{"e":"listenKeyExpired","E":1,"listenKey":"k"}', SYMBOLS, "b")
    assert parsed.relogin and not parsed.events
    assert not parse_user_message(b'{"e":"balanceUpdate","E":1,"a":"BTC","d":"1"}',
                                  SYMBOLS, "b").events


class FakeConn:
    def __init__(self, frames: list[object]) -> None:
        self.frames = frames
        self.closed = False

    async def messages(self) -> AsyncIterator[object]:
        for f in self.frames:
            yield f

    async def close(self) -> None:
        self.closed = True


async def test_user_stream_flow() -> None:
    keys = iter(["k1", "k2"])
    frames = {
        "k1": [orjson.dumps(EXEC_TRADE), b"junk", WsReconnected("u"),
               b'{"e":"listenKeyExpired","E":1}'],
        "k2": [b'{"e":"outboundAccountPosition","E":1,"B":[{"a":"BTC","f":"1","l":"0"}]}'],
    }
    urls: list[str] = []
    conns: list[FakeConn] = []

    async def create_key() -> str:
        return next(keys)

    async def keepalive(key: str) -> None:
        return None

    def connect(url: str, name: str) -> FakeConn:
        urls.append(url)
        conns.append(FakeConn(frames[url.rsplit("/", 1)[-1]]))
        return conns[-1]

    dlq = DeadLetterQueue()
    us = UserStream(venue="binance", ws_url="ws://127.0.0.1:1/", create_key=create_key,
                    keepalive_key=keepalive, symbols=SYMBOLS, dlq=dlq,
                    connect=connect)  # type: ignore[arg-type]
    out = [e async for e in us.events()]
    assert urls == ["ws://127.0.0.1:1/ws/k1", "ws://127.0.0.1:1/ws/k2"]
    assert isinstance(out[0], OrderReport)
    assert out[1] == Reconnected("binance", "user")
    assert out[2] == Reconnected("binance", "user")  # new listenKey, new connection
    assert isinstance(out[3], Balance)
    assert len(dlq) == 1 and all(c.closed for c in conns)


class BlockingConn:
    """Delivers nothing until closed."""

    def __init__(self) -> None:
        import asyncio

        self.closed_evt = asyncio.Event()

    async def messages(self) -> AsyncIterator[object]:
        await self.closed_evt.wait()
        if False:  # pragma: no cover
            yield b""

    async def close(self) -> None:
        self.closed_evt.set()


async def test_lost_listen_key_starts_over_with_a_new_one() -> None:
    import asyncio

    from gapless.model.errors import InvalidOrder
    from gapless.transport.clock import FakeClock

    clock = FakeClock()
    keys = iter(["k1", "k2"])
    conns: list[Any] = []

    async def create_key() -> str:
        return next(keys)

    async def keepalive(key: str) -> None:
        if key == "k1":
            raise InvalidOrder("This listenKey does not exist.", code=-1125)

    def connect(url: str, name: str) -> Any:
        conns.append(FakeConn([b'{"e":"outboundAccountPosition","E":1,"B":[]}'])
                     if url.endswith("k2") else BlockingConn())
        return conns[-1]

    us = UserStream(venue="binance", ws_url="ws://h", create_key=create_key,
                    keepalive_key=keepalive, symbols=SYMBOLS, dlq=DeadLetterQueue(),
                    clock=clock, keepalive_every=60.0, connect=connect)
    task = asyncio.create_task(_collect(us))
    await clock.settle()
    clock.advance(61.0)
    out = await asyncio.wait_for(task, 5)
    assert out == [Reconnected("binance", "user")]
    assert us.listen_key == "k2"


async def _collect(us: UserStream) -> list[object]:
    return [e async for e in us.events()]
