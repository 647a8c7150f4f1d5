"""``/0/public/*`` and ``/0/private/*`` handlers over the shared matching core: ``(params) ->
result``; routing, body parsing and the key/nonce gate are in ``app.py``."""


from __future__ import annotations

import re
import secrets
import time
from datetime import datetime
from decimal import Decimal, InvalidOperation
from email.utils import formatdate
from typing import Any

from ..core.exchange import Exchange
from ..core.faults import Faults
from ..core.models import (
    BUY,
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
from . import errors
from .auth import KeyStore
from .errors import KrakenError, invalid_argument
from .limits import Limits, cancel_cost
from .state import ZERO, KrakenState
from .wire import fmt

MAKER_FEE = Decimal("0.0016")
TAKER_FEE = Decimal("0.0026")
PAGE = 50
_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_HEX32_RE = re.compile(r"^[0-9a-fA-F]{32}$")
_FREE_RE = re.compile(r"^[\x20-\x7e]{1,18}$")
_RFC3339_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d)$")
#: how far ahead of now (ms) AddOrder's ``deadline`` must lie (docs: min now() + 2 seconds,
#: max now() + 60 seconds); one that has already passed is "elapsed" instead
DEADLINE_MIN_AHEAD_MS = 2000
DEADLINE_MAX_AHEAD_MS = 60000


def valid_cl_ord_id(value: str) -> bool:
    return bool(_UUID_RE.match(value) or _HEX32_RE.match(value) or _FREE_RE.match(value))


def truthy(value: str | None) -> bool:
    return value is not None and value.lower() in ("true", "1", "yes")


class Handlers:
    """The public and private methods; the skin's ``RestApi`` supplies the state below."""

    ex: Exchange
    faults: Faults
    st: KrakenState
    keys: KeyStore
    limits: Limits

    # ------------------------------------------------------------ public
    def time_(self, _: dict[str, str]) -> dict[str, Any]:
        now = self.ex.time_ms() / 1000
        return {"unixtime": int(now), "rfc1123": formatdate(now, usegmt=True)}

    def system_status(self, _: dict[str, str]) -> dict[str, Any]:
        ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.ex.time_ms() / 1000))
        return {"status": "online", "timestamp": ts}

    def assets(self, params: dict[str, str]) -> dict[str, Any]:
        wanted = set(params["asset"].split(",")) if params.get("asset") else None
        out = {}
        for a in self.st.assets.values():
            if wanted is None or a.code in wanted or a.altname in wanted:
                out[a.code] = {"aclass": "currency", "altname": a.altname, "decimals": a.decimals,
                               "display_decimals": a.display_decimals, "status": "enabled"}
        if not out:
            raise KrakenError("EQuery:Unknown asset")
        return out

    def asset_pairs(self, params: dict[str, str]) -> dict[str, Any]:
        pairs = ([self.st.pair(n) for n in params["pair"].split(",")] if params.get("pair")
                 else list(self.st.pairs.values()))
        out = {}
        for p in pairs:
            spec = self.ex.specs[p.symbol]
            out[p.key] = {
                "altname": p.altname, "wsname": p.wsname, "aclass_base": "currency",
                "base": p.base.code, "aclass_quote": "currency", "quote": p.quote.code,
                "lot": "unit", "cost_decimals": p.cost_decimals, "pair_decimals": p.pair_decimals,
                "lot_decimals": p.lot_decimals, "lot_multiplier": 1, "leverage_buy": [],
                "leverage_sell": [],
                "fees": [[0, float(TAKER_FEE * 100)], [50000, 0.24], [100000, 0.22]],
                "fees_maker": [[0, float(MAKER_FEE * 100)], [50000, 0.14], [100000, 0.12]],
                "fee_volume_currency": "ZUSD", "margin_call": 80, "margin_stop": 40,
                "ordermin": f"{spec.min_qty:f}", "costmin": f"{spec.min_notional:f}",
                "tick_size": f"{spec.tick:f}", "status": "online",
            }
        return out

    def depth(self, params: dict[str, str]) -> dict[str, Any]:
        p = self.st.pair(params.get("pair"))
        try:
            count = int(params.get("count", "100"))
        except ValueError:
            raise invalid_argument("count") from None
        count = max(1, min(count, 500))
        _, bids, asks = self.ex.depth(p.symbol, count)
        ts = int(self.ex.time_ms() / 1000)

        def lv(levels: list[tuple[Decimal, Decimal]]) -> list[list[Any]]:
            return [[fmt(px, p.pair_decimals), fmt(q, p.lot_decimals), ts] for px, q in levels]

        return {p.key: {"asks": lv(asks), "bids": lv(bids)}}

    def ticker(self, params: dict[str, str]) -> dict[str, Any]:
        pairs = ([self.st.pair(n) for n in params["pair"].split(",")] if params.get("pair")
                 else list(self.st.pairs.values()))
        out = {}
        for p in pairs:
            bid, ask = self.ex.best_bid_ask(p.symbol)
            b = bid or (ZERO, ZERO)
            a = ask or (ZERO, ZERO)
            last = [f for f in self.ex.fills if f.symbol == p.symbol][-1:]
            lp = last[0].price if last else (b[0] + a[0]) / 2
            px = fmt(lp, p.pair_decimals)
            out[p.key] = {
                "a": [fmt(a[0], p.pair_decimals), "1", fmt(a[1], p.lot_decimals)],
                "b": [fmt(b[0], p.pair_decimals), "1", fmt(b[1], p.lot_decimals)],
                "c": [px, "0"], "v": ["0", "0"], "p": [px, px], "t": [0, 0],
                "l": [px, px], "h": [px, px], "o": px,
            }
        return out

    # ------------------------------------------------------------ private
    def _account(self) -> dict[str, tuple[Decimal, Decimal]]:
        return self.ex.account().snapshot()

    def balance(self, _: dict[str, str]) -> dict[str, Any]:
        out = {}
        for canon, (free, locked) in self._account().items():
            a = self.st.asset_of.get(canon)
            if a is not None:
                out[a.code] = amount(free + locked, a.decimals)
        return out

    def balance_ex(self, _: dict[str, str]) -> dict[str, Any]:
        out = {}
        for canon, (free, locked) in self._account().items():
            a = self.st.asset_of.get(canon)
            if a is not None:
                out[a.code] = {"balance": amount(free + locked, a.decimals),
                               "hold_trade": amount(locked, a.decimals)}
        return out

    def add_order(self, q: dict[str, str]) -> dict[str, Any]:
        if "deadline" in q:  # checked on arrival, before anything else: no order then
            self._check_deadline(q["deadline"])
        p = self.st.pair(q.get("pair"))
        spec = self.ex.specs[p.symbol]
        side = {"buy": BUY, "sell": SELL}.get(q.get("type", ""))
        if side is None:
            raise invalid_argument("type")
        ordertype = q.get("ordertype", "")
        if ordertype not in ("limit", "market"):
            raise invalid_argument("ordertype")
        flags = {f for f in q.get("oflags", "").split(",") if f}
        if flags - {"post", "fcib", "fciq", "nompp", "viqc"}:
            raise invalid_argument("oflags")
        tif = q.get("timeinforce", "GTC").upper()
        if tif not in ("GTC", "IOC"):
            raise invalid_argument("timeinforce")
        vol = _decimal(q.get("volume"), "volume")
        price: Decimal | None = None
        if ordertype == "limit":
            price = _decimal(q.get("price"), "price")
            if price <= 0:
                raise invalid_argument("price")
            if price % spec.tick != 0:
                raise KrakenError(f"{errors.INVALID_PRICE}:{p.altname} price can only be specified "
                                  f"up to {p.pair_decimals} decimals.")
        elif "post" in flags:
            raise invalid_argument("oflags")
        if vol <= 0:
            raise invalid_argument("volume")
        viqc = "viqc" in flags
        if not viqc:
            if vol % spec.step != 0:
                raise invalid_argument("volume")
            if vol < spec.min_qty:
                raise KrakenError(errors.ORDER_MINIMUM)
            if price is not None and price * vol < spec.min_notional:
                raise KrakenError(errors.COST_MINIMUM)
        cl = q.get("cl_ord_id")
        uref_raw = q.get("userref")
        if cl is not None and uref_raw is not None:
            raise invalid_argument("cl_ord_id")
        if cl is not None and not valid_cl_ord_id(cl):
            raise invalid_argument("cl_ord_id")
        userref: int | None = None
        if uref_raw is not None:
            try:
                userref = int(uref_raw)
            except ValueError:
                raise invalid_argument("userref") from None
            if not -(2**31) <= userref < 2**31:
                raise invalid_argument("userref")
        core_type = MARKET if ordertype == "market" else (LIMIT_MAKER if "post" in flags else LIMIT)
        core_tif = IOC if tif == "IOC" else GTC
        validate = truthy(q.get("validate"))
        self.limits.charge_trade(p.symbol, 1)
        client_id = cl if cl is not None else f"~{secrets.token_hex(12)}"  # never a valid cl_ord_id
        if not validate:
            self.st.tags[client_id] = (cl, userref, "post" in flags)
        try:
            order = self.ex.place_order(
                symbol=p.symbol, side=side, type=core_type, tif=core_tif, price=price,
                qty=None if viqc else vol, quote_qty=vol if viqc else None, client_id=client_id,
                test=validate)
        except Rejection as r:
            self.st.tags.pop(client_id, None)
            raise _rejection(r) from None
        lot = p.lot_decimals
        desc = f"{q['type']} {fmt(vol, lot)} {p.altname} @ {ordertype}" + (
            f" {fmt(price, p.pair_decimals)}" if price is not None else "")
        if validate:
            return {"descr": {"order": desc}}
        self.st.adopt(order)
        return {"descr": {"order": desc}, "txid": [self.st.txid(order.order_id)]}

    def _check_deadline(self, raw: str) -> None:
        """The request dies if its deadline passed before it arrived (latency, queueing);
        one not in [now + 2 s, now + 60 s] is an invalid argument."""
        at = _deadline_ms(raw)
        now = self.ex.time_ms()
        if at < now:
            raise KrakenError(errors.DEADLINE_ELAPSED)
        if not DEADLINE_MIN_AHEAD_MS <= at - now <= DEADLINE_MAX_AHEAD_MS:
            raise invalid_argument("deadline")

    def _find(self, q: dict[str, str]) -> list[Order]:
        """Orders named by ``txid`` (id or userref) or ``cl_ord_id``."""
        acc = Exchange.TEST_ACCOUNT
        cl, txid = q.get("cl_ord_id"), q.get("txid")
        if (cl is None) == (txid is None):
            raise invalid_argument("txid")
        if cl is not None:
            try:
                oid = self.ex.find_order(acc, None, client_id=cl).order_id
            except UnknownOrder:
                raise KrakenError(errors.UNKNOWN_ORDER) from None
            if self.st.cl_ord_id.get(oid) != cl:
                raise KrakenError(errors.UNKNOWN_ORDER)
            return [self.ex.orders[oid]]
        assert txid is not None
        if txid.lstrip("-").isdigit():  # a userref: every order carrying it
            ref = int(txid)
            found = [self.ex.orders[o] for o, r in self.st.userref.items() if r == ref]
            if not found:
                raise KrakenError(errors.UNKNOWN_ORDER)
            return found
        oid2 = self.st.order_of.get(txid)
        if oid2 is None or oid2 not in self.ex.orders:
            raise KrakenError(errors.UNKNOWN_ORDER)
        return [self.ex.orders[oid2]]

    def cancel_order(self, q: dict[str, str]) -> dict[str, Any]:
        orders = [o for o in self._find(q) if o.is_open]
        if not orders:
            raise KrakenError(errors.UNKNOWN_ORDER)
        now = self.ex.time_ms()
        for o in orders:
            self.limits.charge_trade(o.symbol, cancel_cost((now - o.created) / 1000))
        for o in orders:
            self.ex.cancel_order(o.account, None, order_id=o.order_id)
        return {"count": len(orders), "pending": False}

    def cancel_all(self, _: dict[str, str]) -> dict[str, Any]:
        return {"count": len(self.ex.cancel_all(Exchange.TEST_ACCOUNT))}

    def query_orders(self, q: dict[str, str]) -> dict[str, Any]:
        with_trades = truthy(q.get("trades"))
        out: dict[str, Any] = {}
        if q.get("userref") and not q.get("txid"):
            ref = _int(q["userref"], "userref")
            for oid, r in self.st.userref.items():
                if r == ref:
                    out[self.st.txid(oid)] = self.st.order_info(self.ex.orders[oid], with_trades)
            return out
        ids = [t for t in q.get("txid", "").split(",") if t]
        if not ids or len(ids) > 50:
            raise invalid_argument("txid")
        for t in ids:
            known = self.st.order_of.get(t)
            if known is None or known not in self.ex.orders:
                raise KrakenError(errors.UNKNOWN_ORDER)
            out[t] = self.st.order_info(self.ex.orders[known], with_trades)
        return out

    def _filtered(self, q: dict[str, str], open_: bool) -> list[Order]:
        cl = q.get("cl_ord_id")
        ref = _int(q["userref"], "userref") if q.get("userref") else None
        orders = [o for o in self.ex.user_orders() if o.is_open == open_]
        if cl is not None:
            orders = [o for o in orders if self.st.cl_ord_id.get(o.order_id) == cl]
        if ref is not None:
            orders = [o for o in orders if self.st.userref.get(o.order_id) == ref]
        return orders

    def open_orders(self, q: dict[str, str]) -> dict[str, Any]:
        wt = truthy(q.get("trades"))
        return {"open": {self.st.txid(o.order_id): self.st.order_info(o, wt)
                         for o in self._filtered(q, True)}}

    def closed_orders(self, q: dict[str, str]) -> dict[str, Any]:
        wt = truthy(q.get("trades"))
        orders = sorted(self._filtered(q, False), key=lambda o: o.updated, reverse=True)
        ofs = _int(q.get("ofs", "0"), "ofs")
        page = orders[ofs:ofs + PAGE]
        return {"closed": {self.st.txid(o.order_id): self.st.order_info(o, wt) for o in page},
                "count": len(orders)}

    def trades_history(self, q: dict[str, str]) -> dict[str, Any]:
        fills = sorted(self.ex.user_fills(), key=lambda f: (f.time, f.trade_id), reverse=True)
        start = q.get("start")
        end = q.get("end")
        if start:
            fills = [f for f in fills if f.time / 1000 > float(start)]
        if end:
            fills = [f for f in fills if f.time / 1000 <= float(end)]
        ofs = _int(q.get("ofs", "0"), "ofs")
        page = fills[ofs:ofs + PAGE]
        return {"trades": {self.st.trade_txid(f.trade_id): self.st.trade_info(f) for f in page},
                "count": len(fills)}

    def query_trades(self, q: dict[str, str]) -> dict[str, Any]:
        ids = [t for t in q.get("txid", "").split(",") if t]
        if not ids or len(ids) > 20:
            raise invalid_argument("txid")
        by_id = {f.trade_id: f for f in self.ex.user_fills()}
        out = {}
        for t in ids:
            tid = self.st.trade_of.get(t)
            if tid is None or tid not in by_id:
                raise invalid_argument("txid")
            out[t] = self.st.trade_info(by_id[tid])
        return out

    def ws_token(self, _: dict[str, str]) -> dict[str, Any]:
        token = secrets.token_urlsafe(24)
        self.st.ws_tokens.add(token)
        return {"token": token, "expires": 900}


def amount(value: Decimal, places: int) -> str:
    """The asset's display precision, unless that would hide part of the exact balance
    (the core settles fills to the full precision of qty x price)."""
    s = fmt(value, places)
    return s if Decimal(s) == value else f"{value.normalize():f}"


def _deadline_ms(raw: str) -> int:
    """An RFC3339 timestamp (``2021-04-01T00:18:45Z``, fractions allowed) as Unix ms."""
    text = raw.strip()
    if not _RFC3339_RE.match(text):
        raise invalid_argument("deadline")
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise invalid_argument("deadline") from None
    return int(at.timestamp() * 1000)


def _decimal(raw: str | None, name: str) -> Decimal:
    if raw is None or raw == "":
        raise invalid_argument(name)
    try:
        v = Decimal(raw)
    except InvalidOperation:
        raise invalid_argument(name) from None
    if not v.is_finite():
        raise invalid_argument(name)
    return v


def _int(raw: str, name: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise invalid_argument(name) from None


def _rejection(r: Rejection) -> KrakenError:
    if r.reason == "insufficient_balance":
        return KrakenError(errors.INSUFFICIENT_FUNDS)
    if r.reason == "would_take":
        return KrakenError(errors.POST_ONLY)
    if r.reason == "duplicate_client_id":
        return KrakenError(errors.DUPLICATE_ORDER)
    if r.reason == "unknown_symbol":
        return KrakenError(errors.UNKNOWN_PAIR)
    if r.reason == "filter":
        if r.detail == "PRICE_FILTER":
            return KrakenError(errors.INVALID_PRICE)
        if r.detail == "NOTIONAL":
            return KrakenError(errors.COST_MINIMUM)
        return KrakenError(errors.ORDER_MINIMUM)
    return invalid_argument(r.detail or "order")
