"""The bridge's streams: books and private order updates over ccxt.pro where the
exchange has them (and its WebSocket is reachable), else REST polling; either way a
failure backs off and resubscribes, and ``Reconnected`` marks where the engine must
gap-fill.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from gapless.model import BookSnapshot, OrderReport
from gapless.model.errors import GaplessError, MalformedResponse, OrderNotFound
from gapless.transport.ratelimit import Priority
from gapless.venues.base import PrivateEvent, Reconnected
from gapless.venues.ccxt_bridge.errors import map_ccxt_error
from gapless.venues.ccxt_bridge.hooks import CALL, Call
from gapless.venues.ccxt_bridge.translate import book_from

if TYPE_CHECKING:
    from gapless.venues.ccxt_bridge.adapter import CcxtVenue

T = TypeVar("T")


def _ws_ok(venue: CcxtVenue, feature: str) -> bool:
    """Use ccxt.pro for ``feature`` if the exchange has it and its WS is reachable
    (a REST-only override without ``ws_url`` keeps us on polling)."""
    if not venue.has(feature):
        return False
    return bool(venue.config.ws_url) or not venue.config.rest_url


async def watch_book(venue: CcxtVenue, symbol: str) -> AsyncIterator[BookSnapshot]:
    inst = venue.instrument(symbol)
    attempt = 0
    if _ws_ok(venue, "watchOrderBook"):
        while not venue.closed:
            try:
                ob = await call_ws(venue, venue.ex.watch_order_book, inst.symbol)
            except GaplessError:
                await venue.clock.sleep(venue.backoff.delay(attempt))
                attempt += 1
                continue
            attempt = 0
            yield book_from(ob, inst.symbol, venue.book_depth, venue.name)
        return
    while not venue.closed:
        try:
            snap = await venue.order_book(symbol, venue.book_depth)
        except GaplessError:
            await venue.clock.sleep(venue.backoff.delay(attempt))
            attempt += 1
            continue
        attempt = 0
        yield snap
        await venue.clock.sleep(venue.poll_interval)


async def call_ws(venue: CcxtVenue, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
    call = Call(Priority.QUERY, False, strict=False)
    token = CALL.set(call)
    try:
        return await fn(*args)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        raise map_ccxt_error(exc, venue=venue.name) from exc
    finally:
        CALL.reset(token)


async def ws_connected(venue: CcxtVenue, timeout: float = 10.0) -> None:
    """Wait until every ccxt.pro client of this instance that was dialled is connected
    (or timeout). Clients ccxt created but never dialled are left out (ccxt.pro kraken
    keeps one for its v1 private URL just to hold the token)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        clients = [
            c for c in getattr(venue.ex, "clients", {}).values()
            if getattr(c, "connecting", False) or getattr(c, "connection", None) is not None
        ]
        if clients and all(
            getattr(c, "connected", None) is not None and c.connected.done()
            and not c.connected.exception() for c in clients
        ):
            return
        await asyncio.sleep(0.02)


async def private_events(venue: CcxtVenue) -> AsyncIterator[PrivateEvent]:
    if _ws_ok(venue, "watchOrders"):
        async for ev in _ws_private(venue):
            yield ev
    else:
        async for ev in _poll_private(venue):
            yield ev


async def _ws_private(venue: CcxtVenue) -> AsyncIterator[PrivateEvent]:
    """ccxt.pro ``watch_orders`` (plus ``watch_my_trades`` where the exchange's quirks
    say its trades carry the fills): one reader per subscription, any failure drops
    both and resubscribes after a backoff, then ``Reconnected`` once both are live."""
    watchers: dict[str, Callable[[], Awaitable[Any]]] = {"orders": venue.ex.watch_orders}
    if venue.quirks.watch_trades and venue.has("watchMyTrades"):
        watchers["trades"] = venue.ex.watch_my_trades
    attempt = 0
    reconnecting = False
    pending: dict[str, asyncio.Future[Any]] = {}
    try:
        while not venue.closed:
            for kind, watch in watchers.items():
                if kind not in pending:
                    pending[kind] = asyncio.ensure_future(call_ws(venue, watch))
            if reconnecting:
                # announce once the new subscriptions are live, so that a REST
                # gap-fill done on this marker cannot miss anything after it
                await ws_connected(venue)
                if all(not f.done() or f.exception() is None for f in pending.values()):
                    reconnecting = False
                    yield Reconnected(venue.name, "orders")
            await asyncio.wait(pending.values(), return_when=asyncio.FIRST_COMPLETED)
            failed = False
            batches: list[tuple[str, Any]] = []
            for kind in list(pending):
                fut = pending[kind]
                if not fut.done():
                    continue
                del pending[kind]
                try:
                    batches.append((kind, fut.result()))
                except GaplessError:
                    failed = True
            if not failed:
                # re-arm before handing anything out: ccxt.pro delivers an update only
                # to a watcher waiting when it arrives; one arriving while the consumer
                # holds this batch would sit in ccxt's cache until the next message
                for kind, watch in watchers.items():
                    if kind not in pending:
                        pending[kind] = asyncio.ensure_future(call_ws(venue, watch))
                await asyncio.sleep(0)
            for kind, batch in batches:
                if not isinstance(batch, list):
                    continue
                for item in batch:
                    rep = _private_report(venue, kind, item)
                    if rep is not None:
                        yield await venue.quirks.complete_stream_report(venue, rep)
            if failed:
                for fut in pending.values():
                    fut.cancel()
                for fut in pending.values():
                    with contextlib.suppress(BaseException):
                        await fut
                pending.clear()
                reconnecting = True
                await venue.clock.sleep(venue.backoff.delay(attempt))
                attempt += 1
                continue
            attempt = 0
    finally:
        for fut in pending.values():
            if not fut.done():
                fut.cancel()
                with contextlib.suppress(BaseException):
                    await fut


def _private_report(venue: CcxtVenue, kind: str, item: Any) -> OrderReport | None:
    """One streamed ccxt order (or trade) as a report; unreadable ones are dead-lettered."""
    try:
        if kind == "trades":
            return venue.quirks.report_from_trade(venue, item)
        sym = item.get("symbol") if isinstance(item, dict) else None
        rep, _ = venue.report(item, sym if isinstance(sym, str) else "")
        return rep
    except MalformedResponse as exc:
        venue.dlq.put(venue.name, kind, repr(item)[:2000], str(exc))
        return None


async def _poll_private(venue: CcxtVenue) -> AsyncIterator[PrivateEvent]:
    """No private stream: diff open orders every ``poll_interval`` seconds."""
    last: dict[str, OrderReport] = {}
    attempt = 0
    failed = False
    while not venue.closed:
        try:
            current = {r.client_order_id or r.venue_order_id: r for r in await venue.open_orders()}
            gone = [r for k, r in last.items() if k not in current]
            finals = []
            for r in gone:
                try:
                    finals.append(await venue.query_by_ids(r.symbol, r.client_order_id, r.venue_order_id))
                except OrderNotFound:
                    continue
        except GaplessError:
            failed = True
            await venue.clock.sleep(venue.backoff.delay(attempt))
            attempt += 1
            continue
        attempt = 0
        if failed:
            failed = False
            yield Reconnected(venue.name, "orders")
        for k, r in current.items():
            prev = last.get(k)
            if prev is None or prev.state != r.state or prev.filled_qty != r.filled_qty:
                yield r
        for r in finals:
            yield r
        last = current
        await venue.clock.sleep(venue.poll_interval)
