"""The OKX V5 skin: REST routes with OKX's paths, envelopes, auth, limits and errors.

Only SPOT with ``tdMode=cash`` is modelled. Every answer is ``{"code","msg","data"}``
with string codes; per-order results carry ``sCode``/``sMsg``.
"""

from __future__ import annotations

import asyncio
import json
import random
import string
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from ..context import VenueSim
from ..core.exchange import Exchange
from ..core.faults import Faults
from ..core.liquidity import Liquidity
from ..core.models import (
    Order,
)
from ..faultware import abort_connection, make_fault_middleware
from . import errors
from .auth import parse_iso_ms, verify
from .errors import OkxError
from .limits import Limits
from .rest import DropResponse, Rest
from .wire import Meta, symbol_of
from .ws import WsHub

SKEW_TOLERANCE_MS = 30_000

Handler = Callable[[web.Request, Any], Awaitable[Any]]


def _rand(rng: random.Random, n: int, alphabet: str) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


class OkxSim(Rest):
    """The skin: route table, request parsing and the auth/limit gate around the handlers."""

    venue = "okx"

    def __init__(self, *, seed: int = 1, tick_interval: float = 1.0,
                 legacy_checksum: bool = False, idle_timeout: float = 30.0,
                 book_heartbeat: float = 60.0) -> None:
        rng = random.Random(f"okx-keys-{seed}")
        self.faults = Faults()
        self.exchange = Exchange(faults=self.faults)
        self.liquidity = Liquidity(self.exchange, seed=seed)
        self.tick_interval = tick_interval
        self.limits = Limits(self.faults)
        hexdigits = "0123456789abcdef"
        self.api_key = "-".join(_rand(rng, n, hexdigits) for n in (8, 4, 4, 4, 12))
        self.secret = _rand(rng, 32, "0123456789ABCDEF")
        self.passphrase = _rand(rng, 12, string.ascii_letters + string.digits)
        self.account = Exchange.TEST_ACCOUNT
        self.meta: dict[int, Meta] = {}
        # post-only orders that would have crossed: accepted, then canceled (cancelSource 31)
        self.extra: dict[int, Order] = {}
        self._extra_ids = 0
        self._pending: Meta | None = None
        self.stopping = asyncio.Event()
        self.hub = WsHub(self, legacy_checksum=legacy_checksum, idle_timeout=idle_timeout,
                         book_heartbeat=book_heartbeat)
        self.routes: dict[tuple[str, str], tuple[Handler, bool, str]] = {}
        self._register()
        body = json.dumps(errors.unavailable().body()).encode()
        self.app = web.Application(
            middlewares=[make_fault_middleware(self.faults, body, "application/json")])
        self.hub.add_routes(self.app)
        self.app.router.add_route("*", "/api/v5/{tail:.*}", self.dispatch)

    # --------------------------------------------------------------- plumbing
    def venue_sim(self) -> VenueSim:
        vs = VenueSim("okx", self.app, self.exchange, self.faults, self.liquidity,
                      self.api_key, self.secret, passphrase=self.passphrase,
                      resolve_symbol=self.resolve_symbol)
        vs.reset_hooks.append(self._reset)
        vs.start_hooks.append(self._start)
        vs.stop_hooks.append(self._stop)
        return vs

    def resolve_symbol(self, s: str) -> str:
        if s in self.exchange.specs:
            return s
        cand = symbol_of(s.upper())
        return cand if cand in self.exchange.specs else s

    def _reset(self) -> None:
        self.limits.reset()
        self.meta.clear()
        self.extra.clear()

    async def _start(self) -> None:
        self.liquidity.reset()
        self.liquidity.start(self.tick_interval)
        self.hub.start()

    async def _stop(self) -> None:
        self.stopping.set()
        await self.liquidity.stop()
        await self.hub.stop()

    def _register(self) -> None:
        r = self.routes
        r[("GET", "/api/v5/public/time")] = (self.time, False, "public/time")
        r[("GET", "/api/v5/public/instruments")] = (self.instruments, False, "public/instruments")
        r[("GET", "/api/v5/market/books")] = (self.books, False, "market/books")
        r[("GET", "/api/v5/market/tickers")] = (self.tickers, False, "market/tickers")
        r[("GET", "/api/v5/market/ticker")] = (self.ticker, False, "market/ticker")
        r[("GET", "/api/v5/asset/currencies")] = (self.currencies, True, "asset/currencies")
        r[("GET", "/api/v5/account/balance")] = (self.balance, True, "account/balance")
        r[("GET", "/api/v5/account/config")] = (self.account_config, True, "account/config")
        r[("GET", "/api/v5/account/trade-fee")] = (self.trade_fee, True, "account/trade-fee")
        r[("POST", "/api/v5/trade/order")] = (self.place_one, True, "")
        r[("GET", "/api/v5/trade/order")] = (self.query_order, True, "")
        r[("POST", "/api/v5/trade/batch-orders")] = (self.place_batch, True, "")
        r[("POST", "/api/v5/trade/cancel-order")] = (self.cancel_one, True, "")
        r[("POST", "/api/v5/trade/cancel-batch-orders")] = (self.cancel_batch, True, "")
        r[("GET", "/api/v5/trade/orders-pending")] = (self.orders_pending, True,
                                                      "trade/orders-pending")
        r[("GET", "/api/v5/trade/orders-history")] = (self.orders_history, True,
                                                      "trade/orders-history")
        r[("GET", "/api/v5/trade/fills")] = (self.fills, True, "trade/fills")
        r[("GET", "/api/v5/trade/fills-history")] = (self.fills, True, "trade/fills-history")

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        route = self.routes.get((request.method, request.path))
        status, body = 200, None
        try:
            if route is None:
                raise errors.not_found_path()
            handler, private, endpoint = route
            raw = await request.text()
            if private:
                self.authenticate(request, raw)
            if endpoint and not self.limits.take(endpoint):
                raise errors.rate_limited()
            if request.method == "GET":
                params: Any = dict(parse_qsl(request.query_string, keep_blank_values=True))
            elif raw:
                try:
                    params = json.loads(raw)
                except ValueError:
                    raise OkxError("50002", "Json data format error", 400) from None
            else:
                params = {}
            body = await handler(request, params)
        except DropResponse as d:
            if d.mode == "hang":
                await self.stopping.wait()
            return abort_connection(request)
        except OkxError as e:
            status, body = e.status, e.body()
        return web.Response(status=status, body=json.dumps(body, separators=(",", ":")),
                            content_type="application/json")

    def authenticate(self, request: web.Request, raw_body: str) -> None:
        h = request.headers
        key = h.get("OK-ACCESS-KEY", "")
        sign = h.get("OK-ACCESS-SIGN", "")
        ts = h.get("OK-ACCESS-TIMESTAMP", "")
        passphrase = h.get("OK-ACCESS-PASSPHRASE", "")
        if not key:
            raise errors.missing_header("KEY")
        if not sign:
            raise errors.missing_header("SIGN")
        if not ts:
            raise errors.missing_header("TIMESTAMP")
        if not passphrase:
            raise errors.missing_header("PASSPHRASE")
        sim_flag = h.get("x-simulated-trading")
        if sim_flag is not None and sim_flag not in ("0", "1"):
            raise OkxError("50101", "APIKey does not match current environment.", 401)
        ms = parse_iso_ms(ts)
        if ms is None:
            raise errors.bad_timestamp()
        if abs(ms - self.exchange.time_ms()) > SKEW_TOLERANCE_MS:
            raise errors.expired()
        if key != self.api_key:
            raise errors.bad_key()
        if passphrase != self.passphrase:
            raise errors.bad_passphrase()
        if not verify(self.secret, ts + request.method + request.raw_path + raw_body, sign):
            raise errors.bad_signature()


def build(*, seed: int = 1, **options: Any) -> VenueSim:
    """Factory for the cluster registry. Options: ``tick_interval`` (s between liquidity
    ticks, 0 = frozen mid), ``legacy_checksum`` (send the CRC32 book checksum instead of 0),
    ``idle_timeout`` (WS idle disconnect, default 30 s), ``book_heartbeat`` (s)."""
    known = {"tick_interval", "legacy_checksum", "idle_timeout", "book_heartbeat"}
    return OkxSim(seed=seed, **{k: v for k, v in options.items() if k in known}).venue_sim()


create_okx_sim = build
