"""The Kraken spot skin: REST ``/0/...`` routing and its key/nonce gate, and ``build`` (REST and
WS v2 ``/v2`` over a fresh core)."""

from __future__ import annotations

import asyncio
import base64
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import orjson
from aiohttp import web

from ..context import VenueSim
from ..core.exchange import Exchange
from ..core.faults import Faults
from ..core.liquidity import Liquidity
from ..faultware import abort_connection, make_fault_middleware
from . import errors
from .auth import KeyStore
from .errors import KrakenError, invalid_argument
from .limits import Limits
from .rest import MAKER_FEE, TAKER_FEE, Handlers
from .state import KrakenState
from .wire import kraken_symbols
from .ws import WsApi

MUTATING = frozenset({"AddOrder", "CancelOrder", "CancelAll"})


def envelope(result: Any) -> web.Response:
    return web.Response(body=orjson.dumps({"error": [], "result": result}),
                        content_type="application/json")


def error_response(err: KrakenError) -> web.Response:
    return web.Response(status=err.status, body=orjson.dumps({"error": [err.message]}),
                        content_type="application/json")


Handler = Callable[[dict[str, str]], Any]


class RestApi(Handlers):
    """REST routing and the gate: body parsing, key/nonce check, call limits, dropped answers."""

    def __init__(self, exchange: Exchange, faults: Faults, state: KrakenState, keys: KeyStore,
                 limits: Limits) -> None:
        self.ex = exchange
        self.faults = faults
        self.st = state
        self.keys = keys
        self.limits = limits
        self.public: dict[str, Handler] = {
            "Time": self.time_, "SystemStatus": self.system_status, "Assets": self.assets,
            "AssetPairs": self.asset_pairs, "Depth": self.depth, "Ticker": self.ticker,
        }
        self.private: dict[str, Handler] = {
            "Balance": self.balance, "BalanceEx": self.balance_ex, "AddOrder": self.add_order,
            "CancelOrder": self.cancel_order, "CancelAll": self.cancel_all,
            "QueryOrders": self.query_orders, "OpenOrders": self.open_orders,
            "ClosedOrders": self.closed_orders, "TradesHistory": self.trades_history,
            "QueryTrades": self.query_trades, "GetWebSocketsToken": self.ws_token,
        }

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/0/public/{method}", self.handle_public)
        app.router.add_post("/0/private/{method}", self.handle_private)

    # ------------------------------------------------------------ plumbing
    async def _drop(self, request: web.Request, mode: str) -> web.Response:
        if mode == "hang":
            await asyncio.sleep(3600)
        return abort_connection(request)

    async def handle_public(self, request: web.Request) -> web.StreamResponse:
        fn = self.public.get(request.match_info["method"])
        if fn is None:
            return error_response(KrakenError(errors.UNKNOWN_METHOD, status=404))
        params = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            params.update(_parse_body(await request.read(), request.content_type))
        try:
            return envelope(fn(params))
        except KrakenError as e:
            return error_response(e)

    async def handle_private(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        fn = self.private.get(method)
        if fn is None:
            return error_response(KrakenError(errors.UNKNOWN_METHOD, status=404))
        body = await request.read()
        try:
            params = _parse_body(body, request.content_type)
            self.keys.check(request.headers.get("API-Key"), request.headers.get("API-Sign"),
                            request.path, params.get("nonce"), body)
            self.limits.charge_rest(self.keys.api_key, method)
            result = fn(params)
        except KrakenError as e:
            return error_response(e)
        if method in MUTATING:
            mode = self.faults.take_drop_response()
            if mode is not None:
                return await self._drop(request, mode)
        return envelope(result)


def _parse_body(body: bytes, content_type: str) -> dict[str, str]:
    if not body:
        return {}
    if content_type == "application/json" or body[:1] == b"{":
        try:
            obj = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise invalid_argument("body") from None
        if not isinstance(obj, dict):
            raise invalid_argument("body")
        return {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in obj.items()}
    try:
        return dict(parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=True))
    except (UnicodeDecodeError, ValueError):
        raise invalid_argument("body") from None


def build(*, seed: int = 1, tick_interval: float = 1.0, api_key: str | None = None,
          secret: str | None = None, rest_max: int = 20, rest_decay: float = 1.0,
          trade_max: int = 180, trade_decay: float = 3.75, nonce_window: int = 0,
          **_: Any) -> VenueSim:
    """Options: ``tick_interval`` (s between liquidity ticks, 0 = frozen), the REST call
    counter (``rest_max``/``rest_decay`` per s), the per-pair trading counter
    (``trade_max``/``trade_decay``), defaults Kraken's "Pro" tier, and the key's
    ``nonce_window`` (nonce units, default 0 as at Kraken)."""
    faults = Faults()
    exchange = Exchange(symbols=kraken_symbols(), maker_fee=MAKER_FEE, taker_fee=TAKER_FEE,
                        faults=faults)
    liquidity = Liquidity(exchange, seed=seed)
    key = api_key or base64.b64encode(secrets.token_bytes(42)).decode()
    sec = secret or base64.b64encode(secrets.token_bytes(64)).decode()
    state = KrakenState(exchange, salt=f"{seed}:{secrets.token_hex(4)}")
    keys = KeyStore(key, sec, nonce_window)
    limits = Limits(faults, rest_max=rest_max, rest_decay=rest_decay, trade_max=trade_max,
                    trade_decay=trade_decay)
    rest = RestApi(exchange, faults, state, keys, limits)
    ws = WsApi(exchange, faults, state)
    outage = b'{"error":["EService:Unavailable"]}'
    app = web.Application(middlewares=[make_fault_middleware(faults, outage, "application/json")])
    rest.routes(app)
    ws.routes(app)
    liquidity.reset()

    def resolve(name: str) -> str:
        p = state.by_name.get(name) or state.by_name.get(name.upper())
        return p.symbol if p is not None else name

    def reset() -> None:
        state.reset()
        keys.reset()
        limits.reset()

    async def start_liquidity() -> None:
        liquidity.start(tick_interval)

    async def stop() -> None:
        await ws.close_all()
        await liquidity.stop()

    sim = VenueSim(venue="kraken", app=app, exchange=exchange, faults=faults, liquidity=liquidity,
                   api_key=key, secret=sec, resolve_symbol=resolve)
    sim.reset_hooks.append(reset)
    sim.start_hooks.append(start_liquidity)
    sim.stop_hooks.append(stop)
    return sim
