"""The Binance Spot skin: REST routes with Binance's paths, shapes, auth, weights and errors."""

from __future__ import annotations

import asyncio
import base64
import json
import random
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ..context import VenueSim
from ..core.exchange import Exchange
from ..core.faults import Faults
from ..core.liquidity import Liquidity
from ..faultware import abort_connection, make_fault_middleware
from . import errors
from .auth import KEY_RE, ApiKey, signed_payload, verify
from .errors import BinanceError
from .limits import Limits
from .rest import DropResponse, Rest, _rand
from .ws import StreamHub

NONE, APIKEY, SIGNED = "NONE", "USER_STREAM", "SIGNED"

Handler = Callable[[web.Request, dict[str, str], str | None], Awaitable[Any]]


class BinanceSkin(Rest):
    """The skin: route table with weights, request parsing and the auth gate around the handlers."""

    venue = "binance"

    def __init__(self, *, seed: int = 1, tick_interval: float = 1.0, ping_interval: float = 20.0,
                 ban_seconds: int = 120) -> None:
        rng = random.Random(f"binance-keys-{seed}")
        self.faults = Faults()
        self.exchange = Exchange(faults=self.faults)
        self.liquidity = Liquidity(self.exchange, seed=seed)
        self.tick_interval = tick_interval
        self.limits = Limits(self.faults, ban_seconds=ban_seconds)
        self.ids: dict[str, str] = {s.replace("/", ""): s for s in self.exchange.specs}
        self.names: dict[str, str] = {v: k for k, v in self.ids.items()}
        self.api_key = _rand(rng, 64)
        self.secret = _rand(rng, 64)
        self.ed25519_api_key = _rand(rng, 64)
        self._ed_private = Ed25519PrivateKey.from_private_bytes(bytes(rng.getrandbits(8) for _ in range(32)))
        self.ed25519_private_key_pem = self._ed_private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()).decode()
        acct = Exchange.TEST_ACCOUNT
        self.keys: dict[str, ApiKey] = {
            self.api_key: ApiKey(self.api_key, acct, "HMAC", secret=self.secret),
            self.ed25519_api_key: ApiKey(self.ed25519_api_key, acct, "ED25519",
                                         public_key=self._ed_private.public_key()),
        }
        self._key_rng = random.Random(f"binance-listen-{seed}")
        self.listen_keys: dict[str, str] = {}
        self.stopping = asyncio.Event()
        self.hub = StreamHub(self, ping_interval=ping_interval)
        self.routes: dict[tuple[str, str], tuple[Handler, str, Any]] = {}
        self._register()
        body = json.dumps({"code": -1001, "msg": "Internal error; unable to process your request. "
                           "Please try again."}).encode()
        self.app = web.Application(middlewares=[make_fault_middleware(self.faults, body, "application/json")])
        self.hub.add_routes(self.app)
        self.app.router.add_route("*", "/api/{tail:.*}", self.dispatch)

    # --------------------------------------------------------------- plumbing
    def venue_sim(self) -> VenueSim:
        vs = VenueSim("binance", self.app, self.exchange, self.faults, self.liquidity,
                      self.api_key, self.secret, self.ed25519_api_key, self.ed25519_private_key_pem,
                      "", resolve_symbol=self.resolve_symbol)
        vs.reset_hooks.append(self._reset)
        vs.start_hooks.append(self._start)
        vs.stop_hooks.append(self._stop)
        return vs

    def resolve_symbol(self, s: str) -> str:
        if s in self.exchange.specs:
            return s
        return self.ids.get(s.upper().replace("/", "").replace("-", ""), s)

    def _reset(self) -> None:
        self.limits.reset()
        self.listen_keys.clear()

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
        r[("GET", "/api/v3/ping")] = (self.ping, NONE, 1)
        r[("GET", "/api/v3/time")] = (self.time, NONE, 1)
        r[("GET", "/api/v3/exchangeInfo")] = (self.exchange_info, NONE, 20)
        r[("GET", "/api/v3/depth")] = (self.depth, NONE, self._depth_weight)
        r[("GET", "/api/v3/ticker/bookTicker")] = (self.book_ticker, NONE,
                                                    lambda p: 2 if "symbol" in p else 4)
        r[("GET", "/api/v3/ticker/price")] = (self.ticker_price, NONE, lambda p: 2 if "symbol" in p else 4)
        r[("POST", "/api/v3/order")] = (self.new_order, SIGNED, 1)
        r[("POST", "/api/v3/order/test")] = (self.test_order, SIGNED, 1)
        r[("GET", "/api/v3/order")] = (self.query_order, SIGNED, 4)
        r[("DELETE", "/api/v3/order")] = (self.cancel_order, SIGNED, 1)
        r[("GET", "/api/v3/openOrders")] = (self.open_orders, SIGNED, lambda p: 6 if "symbol" in p else 80)
        r[("DELETE", "/api/v3/openOrders")] = (self.cancel_open_orders, SIGNED, 1)
        r[("GET", "/api/v3/allOrders")] = (self.all_orders, SIGNED, 20)
        r[("GET", "/api/v3/account")] = (self.account, SIGNED, 20)
        r[("GET", "/api/v3/myTrades")] = (self.my_trades, SIGNED, lambda p: 5 if "orderId" in p else 20)
        r[("GET", "/api/v3/rateLimit/order")] = (self.rate_limit_order, SIGNED, 40)
        for m in ("POST", "PUT", "DELETE"):
            r[(m, "/api/v3/userDataStream")] = (self.user_data_stream, APIKEY, 2)

    @staticmethod
    def _depth_weight(p: dict[str, str]) -> int:
        try:
            limit = int(p.get("limit", "100"))
        except ValueError:
            limit = 100
        return 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        route = self.routes.get((request.method, request.path))
        if route is None:
            return web.json_response({"code": -5000, "msg": f"Path {request.path}, Method "
                                      f"{request.method} is invalid"}, status=404)
        handler, security, weight = route
        raw_query = request.rel_url.raw_query_string
        raw_body = (await request.read()).decode("utf-8", "replace") if request.can_read_body else ""
        params: dict[str, str] = dict(parse_qsl(raw_body, keep_blank_values=True))
        params.update(parse_qsl(raw_query, keep_blank_values=True))  # query wins
        headers: dict[str, str] = {}
        try:
            self.limits.charge(weight(params) if callable(weight) else weight)
            account: str | None = None
            if security == SIGNED:
                account = self.authenticate(request, raw_query, raw_body, params)
            elif security == APIKEY:
                account = self.key_account(request).account
            result = await handler(request, params, account)
            if isinstance(result, tuple):
                result, headers = result
            status = 200
            body: Any = result
        except DropResponse as d:
            if d.mode == "hang":
                await self.stopping.wait()
            return abort_connection(request)
        except BinanceError as e:
            status, body, headers = e.status, e.body(), dict(e.headers)
        headers["X-MBX-USED-WEIGHT-1M"] = str(self.limits.used_weight())
        return web.Response(status=status, body=json.dumps(body, separators=(",", ":")),
                            content_type="application/json", headers=headers)

    # ---------------------------------------------------------------- auth
    def key_account(self, request: web.Request) -> ApiKey:
        key = request.headers.get("X-MBX-APIKEY", "")
        if not KEY_RE.match(key):
            raise errors.bad_key_format()
        found = self.keys.get(key)
        if found is None:
            raise errors.rejected_key()
        return found

    def authenticate(self, request: web.Request, raw_query: str, raw_body: str,
                     params: dict[str, str]) -> str:
        key = self.key_account(request)
        ts_raw = params.get("timestamp", "")
        if not ts_raw.isdigit():
            raise errors.mandatory("timestamp")
        ts = int(ts_raw)
        if ts > 10**14:  # microseconds
            ts //= 1000
        try:
            recv = Decimal(params.get("recvWindow", "5000"))
        except InvalidOperation:
            raise errors.illegal("recvWindow", "0-60000") from None
        if recv > 60000 or recv < 0:
            raise BinanceError(-1131, "recvWindow must be less than 60000")
        now = self.exchange.time_ms()
        if ts >= now + 1000:
            raise errors.bad_timestamp(True)
        if now - ts > recv:
            raise errors.bad_timestamp(False)
        payload, sig = signed_payload(raw_query, raw_body)
        if not sig:
            raise errors.mandatory("signature")
        if not verify(key, payload, sig):
            raise errors.bad_signature()
        return key.account


def ed25519_sign(private_key_pem: str, payload: str) -> str:
    """Base64 Ed25519 signature (helper for tests and clients of the sim)."""
    key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    return base64.b64encode(key.sign(payload.encode())).decode()


def build(*, seed: int = 1, **options: Any) -> VenueSim:
    return BinanceSkin(seed=seed, **options).venue_sim()
