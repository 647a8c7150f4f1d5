"""Bybit V5 (category ``spot``) skin over the venue-neutral simulator core.

REST under ``/v5/...`` with ``X-BAPI-*`` HMAC headers and the ``retCode`` envelope;
WebSocket ``/v5/public/spot`` (``orderbook.N.SYMBOL`` snapshot/delta with ``u``/``seq``)
and ``/v5/private`` (``auth`` op, topics ``order``, ``execution``, ``wallet``).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import secrets
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from ..context import VenueSim
from ..core.exchange import Exchange
from ..core.faults import Faults
from ..core.liquidity import Liquidity
from ..faultware import abort_connection
from . import auth, errors
from .errors import BybitError
from .limits import Limits
from .rest import Rest
from .ws import Conn, Streams, TopicBook

MUTATING = frozenset({"/v5/order/create", "/v5/order/cancel", "/v5/order/cancel-all"})

Handler = Callable[[dict[str, str], str], Awaitable[Any]]


class BybitSkin(Rest, Streams):
    """The skin: route table, request parsing and the auth/limit gate around the handlers."""

    def __init__(self, exchange: Exchange, faults: Faults, api_key: str, secret: str) -> None:
        self.exchange = exchange
        self.faults = faults
        self.api_key = api_key
        self.secret = secret
        self.limits = Limits(faults)
        self.conns: set[Conn] = set()
        self.topics: dict[tuple[str, int], TopicBook] = {}
        self._msg_ids = itertools.count(1)
        self._exec_seq = itertools.count(1)
        self._bg: set[asyncio.Future[Any]] = set()
        self.routes: dict[tuple[str, str], tuple[Handler, bool]] = {
            ("GET", "/v5/market/time"): (self.h_time, False),
            ("GET", "/v5/market/instruments-info"): (self.h_instruments, False),
            ("GET", "/v5/market/orderbook"): (self.h_orderbook, False),
            ("GET", "/v5/market/tickers"): (self.h_tickers, False),
            ("POST", "/v5/order/create"): (self.h_create, True),
            ("POST", "/v5/order/cancel"): (self.h_cancel, True),
            ("POST", "/v5/order/cancel-all"): (self.h_cancel_all, True),
            ("GET", "/v5/order/realtime"): (self.h_realtime, True),
            ("GET", "/v5/order/history"): (self.h_history, True),
            ("GET", "/v5/execution/list"): (self.h_executions, True),
            ("GET", "/v5/account/wallet-balance"): (self.h_wallet, True),
            ("GET", "/v5/user/query-api"): (self.h_query_api, True),
            ("GET", "/v5/account/info"): (self.h_account_info, True),
            ("GET", "/v5/asset/coin/query-info"): (self.h_coin_info, True),
        }
        exchange.subscribe(self.on_event)
        faults.on_ws_disconnect(self.disconnect_all)

    # ------------------------------------------------------------ plumbing
    def reset(self) -> None:
        self.limits.reset()

    def envelope(self, result: Any, code: int = 0, msg: str = "OK") -> dict[str, Any]:
        return {"retCode": code, "retMsg": msg, "result": result, "retExtInfo": {},
                "time": self.exchange.time_ms()}

    async def handle(self, request: web.Request) -> web.StreamResponse:
        f = self.faults
        if f.outage == "refuse":
            return abort_connection(request)
        if f.latency_ms:
            await asyncio.sleep(f.latency_ms / 1000)
        if f.outage == "503":
            return web.Response(status=503, text="503 Service Temporarily Unavailable")
        route = self.routes.get((request.method, request.path))
        if route is None:
            return web.Response(status=404, text="404 page not found")
        handler, private = route
        raw_query = request.raw_path.partition("?")[2]
        body_text = ""
        if request.method == "POST":
            body_text = (await request.read()).decode("utf-8", "replace")
        headers: dict[str, str] = {}
        try:
            if request.method == "POST":
                try:
                    parsed = json.loads(body_text) if body_text.strip() else {}
                except ValueError:
                    raise errors.params("invalid JSON body") from None
                if not isinstance(parsed, dict):
                    raise errors.params("body must be a JSON object")
                params = {k: ("" if v is None else str(v)) for k, v in parsed.items()}
            else:
                params = dict(parse_qsl(raw_query, keep_blank_values=True))
            uid = ""
            if private:
                uid = self.authenticate(request, raw_query if request.method == "GET" else body_text)
                allowed, headers = self.limits.charge(uid, request.path)
                if not allowed:
                    raise errors.rate_limited(headers)
            result = await handler(params, uid)
            drop = f.take_drop_response() if request.path in MUTATING else None
            if drop is not None:
                return await self.drop(request, drop)
            body = self.envelope(result)
        except BybitError as e:
            headers = {**headers, **e.headers}
            if e.status != 200:
                return web.json_response({"retCode": e.code, "retMsg": e.msg}, status=e.status,
                                         headers=headers)
            body = self.envelope({}, e.code, e.msg)
        return web.Response(body=json.dumps(body, separators=(",", ":")),
                            content_type="application/json", headers=headers)

    async def drop(self, request: web.Request, mode: str) -> web.StreamResponse:
        if mode == "hang":
            await asyncio.sleep(3600)
        return abort_connection(request)

    def authenticate(self, request: web.Request, payload: str) -> str:
        h = request.headers
        key = h.get("X-BAPI-API-KEY", "")
        ts = h.get("X-BAPI-TIMESTAMP", "")
        sign = h.get("X-BAPI-SIGN", "")
        recv = h.get("X-BAPI-RECV-WINDOW", "5000") or "5000"
        if not key or key != self.api_key:
            raise errors.invalid_key()
        if not ts or not sign:
            raise errors.params("missing X-BAPI-TIMESTAMP or X-BAPI-SIGN")
        try:
            ts_i, recv_i = int(ts), int(recv)
        except ValueError:
            raise errors.params("X-BAPI-TIMESTAMP/X-BAPI-RECV-WINDOW") from None
        now = self.exchange.time_ms()
        if not (now - recv_i <= ts_i < now + 1000):
            raise errors.timestamp_window(ts_i, now, recv_i)
        prehash = auth.rest_prehash(ts, key, recv, payload)
        if not auth.verify(self.secret, prehash, sign):
            raise errors.bad_sign(prehash)
        return Exchange.TEST_ACCOUNT


def build(*, seed: int = 1, tick_interval: float = 1.0, api_key: str | None = None,
          secret: str | None = None, **_: Any) -> VenueSim:
    """Build the Bybit skin: an aiohttp app over a fresh core ``Exchange``."""
    faults = Faults()
    exchange = Exchange(faults=faults)
    liquidity = Liquidity(exchange, seed=seed)
    key = api_key or "GLSIMBYBIT" + secrets.token_hex(4).upper()
    sec = secret or secrets.token_hex(18)
    skin = BybitSkin(exchange, faults, key, sec)
    app = web.Application()
    app.router.add_get("/v5/public/spot", skin.ws_public)
    app.router.add_get("/v5/private", skin.ws_private)
    app.router.add_route("*", "/v5/{tail:.*}", skin.handle)
    liquidity.reset()

    async def start_liquidity() -> None:
        liquidity.start(tick_interval)

    async def stop_ws() -> None:
        for c in list(skin.conns):
            with contextlib.suppress(Exception):
                await c.ws.close()
        await liquidity.stop()

    sim = VenueSim(venue="bybit", app=app, exchange=exchange, faults=faults, liquidity=liquidity,
                   api_key=key, secret=sec, resolve_symbol=skin.resolve)
    sim.reset_hooks.append(skin.reset)
    sim.start_hooks.append(start_liquidity)
    sim.stop_hooks.append(stop_ws)
    return sim
