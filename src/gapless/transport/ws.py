"""Self-healing WebSocket connection.

``WsConnection`` owns one aiohttp WebSocket at a time and keeps it alive:

* **Reconnect** with capped, fully-jittered backoff (:class:`Backoff`) whenever the socket
  closes, errors, misses protocol pongs, goes stale or the app ping cannot be sent. The
  backoff attempt counter resets once a connection has delivered data, so a server that
  accepts and immediately drops us is retried with growing delays, never in a hot loop.
* **on_connect** runs after every (re)connect, before any frame is delivered: it
  (re-)authenticates and (re-)subscribes. It may read replies with :meth:`receive`.
  If it raises a ``Rejected`` error (e.g. ``AuthError``) the connection stops and the
  error is raised to the consumer; other errors trigger a reconnect.
* **Reconnected marker**: after every successful *re*connect (on_connect done) a
  :class:`Reconnected` item is queued before the new connection's frames, so the consumer
  knows exactly where the gap is and can gap-fill via REST.
* **Heartbeats**: protocol ping/pong via aiohttp ``heartbeat=`` (a missing pong closes the
  socket) plus an optional application ping (``app_ping()`` text every ``heartbeat``
  seconds on the injected clock; e.g. OKX ``"ping"``, Bybit ``'{"op":"ping"}'``).
  Application pong replies are delivered like any frame.
* **Stale detection** on the injected clock: no data frame for ``stale_after`` seconds
  forces a reconnect (a subscription can die silently while pings still work).
* **Bounded queue** (``max_queue``): when the consumer falls behind, the reader stops
  reading (TCP backpressure) instead of buffering without bound; nothing is dropped, and
  time spent blocked on a full queue does not count as staleness.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

from gapless.model.errors import Disconnected, Rejected, RequestTimeout
from gapless.transport.backoff import Backoff
from gapless.transport.clock import REAL_CLOCK, Clock

log = logging.getLogger("gapless.transport.ws")


@dataclass(frozen=True, slots=True)
class Reconnected:
    """Marker yielded by :meth:`WsConnection.messages` after every successful reconnect."""

    name: str


class _Closed:
    __slots__ = ()


_CLOSED = _Closed()

Message = bytes | str | Reconnected
_DATA = (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY)


class WsConnection:
    def __init__(
        self,
        url: str,
        *,
        name: str,
        on_connect: Callable[[WsConnection], Awaitable[None]] | None = None,
        heartbeat: float = 20.0,
        stale_after: float = 60.0,
        app_ping: Callable[[], str] | None = None,
        backoff: Backoff | None = None,
        clock: Clock | None = None,
        max_queue: int = 10_000,
        session: aiohttp.ClientSession | None = None,
        connect_timeout: float = 10.0,
        close_timeout: float = 2.0,
    ) -> None:
        if max_queue < 1:
            raise ValueError("max_queue must be >= 1")
        self.url = url
        self.name = name
        self._on_connect = on_connect
        self.heartbeat = heartbeat
        self.stale_after = stale_after
        self._app_ping = app_ping
        self._backoff = backoff or Backoff(base=0.25, cap=30.0)
        self._clock: Clock = clock or REAL_CLOCK
        self._queue: asyncio.Queue[Message | _Closed] = asyncio.Queue(maxsize=max_queue)
        self._session = session
        self._own_session = session is None
        self._connect_timeout = connect_timeout
        self._close_timeout = close_timeout
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._task: asyncio.Task[None] | None = None
        self._force: asyncio.Future[None] | None = None
        self._closed = False
        self._error: BaseException | None = None
        self._in_on_connect = False
        self._blocked = False
        self._last_rx = 0.0
        # observability
        self.connects = 0
        self.reconnects = 0
        self.stale_reconnects = 0
        self.last_error: BaseException | None = None

    # ------------------------------------------------------------------ public
    @property
    def connected(self) -> bool:
        ws = self._ws
        return ws is not None and not ws.closed and not self._in_on_connect

    @property
    def queued(self) -> int:
        return self._queue.qsize()

    async def start(self) -> None:
        if self._closed:
            raise Disconnected(f"{self.name} is closed")
        if self._task is None:
            if self._session is None:
                self._session = aiohttp.ClientSession()
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def messages(self) -> AsyncIterator[Message]:
        """Frames (``str``/``bytes``) and :class:`Reconnected` markers, in order."""
        await self.start()
        q = self._queue
        while True:
            if self._closed and q.empty():
                break
            item = await q.get()
            if isinstance(item, _Closed):
                break
            yield item
        if self._error is not None:
            raise self._error

    async def send_str(self, s: str) -> None:
        ws = self._ws
        if ws is None or ws.closed:
            raise Disconnected(f"{self.name}: not connected")
        try:
            await ws.send_str(s)
        except (ConnectionError, aiohttp.ClientError) as e:
            raise Disconnected(f"{self.name}: send failed: {e!r}") from e

    async def send_json(self, obj: Any) -> None:
        await self.send_str(orjson.dumps(obj).decode())

    async def receive(self, timeout: float | None = None) -> str | bytes:
        """Read one frame directly; only valid inside ``on_connect`` (e.g. a login ack)."""
        ws = self._ws
        if ws is None or not self._in_on_connect:
            raise RuntimeError("receive() is only for on_connect; consume messages() instead")
        try:
            msg = await ws.receive(timeout)
        except TimeoutError as e:
            raise RequestTimeout(f"{self.name}: no reply within {timeout}s") from e
        if msg.type in _DATA:
            self._last_rx = self._clock.monotonic()
            data: str | bytes = msg.data
            return data
        raise Disconnected(f"{self.name}: connection closed during on_connect ({msg.type.name})")

    def reconnect(self) -> None:
        """Force a reconnect now (e.g. the consumer saw a sequence gap)."""
        f = self._force
        if f is not None and not f.done():
            f.set_result(None)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._close_ws()
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None
        self._wake_consumer()

    # ------------------------------------------------------------------ internals
    def _wake_consumer(self) -> None:
        if not self._queue.full():
            self._queue.put_nowait(_CLOSED)

    async def _close_ws(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None and not ws.closed:
            with contextlib.suppress(Exception):
                await ws.close()

    async def _put(self, item: Message) -> None:
        q = self._queue
        if not q.full():
            q.put_nowait(item)
            return
        self._blocked = True
        try:
            await q.put(item)
        finally:
            self._blocked = False
            self._last_rx = self._clock.monotonic()

    async def _pause(self, attempt: int) -> None:
        await self._clock.sleep(self._backoff.delay(attempt))

    async def _connect(self) -> aiohttp.ClientWebSocketResponse:
        assert self._session is not None
        async with asyncio.timeout(self._connect_timeout):
            return await self._session.ws_connect(
                self.url,
                heartbeat=self.heartbeat if self.heartbeat > 0 else None,
                autoping=True,
                max_msg_size=0,
                timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=self._close_timeout),
            )

    async def _run(self) -> None:
        attempt = 0
        ever = False
        try:
            while not self._closed:
                try:
                    ws = await self._connect()
                except (aiohttp.ClientError, OSError, TimeoutError) as e:
                    self.last_error = e
                    await self._pause(attempt)
                    attempt += 1
                    continue
                self._ws = ws
                self.connects += 1
                if self._on_connect is not None:
                    self._in_on_connect = True
                    try:
                        await self._on_connect(self)
                    except Rejected:
                        raise
                    except Exception as e:
                        self.last_error = e
                        log.warning("%s: on_connect failed: %r; reconnecting", self.name, e)
                        await self._close_ws()
                        await self._pause(attempt)
                        attempt += 1
                        continue
                    finally:
                        self._in_on_connect = False
                if ever:
                    self.reconnects += 1
                    await self._put(Reconnected(self.name))
                ever = True
                if await self._serve(ws):
                    attempt = 0
                await self._close_ws()
                if self._closed:
                    break
                await self._pause(attempt)
                attempt += 1
        except Exception as e:  # Rejected from on_connect, or a bug: surface it
            self._error = e
            self._closed = True
            self._wake_consumer()
            await self._close_ws()
            if self._own_session and self._session is not None:
                await self._session.close()
                self._session = None

    async def _serve(self, ws: aiohttp.ClientWebSocketResponse) -> bool:
        """Pump one connection until it ends; True if it delivered any data frame."""
        loop = asyncio.get_running_loop()
        self._last_rx = self._clock.monotonic()
        self._force = loop.create_future()
        got = [False]
        tasks: list[asyncio.Future[Any]] = [
            loop.create_task(self._read(ws, got)),
            loop.create_task(self._watchdog()),
            self._force,
        ]
        if self._app_ping is not None and self.heartbeat > 0:
            tasks.append(loop.create_task(self._pinger(ws)))
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for t in done:
                if not t.cancelled() and t.exception() is not None:
                    self.last_error = t.exception()
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._force = None
        return got[0]

    async def _read(self, ws: aiohttp.ClientWebSocketResponse, got: list[bool]) -> None:
        clock = self._clock
        while True:
            msg = await ws.receive()
            if msg.type in _DATA:
                self._last_rx = clock.monotonic()
                got[0] = True
                await self._put(msg.data)
            elif msg.type is aiohttp.WSMsgType.ERROR:
                self.last_error = ws.exception()
                return
            elif msg.type in (
                aiohttp.WSMsgType.CLOSE,
                aiohttp.WSMsgType.CLOSING,
                aiohttp.WSMsgType.CLOSED,
            ):
                return

    async def _watchdog(self) -> None:
        clock = self._clock
        while True:
            remaining = self._last_rx + self.stale_after - clock.monotonic()
            if remaining > 0:
                await clock.sleep(remaining)
            elif self._blocked:  # the consumer is slow, not the stream
                await clock.sleep(self.stale_after)
            else:
                self.stale_reconnects += 1
                log.warning("%s: no data for %.1fs; reconnecting", self.name, self.stale_after)
                return

    async def _pinger(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        assert self._app_ping is not None
        while True:
            await self._clock.sleep(self.heartbeat)
            await ws.send_str(self._app_ping())
