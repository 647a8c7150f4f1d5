"""Binance user data stream (legacy listenKey flavour, docs §3.7).

``POST /api/v3/userDataStream`` -> listenKey, ``PUT`` keeps it alive, events arrive on
``/ws/<listenKey>``. ``executionReport`` -> ``OrderReport`` (with a ``Fill`` when
``x == TRADE``), ``outboundAccountPosition`` -> ``Balance``. Anything unparseable or
unknown goes to the dead-letter queue; nothing is dropped silently.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal

import msgspec

from gapless.model import Balance, Fill, OrderReport
from gapless.model.errors import GaplessError, MalformedResponse, Rejected
from gapless.transport.clock import Clock, RealClock
from gapless.transport.deadletter import DeadLetterQueue
from gapless.transport.ws import Reconnected as WsReconnected
from gapless.transport.ws import WsConnection
from gapless.venues.base import PrivateEvent, Reconnected
from gapless.venues.binance.translate import side_of, state_of

ZERO = Decimal(0)
STREAM = "user"


class ExecutionReport(msgspec.Struct, tag_field="e", tag="executionReport"):
    s: str
    c: str
    S: str
    x: str
    X: str
    i: int
    q: Decimal
    p: Decimal = ZERO
    z: Decimal = ZERO
    Z: Decimal = ZERO
    l: Decimal = ZERO  # noqa: E741
    L: Decimal = ZERO
    n: Decimal | None = None
    N: str | None = None
    t: int = -1
    m: bool = False
    T: int = 0
    E: int = 0
    C: str | None = None
    r: str = "NONE"


class _Bal(msgspec.Struct):
    a: str
    f: Decimal
    l: Decimal = ZERO  # noqa: E741


class AccountPosition(msgspec.Struct, tag_field="e", tag="outboundAccountPosition"):
    B: list[_Bal]
    E: int = 0


class BalanceUpdate(msgspec.Struct, tag_field="e", tag="balanceUpdate"):
    """Deposit/withdrawal delta; an ``outboundAccountPosition`` with totals follows."""


class ListenKeyExpired(msgspec.Struct, tag_field="e", tag="listenKeyExpired"):
    pass


class StreamTerminated(msgspec.Struct, tag_field="e", tag="eventStreamTerminated"):
    pass


UserEvent = ExecutionReport | AccountPosition | BalanceUpdate | ListenKeyExpired | StreamTerminated
_decode_event = msgspec.json.Decoder(UserEvent).decode


def _finite(v: Decimal, what: str, venue: str) -> Decimal:
    if not v.is_finite() or v < 0:
        raise MalformedResponse(f"{what} {v} is not a non-negative number", venue=venue)
    return v


def report_from_execution(ev: ExecutionReport, symbol: str, venue: str) -> OrderReport:
    side = side_of(ev.S, venue)
    cid = ev.C or ev.c
    vid = str(ev.i)
    fills: tuple[Fill, ...] = ()
    if ev.x == "TRADE":
        if ev.t < 0 or not ev.l.is_finite() or ev.l <= 0 or not ev.L.is_finite() or ev.L <= 0:
            raise MalformedResponse("TRADE execution without trade id/qty/price", venue=venue)
        fills = (
            Fill(
                venue=venue,
                trade_id=str(ev.t),
                symbol=symbol,
                side=side,
                qty=ev.l,
                price=ev.L,
                fee=_finite(ev.n, "commission", venue) if ev.n is not None else ZERO,
                fee_asset=ev.N or "",
                is_maker=ev.m,
                ts_ms=ev.T,
                client_order_id=cid,
                venue_order_id=vid,
            ),
        )
    return OrderReport(
        venue=venue,
        symbol=symbol,
        client_order_id=cid,
        venue_order_id=vid,
        state=state_of(ev.X, venue),
        side=side,
        qty=_finite(ev.q, "qty", venue),
        price=_finite(ev.p, "price", venue) or None,
        filled_qty=_finite(ev.z, "z", venue),
        quote_filled=_finite(ev.Z, "Z", venue),
        fills=fills,
        ts_ms=ev.T or ev.E,
    )


def balances_from_position(ev: AccountPosition, venue: str) -> list[Balance]:
    return [
        Balance(asset=b.a, free=_finite(b.f, "free", venue), locked=_finite(b.l, "locked", venue))
        for b in ev.B
    ]


class ParsedMessage(msgspec.Struct):
    events: list[PrivateEvent]
    relogin: bool = False


def parse_user_message(
    raw: bytes | str, symbols: dict[str, str], venue: str
) -> ParsedMessage:
    """Translate one frame; raises ``ValueError`` for anything to dead-letter."""
    try:
        ev = _decode_event(raw)
    except msgspec.DecodeError as exc:
        raise ValueError(f"unparseable user event: {exc}") from None
    try:
        if isinstance(ev, ExecutionReport):
            return ParsedMessage([report_from_execution(ev, symbols.get(ev.s, ev.s), venue)])
        if isinstance(ev, AccountPosition):
            return ParsedMessage(list(balances_from_position(ev, venue)))
    except GaplessError as exc:
        raise ValueError(str(exc)) from None
    if isinstance(ev, ListenKeyExpired | StreamTerminated):
        return ParsedMessage([], relogin=True)
    return ParsedMessage([])  # BalanceUpdate: covered by the following account position


class UserStream:
    """Owns the listenKey and its connection; ``events()`` yields ``PrivateEvent``s."""

    def __init__(
        self,
        *,
        venue: str,
        ws_url: str,
        create_key: Callable[[], Awaitable[str]],
        keepalive_key: Callable[[str], Awaitable[None]],
        symbols: dict[str, str],
        dlq: DeadLetterQueue,
        clock: Clock | None = None,
        keepalive_every: float = 1800.0,
        connect: Callable[[str, str], WsConnection] | None = None,
    ) -> None:
        self.venue = venue
        self.ws_url = ws_url.rstrip("/")
        self._create_key = create_key
        self._keepalive_key = keepalive_key
        self.symbols = symbols
        self.dlq = dlq
        self.clock = clock or RealClock()
        self.keepalive_every = keepalive_every
        self._connect = connect or self._default_connect
        self.listen_key = ""
        self._key_lost = False

    def _default_connect(self, url: str, name: str) -> WsConnection:
        return WsConnection(url, name=name, on_connect=None, clock=self.clock)

    async def _keepalive_loop(self, conn: WsConnection) -> None:
        while True:
            await self.clock.sleep(self.keepalive_every)
            try:
                await self._keepalive_key(self.listen_key)
            except Rejected:
                # the venue no longer knows this listenKey (e.g. after a long outage):
                # end this connection so events() starts over with a fresh key
                self._key_lost = True
                await conn.close()
                return
            except GaplessError:
                continue  # transient; the key is valid for 60 min, try again next round

    async def events(self) -> AsyncIterator[PrivateEvent]:
        first = True
        while True:
            self.listen_key = await self._create_key()
            conn = self._connect(f"{self.ws_url}/ws/{self.listen_key}", f"{self.venue}-user")
            self._key_lost = False
            keepalive = asyncio.create_task(self._keepalive_loop(conn))
            if not first:
                yield Reconnected(self.venue, STREAM)
            first = False
            relogin = False
            try:
                async for msg in conn.messages():
                    if isinstance(msg, WsReconnected):
                        yield Reconnected(self.venue, STREAM)
                        continue
                    try:
                        parsed = parse_user_message(msg, self.symbols, self.venue)
                    except ValueError as exc:
                        self.dlq.put(self.venue, STREAM, msg, str(exc))
                        continue
                    for e in parsed.events:
                        yield e
                    if parsed.relogin:
                        relogin = True
                        break
            finally:
                keepalive.cancel()
                await conn.close()
            if not (relogin or self._key_lost):
                return
