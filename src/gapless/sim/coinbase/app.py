"""Coinbase Advanced Trade skin: REST ``/api/v3/brokerage`` + the ``/v2`` routes ccxt uses
(those and the balances live in ``funds.py``).

Wire facts follow the shared venue notes (§4): JWT bearer auth on every private request,
``order_configuration`` variants, HTTP 200 + ``success:false`` order rejects, UUID order
ids, ``CANCELLED`` with two Ls. Where the venue is undocumented the simulator picks one
behaviour and documents it in docs/venues/coinbase.md.
"""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from aiohttp import web

from ..context import VenueSim
from ..core.exchange import Exchange
from ..core.faults import Faults
from ..core.liquidity import Liquidity
from ..faultware import abort_connection, make_fault_middleware
from . import errors
from .auth import AuthFailure, CdpKey, new_ed25519_key, new_es256_key, verify_jwt
from .errors import CoinbaseError
from .limits import Limits
from .rest import DropResponse, Rest
from .ws import StreamHub

PREFIX = "/api/v3/brokerage"

Handler = Callable[[web.Request, dict[str, Any], str | None], Awaitable[Any]]


class CoinbaseSkin(Rest):
    """The skin: route table, request parsing and the JWT gate around the handlers."""

    venue = "coinbase"

    def __init__(self, *, seed: int = 1, tick_interval: float = 1.0,
                 heartbeat_interval: float = 1.0, subscribe_deadline: float = 5.0,
                 duplicate_client_id: str = "existing") -> None:
        if duplicate_client_id not in ("existing", "reject"):
            raise ValueError("duplicate_client_id must be 'existing' or 'reject'")
        rng = random.Random(f"coinbase-keys-{seed}")
        self.faults = Faults()
        # fees are charged by the venue in the quote currency; the shared core charges buy
        # fees in the base asset, so the skin runs fee-free rather than report wrong fees
        self.exchange = Exchange(faults=self.faults, maker_fee=Decimal(0), taker_fee=Decimal(0))
        self.liquidity = Liquidity(self.exchange, seed=seed)
        self.tick_interval = tick_interval
        self.duplicate_client_id = duplicate_client_id
        self.limits = Limits(self.faults)
        self.ids: dict[str, str] = {s.replace("/", "-"): s for s in self.exchange.specs}
        self.names: dict[str, str] = {v: k for k, v in self.ids.items()}
        acct = Exchange.TEST_ACCOUNT
        self.es_key: CdpKey = new_es256_key(acct, rng)
        self.ed_key: CdpKey = new_ed25519_key(acct, rng)
        self.keys: dict[str, CdpKey] = {self.es_key.name: self.es_key, self.ed_key.name: self.ed_key}
        self.user_id = str(uuid.UUID(int=rng.getrandbits(128)))
        self.portfolio_id = str(uuid.UUID(int=rng.getrandbits(128)))
        self._id_rng = random.Random(f"coinbase-ids-{seed}")
        self._epoch = 0
        self._reset_ids()
        self.stopping = asyncio.Event()
        self.hub = StreamHub(self, heartbeat_interval=heartbeat_interval,
                             subscribe_deadline=subscribe_deadline)
        self.routes: dict[tuple[str, str], tuple[Handler, bool, bool]] = {}
        self._register()
        body = json.dumps({"error": "UNAVAILABLE", "error_details": "service unavailable",
                           "message": "service unavailable"}).encode()
        self.app = web.Application(middlewares=[make_fault_middleware(self.faults, body, "application/json")])
        self.hub.add_routes(self.app)
        self.app.router.add_post("/__sim/coinbase/ws_sequence_gap", self._admin_seq_gap)
        self.app.router.add_route("*", "/api/v3/{tail:.*}", self.dispatch)
        self.app.router.add_route("*", "/v2/{tail:.*}", self.dispatch)

    # --------------------------------------------------------------- plumbing
    def venue_sim(self) -> VenueSim:
        vs = VenueSim("coinbase", self.app, self.exchange, self.faults, self.liquidity,
                      self.es_key.name, self.es_key.private_pem, self.ed_key.name,
                      self.ed_key.private_pem, "", resolve_symbol=self.resolve_symbol)
        vs.reset_hooks.append(self._reset)
        vs.start_hooks.append(self._start)
        vs.stop_hooks.append(self._stop)
        return vs

    def resolve_symbol(self, s: str) -> str:
        if s in self.exchange.specs:
            return s
        return self.ids.get(s.upper().replace("/", "-"), s)

    def _reset_ids(self) -> None:
        self._epoch += 1
        self.uuids: dict[int, str] = {}
        self.by_uuid: dict[str, int] = {}
        self.configs: dict[int, tuple[str, dict[str, Any]]] = {}
        self.cancel_requested: set[int] = set()

    def _reset(self) -> None:
        self.limits.reset()
        self._reset_ids()
        self.hub.on_reset()

    async def _start(self) -> None:
        self.liquidity.reset()
        self.liquidity.start(self.tick_interval)
        self.hub.start()

    async def _stop(self) -> None:
        self.stopping.set()
        await self.liquidity.stop()
        await self.hub.stop()

    async def _admin_seq_gap(self, request: web.Request) -> web.Response:
        """Test hook: the next WS message on every connection skips one ``sequence_num``."""
        self.hub.gap_next = True
        return web.json_response({"ok": True})

    def _register(self) -> None:
        r = self.routes
        p = PREFIX
        # (handler, private, mutating)
        r[("GET", f"{p}/time")] = (self.time, False, False)
        r[("GET", f"{p}/market/products")] = (self.products, False, False)
        r[("GET", f"{p}/products")] = (self.products, True, False)
        r[("GET", f"{p}/market/product_book")] = (self.product_book, False, False)
        r[("GET", f"{p}/product_book")] = (self.product_book, True, False)
        r[("GET", f"{p}/best_bid_ask")] = (self.best_bid_ask, True, False)
        r[("POST", f"{p}/orders")] = (self.create_order, True, True)
        r[("POST", f"{p}/orders/batch_cancel")] = (self.batch_cancel, True, True)
        r[("GET", f"{p}/orders/historical/batch")] = (self.list_orders, True, False)
        r[("GET", f"{p}/orders/historical/fills")] = (self.list_fills, True, False)
        r[("GET", f"{p}/accounts")] = (self.accounts, True, False)
        r[("GET", f"{p}/transaction_summary")] = (self.transaction_summary, True, False)
        r[("GET", "/v2/time")] = (self.v2_time, False, False)
        r[("GET", "/v2/currencies")] = (self.v2_currencies, False, False)
        r[("GET", "/v2/currencies/crypto")] = (self.v2_crypto, False, False)
        r[("GET", "/v2/exchange-rates")] = (self.v2_rates, False, False)
        r[("GET", "/v2/accounts")] = (self.v2_accounts, True, False)

    def _route(self, method: str, path: str) -> tuple[Handler, bool, bool, dict[str, str]] | None:
        hit = self.routes.get((method, path))
        if hit is not None:
            return (*hit, {})
        for prefix, handler in ((f"{PREFIX}/orders/historical/", self.get_order),
                                (f"{PREFIX}/market/products/", self.product),
                                (f"{PREFIX}/products/", self.product)):
            if method == "GET" and path.startswith(prefix) and "/" not in path[len(prefix):]:
                tail = path[len(prefix):]
                if tail:
                    return handler, "/market/" not in path, False, {"id": tail}
        return None

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        route = self._route(request.method, request.path)
        if route is None:
            return web.json_response({"error": "NOT_FOUND", "error_details": "Not Found",
                                      "message": "Not Found"}, status=404)
        handler, private, _mutating, path_params = route
        headers: dict[str, str] = {}
        try:
            account: str | None = None
            scope = request.remote or "ip"
            # the whole request is in before the token is judged, and nothing awaits between
            # that check and the handler: a request arriving after its ``exp`` never runs
            raw = await request.read() if request.method == "POST" and request.can_read_body else b""
            if private:
                key = self.authenticate(request)
                account, scope = key.account, key.name
            headers = self.limits.charge(scope, private)
            params: dict[str, Any] = {k: request.query.getall(k) for k in request.query}
            params.update(path_params)
            if request.method == "POST":
                params["_body"] = self._json_body(raw)
            result = await handler(request, params, account)
            status, body = 200, result
        except DropResponse as d:
            if d.mode == "hang":
                await self.stopping.wait()
            return abort_connection(request)
        except CoinbaseError as e:
            headers.update(e.headers)
            if e.text is not None:
                return web.Response(status=e.status, text=e.text, headers=headers)
            status, body = e.status, e.body()
        return web.Response(status=status, body=json.dumps(body, separators=(",", ":")),
                            content_type="application/json", headers=headers)

    @staticmethod
    def _json_body(raw: bytes) -> dict[str, Any]:
        if not raw:
            return {}
        try:
            data = json.loads(raw)
        except ValueError:
            raise errors.invalid_argument("request body is not valid JSON") from None
        if not isinstance(data, dict):
            raise errors.invalid_argument("request body must be a JSON object")
        return data

    def now_s(self) -> float:
        return self.exchange.time_ms() / 1000

    def authenticate(self, request: web.Request) -> CdpKey:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            raise errors.unauthorized()
        host = request.host
        uri = f"{request.method} {host}{request.path}"
        alt = (f"{request.method} http://{host}{request.path}",)
        try:
            return verify_jwt(auth[7:].strip(), self.keys, now=self.now_s(), uri=uri, alt_uris=alt,
                              loopback_any_port=True)
        except AuthFailure:
            raise errors.unauthorized() from None

    def ws_authenticate(self, token: str) -> CdpKey:
        return verify_jwt(token, self.keys, now=self.now_s(), uri=None)


def build(*, seed: int = 1, **options: Any) -> VenueSim:
    return CoinbaseSkin(seed=seed, **options).venue_sim()
