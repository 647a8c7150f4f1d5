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
import re
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web

from ..context import VenueSim
from ..core.exchange import Exchange
from ..core.faults import Faults
from ..core.liquidity import Liquidity
from ..core.models import (
    BUY,
    CANCELED,
    FOK,
    GTC,
    IOC,
    LIMIT,
    LIMIT_MAKER,
    MARKET,
    SELL,
    Order,
    Rejection,
    UnknownOrder,
)
from ..faultware import abort_connection, make_fault_middleware
from . import errors
from .auth import AuthFailure, CdpKey, new_ed25519_key, new_es256_key, verify_jwt
from .errors import CoinbaseError
from .funds import CRYPTO_NAMES, FIAT, FundsRoutes
from .limits import Limits
from .streams import StreamHub
from .wire import fmt, iso, status_of

PREFIX = "/api/v3/brokerage"
DEC_RE = re.compile(r"^[0-9]{1,20}(\.[0-9]{1,20})?$")
CLIENT_ID_MAX = 128

CONFIG_TIF = {"limit_limit_gtc": "GOOD_UNTIL_CANCELLED", "limit_limit_fok": "FILL_OR_KILL",
              "sor_limit_ioc": "IMMEDIATE_OR_CANCEL", "market_market_ioc": "IMMEDIATE_OR_CANCEL"}


class DropResponse(Exception):
    def __init__(self, mode: str) -> None:
        super().__init__(mode)
        self.mode = mode


Handler = Callable[[web.Request, dict[str, Any], str | None], Awaitable[Any]]


class CoinbaseSkin(FundsRoutes):
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

    def order_uuid(self, oid: int) -> str:
        u = self.uuids.get(oid)
        if u is None:
            u = str(uuid.UUID(int=self._id_rng.getrandbits(128), version=4))
            self.uuids[oid] = u
            self.by_uuid[u] = oid
        return u

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

    # ---------------------------------------------------------------- views
    def product_json(self, pid: str) -> dict[str, Any]:
        sym = self.ids[pid]
        spec = self.exchange.specs[sym]
        mid = self.liquidity.mids.get(sym, spec.initial_mid)
        return {
            "product_id": pid, "price": fmt(mid), "price_percentage_change_24h": "0",
            "volume_24h": "0", "volume_percentage_change_24h": "0",
            "base_increment": fmt(spec.step), "quote_increment": fmt(spec.tick),
            "quote_min_size": fmt(spec.min_notional), "quote_max_size": fmt(spec.max_notional),
            "base_min_size": fmt(spec.min_qty), "base_max_size": fmt(spec.max_qty),
            "base_name": CRYPTO_NAMES.get(spec.base, spec.base),
            "quote_name": FIAT.get(spec.quote, CRYPTO_NAMES.get(spec.quote, spec.quote)),
            "watched": False, "is_disabled": False, "new": False, "status": "online",
            "cancel_only": False, "limit_only": False, "post_only": False,
            "trading_disabled": False, "auction_mode": False, "product_type": "SPOT",
            "quote_currency_id": spec.quote, "base_currency_id": spec.base,
            "fcm_trading_session_details": None, "mid_market_price": "", "alias": "",
            "alias_to": [], "base_display_symbol": spec.base, "quote_display_symbol": spec.quote,
            "view_only": False, "price_increment": fmt(spec.tick), "display_name": pid,
            "product_venue": "CBE",
        }

    def order_json(self, o: Order) -> dict[str, Any]:
        kind, conf = self.configs.get(o.order_id, ("", {}))
        filled, value = o.filled, o.cum_quote
        tif = CONFIG_TIF.get(kind, "GOOD_UNTIL_CANCELLED")
        completion = Decimal(0)
        if o.qty:
            completion = filled / o.qty * 100
        elif o.quote_qty:
            completion = value / o.quote_qty * 100
        hold = o.locked
        fees = sum((f.fee for f in o.fills), Decimal(0))
        status = status_of(o)
        return {
            "order_id": self.order_uuid(o.order_id), "product_id": self.names[o.symbol],
            "user_id": self.user_id, "order_configuration": {kind: conf} if kind else {},
            "side": o.side, "client_order_id": o.client_id, "status": status,
            "time_in_force": tif, "created_time": iso(o.created),
            "completion_percentage": f"{completion:.2f}", "filled_size": fmt(filled),
            "average_filled_price": fmt(value / filled) if filled else "0", "fee": "",
            "number_of_fills": str(len(o.fills)), "filled_value": fmt(value),
            "pending_cancel": False, "size_in_quote": o.qty is None,
            "total_fees": fmt(fees), "size_inclusive_of_fees": False,
            "total_value_after_fees": fmt(value + fees if o.side == BUY else value - fees),
            "trigger_status": "INVALID_ORDER_TYPE",
            "order_type": "MARKET" if o.type == MARKET else "LIMIT",
            "reject_reason": "REJECT_REASON_UNSPECIFIED", "settled": not o.is_open,
            "product_type": "SPOT", "reject_message": "",
            "cancel_message": "User requested cancel" if o.status == CANCELED else "",
            "order_placement_source": "RETAIL_ADVANCED", "outstanding_hold_amount": fmt(hold),
            "is_liquidation": False,
            "last_fill_time": iso(o.fills[-1].time) if o.fills else None,
            "edit_history": [], "leverage": "", "margin_type": "UNKNOWN_MARGIN_TYPE",
            "retail_portfolio_id": self.portfolio_id,
        }

    def fill_json(self, f: Any) -> dict[str, Any]:
        return {
            "entry_id": f"{self._epoch}-{f.trade_id}-{f.order_id}",
            "trade_id": f"{self._epoch}-{f.trade_id}",
            "order_id": self.order_uuid(f.order_id), "trade_time": iso(f.time),
            "trade_type": "FILL", "price": fmt(f.price), "size": fmt(f.qty),
            "commission": fmt(f.fee), "product_id": self.names[f.symbol],
            "sequence_timestamp": iso(f.time),
            "liquidity_indicator": "MAKER" if f.is_maker else "TAKER",
            "size_in_quote": False, "user_id": self.user_id, "side": f.side,
            "retail_portfolio_id": self.portfolio_id,
        }

    # ------------------------------------------------------------- helpers
    def product_id(self, value: Any) -> str:
        if not isinstance(value, str) or value not in self.ids:
            raise errors.not_found("ProductID is invalid") if value else errors.invalid_argument(
                "product_id is required")
        return value

    @staticmethod
    def _many(params: dict[str, Any], *names: str) -> list[str]:
        out: list[str] = []
        for n in names:
            for v in params.get(n, []) or []:
                out.extend(x for x in str(v).split(",") if x)
        return out

    # ------------------------------------------------------------ endpoints
    async def time(self, request: web.Request, p: dict[str, Any], a: str | None) -> Any:
        ms = self.exchange.time_ms()
        return {"iso": iso(ms), "epochSeconds": str(ms // 1000), "epochMillis": str(ms)}

    async def products(self, request: web.Request, p: dict[str, Any], a: str | None) -> Any:
        ptype = (self._first(p, "product_type") or "SPOT").upper()
        wanted = self._many(p, "product_ids")
        pids = [pid for pid in self.ids if not wanted or pid in wanted] if ptype == "SPOT" else []
        offset = int(self._first(p, "offset") or 0)
        limit = self._limit(p, len(pids) or 1, 10_000)
        page = pids[offset:offset + limit]
        return {"products": [self.product_json(pid) for pid in page], "num_products": len(pids)}

    async def product(self, request: web.Request, p: dict[str, Any], a: str | None) -> Any:
        return self.product_json(self.product_id(p["id"]))

    async def product_book(self, request: web.Request, p: dict[str, Any], a: str | None) -> Any:
        pid = self.product_id(self._first(p, "product_id"))
        sym = self.ids[pid]
        limit = self._limit(p, 50, 500)
        _, bids, asks = self.exchange.depth(sym, limit)
        ms = self.exchange.time_ms()
        book: dict[str, Any] = {
            "product_id": pid,
            "bids": [{"price": fmt(px), "size": fmt(q)} for px, q in bids],
            "asks": [{"price": fmt(px), "size": fmt(q)} for px, q in asks],
            "time": iso(ms),
        }
        out: dict[str, Any] = {"pricebook": book}
        if bids and asks:
            mid = (bids[0][0] + asks[0][0]) / 2
            spread = asks[0][0] - bids[0][0]
            out.update({"last": fmt(self.liquidity.mids.get(sym, mid)), "mid_market": fmt(mid),
                        "spread_bps": fmt((spread / mid * 10000).quantize(Decimal("0.0001"))),
                        "spread_absolute": fmt(spread)})
        return out

    async def best_bid_ask(self, request: web.Request, p: dict[str, Any], a: str | None) -> Any:
        pids = self._many(p, "product_ids") or list(self.ids)
        out = []
        for pid in pids:
            self.product_id(pid)
            b, k = self.exchange.best_bid_ask(self.ids[pid])
            out.append({"product_id": pid, "time": iso(self.exchange.time_ms()),
                        "bids": [{"price": fmt(b[0]), "size": fmt(b[1])}] if b else [],
                        "asks": [{"price": fmt(k[0]), "size": fmt(k[1])}] if k else []})
        return {"pricebooks": out}

    @staticmethod
    def _dec(conf: dict[str, Any], name: str) -> Decimal | None:
        v = conf.get(name)
        if v is None or v == "":
            return None
        if not isinstance(v, str) or not DEC_RE.fullmatch(v):
            raise Rejection("bad_param", name)
        try:
            return Decimal(v)
        except InvalidOperation:
            raise Rejection("bad_param", name) from None

    def _order_args(self, body: dict[str, Any]) -> tuple[dict[str, Any], str, dict[str, Any]]:
        """Translate a create-order body; raises Rejection (-> 200 success:false)."""
        side = body.get("side")
        if side not in (BUY, SELL):
            raise Rejection("side")
        oc = body.get("order_configuration")
        if not isinstance(oc, dict) or len(oc) != 1:
            raise Rejection("unsupported")
        kind, conf = next(iter(oc.items()))
        if not isinstance(conf, dict):
            raise Rejection("unsupported")
        args: dict[str, Any] = {"side": side}
        if kind == "market_market_ioc":
            base, quote = self._dec(conf, "base_size"), self._dec(conf, "quote_size")
            if (base is None) == (quote is None):
                raise Rejection("bad_param", "base_size or quote_size")
            args.update(type=MARKET, qty=base, quote_qty=quote, tif=IOC)
        elif kind in ("limit_limit_gtc", "limit_limit_fok", "sor_limit_ioc"):
            qty, price = self._dec(conf, "base_size"), self._dec(conf, "limit_price")
            if qty is None:
                raise Rejection("bad_param", "base_size")
            if price is None:
                raise Rejection("bad_param", "limit_price")
            post_only = conf.get("post_only", False)
            if not isinstance(post_only, bool):
                raise Rejection("bad_param", "post_only")
            if kind == "limit_limit_gtc":
                args.update(type=LIMIT_MAKER if post_only else LIMIT, tif=GTC)
            elif post_only:
                raise Rejection("unsupported")
            else:
                args.update(type=LIMIT, tif=FOK if kind == "limit_limit_fok" else IOC)
            args.update(qty=qty, price=price)
        else:
            raise Rejection("unsupported")
        return args, kind, dict(conf)

    async def create_order(self, request: web.Request, p: dict[str, Any], a: str | None) -> Any:
        assert a is not None
        body = p["_body"]
        cid = body.get("client_order_id")
        if not isinstance(cid, str) or not cid:
            raise errors.invalid_argument("client_order_id is required")
        if len(cid) > CLIENT_ID_MAX:
            raise errors.invalid_argument("client_order_id is too long")
        pid = body.get("product_id")
        if not isinstance(pid, str) or pid not in self.ids:
            return errors.order_failure("unknown_symbol")
        self.limits.charge_order()
        sym = self.ids[pid]
        try:
            prior = self.exchange.find_order(a, None, client_id=cid)
        except UnknownOrder:
            prior = None
        if prior is not None:
            if self.duplicate_client_id == "reject":
                out = errors.order_failure("bad_param", "duplicate client_order_id")
                out["error_response"]["error"] = "INVALID_REQUEST"
                return out
            return self._success(prior, body)  # idempotent: the existing order
        try:
            args, kind, conf = self._order_args(body)
            order = self.exchange.place_order(account=a, symbol=sym, client_id=cid, **args)
        except Rejection as r:
            return errors.order_failure(r.reason, r.detail)
        self.configs[order.order_id] = (kind, conf)
        mode = self.faults.take_drop_response()
        if mode is not None:
            raise DropResponse(mode)
        return self._success(order, body)

    def _success(self, order: Order, body: dict[str, Any]) -> dict[str, Any]:
        kind, conf = self.configs.get(order.order_id, ("", {}))
        return {
            "success": True,
            "failure_reason": "UNKNOWN_FAILURE_REASON",
            "order_id": self.order_uuid(order.order_id),
            "success_response": {"order_id": self.order_uuid(order.order_id),
                                 "product_id": self.names[order.symbol], "side": order.side,
                                 "client_order_id": order.client_id},
            "order_configuration": {kind: conf} if kind else body.get("order_configuration", {}),
        }

    async def batch_cancel(self, request: web.Request, p: dict[str, Any], a: str | None) -> Any:
        assert a is not None
        ids = p["_body"].get("order_ids")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise errors.invalid_argument("order_ids must be a non-empty list of strings")
        if len(ids) > 100:
            raise errors.invalid_argument("at most 100 order_ids per request")
        results = []
        for vid in ids:
            oid = self.by_uuid.get(vid)
            order = self.exchange.orders.get(oid) if oid is not None else None
            if order is None or order.account != a:
                results.append({"success": False, "failure_reason": "UNKNOWN_CANCEL_ORDER",
                                "order_id": vid})
            elif not order.is_open:
                reason = ("DUPLICATE_CANCEL_REQUEST" if oid in self.cancel_requested
                          else "INVALID_CANCEL_REQUEST")
                results.append({"success": False, "failure_reason": reason, "order_id": vid})
            else:
                self.exchange.cancel_order(a, None, order_id=order.order_id)
                self.cancel_requested.add(order.order_id)
                results.append({"success": True, "failure_reason": "UNKNOWN_CANCEL_FAILURE_REASON",
                                "order_id": vid})
        mode = self.faults.take_drop_response()
        if mode is not None:
            raise DropResponse(mode)
        return {"results": results}

    async def get_order(self, request: web.Request, p: dict[str, Any], a: str | None) -> Any:
        oid = self.by_uuid.get(p["id"])
        order = self.exchange.orders.get(oid) if oid is not None else None
        if order is None or order.account != a:
            raise errors.not_found("order with this orderID was not found")
        return {"order": self.order_json(order)}

    async def list_orders(self, request: web.Request, p: dict[str, Any], a: str | None) -> Any:
        assert a is not None
        statuses = set(self._many(p, "order_status"))
        pids = set(self._many(p, "product_ids", "product_id"))
        for pid in pids:
            self.product_id(pid)
        orders = [o for o in self.exchange.user_orders(a)
                  if (not pids or self.names[o.symbol] in pids)]
        orders.sort(key=lambda o: o.order_id, reverse=True)  # newest first
        rows = [self.order_json(o) for o in orders]
        if statuses:
            rows = [r for r in rows if r["status"] in statuses]
        start, limit = self._cursor(p), self._limit(p, 100, 1000)
        page = rows[start:start + limit]
        more = start + limit < len(rows)
        return {"orders": page, "sequence": "0", "has_next": more,
                "cursor": str(start + limit) if more else ""}

    async def list_fills(self, request: web.Request, p: dict[str, Any], a: str | None) -> Any:
        assert a is not None
        vids = set(self._many(p, "order_ids", "order_id"))
        pids = set(self._many(p, "product_ids", "product_id"))
        tids = set(self._many(p, "trade_ids"))
        fills = [self.fill_json(f) for f in self.exchange.user_fills(a)]
        fills = [f for f in fills if (not vids or f["order_id"] in vids)
                 and (not pids or f["product_id"] in pids) and (not tids or f["trade_id"] in tids)]
        fills.reverse()  # newest first
        start, limit = self._cursor(p), self._limit(p, 100, 1000)
        page = fills[start:start + limit]
        more = start + limit < len(fills)
        return {"fills": page, "cursor": str(start + limit) if more else ""}


def build(*, seed: int = 1, **options: Any) -> VenueSim:
    return CoinbaseSkin(seed=seed, **options).venue_sim()
