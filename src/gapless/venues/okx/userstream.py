"""OKX private stream: ``/ws/v5/private``, ``login`` op, ``orders`` channel (docs §7.7).

``on_connect`` logs in (a ``60xxx`` login error raises ``AuthError``, which stops the
connection) and subscribes to ``orders`` for SPOT. Each push becomes an ``OrderReport``
carrying the ``Fill`` of that push when it reports one. Frames that do not parse go to the
dead-letter queue; nothing is dropped silently. After every reconnect a ``Reconnected``
marker is yielded so the consumer gap-fills by REST (OKX sends no snapshot).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import msgspec

from gapless.model.errors import AuthError, GaplessError, MalformedResponse
from gapless.transport.deadletter import DeadLetterQueue
from gapless.transport.ws import Reconnected as WsReconnected
from gapless.transport.ws import WsConnection
from gapless.venues.base import PrivateEvent, Reconnected
from gapless.venues.okx.translate import OrderWire, fill_from_push, report_from

STREAM = "orders"
LOGIN_TIMEOUT = 10.0


class _Arg(msgspec.Struct):
    channel: str
    instType: str = ""


class OrdersPush(msgspec.Struct):
    arg: _Arg
    data: list[OrderWire]


class EventMsg(msgspec.Struct):
    event: str
    code: str = ""
    msg: str = ""


_decode_push = msgspec.json.Decoder(OrdersPush).decode
_decode_event = msgspec.json.Decoder(EventMsg).decode


def parse_private_message(
    raw: bytes | str, symbols: dict[str, str], venue: str
) -> list[PrivateEvent]:
    """Translate one frame; raises ``ValueError`` for anything to dead-letter."""
    if raw in ("pong", b"pong"):
        return []
    try:
        push = _decode_push(raw)
    except msgspec.DecodeError:
        try:
            ev = _decode_event(raw)
        except msgspec.DecodeError as exc:
            raise ValueError(f"unparseable private message: {exc}") from None
        if ev.event in ("login", "subscribe", "unsubscribe", "channel-conn-count"):
            return []
        raise ValueError(f"venue event {ev.event} {ev.code}: {ev.msg}") from None
    if push.arg.channel != STREAM:
        raise ValueError(f"unexpected channel {push.arg.channel!r}")
    out: list[PrivateEvent] = []
    try:
        for w in push.data:
            symbol = symbols.get(w.instId)
            if symbol is None:
                raise MalformedResponse(f"unknown instrument {w.instId!r}", venue=venue)
            fill = fill_from_push(w, symbol, venue)
            out.append(report_from(w, symbol, venue, (fill,) if fill is not None else ()))
    except GaplessError as exc:
        raise ValueError(str(exc)) from None
    return out


def make_on_connect(login: Callable[[], dict[str, object]], venue: str,
                    inst_type: str = "SPOT") -> Callable[[WsConnection], object]:
    async def on_connect(conn: WsConnection) -> None:
        await conn.send_json(login())
        while True:
            raw = await conn.receive(LOGIN_TIMEOUT)
            if raw in ("pong", b"pong"):
                continue
            try:
                ev = _decode_event(raw)
            except msgspec.DecodeError:
                continue
            if ev.event == "login":
                if ev.code not in ("", "0"):
                    raise AuthError(f"login failed: {ev.msg}", venue=venue, code=ev.code)
                break
            if ev.event == "error":
                raise AuthError(f"login failed: {ev.msg}", venue=venue, code=ev.code)
        await conn.send_json({"op": "subscribe",
                              "args": [{"channel": STREAM, "instType": inst_type}]})

    return on_connect


async def private_stream(
    conn: WsConnection, symbols: dict[str, str], venue: str, dlq: DeadLetterQueue
) -> AsyncIterator[PrivateEvent]:
    async for msg in conn.messages():
        if isinstance(msg, WsReconnected):
            yield Reconnected(venue, STREAM)
            continue
        try:
            events = parse_private_message(msg, symbols, venue)
        except ValueError as exc:
            dlq.put(venue, STREAM, msg, str(exc))
            continue
        for e in events:
            yield e
