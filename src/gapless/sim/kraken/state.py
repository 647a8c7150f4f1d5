"""Skin state beside the matching core: Kraken-style txids, userrefs and cl_ord_ids, and
how core orders and fills look in Kraken's REST answers."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from ..core.exchange import Exchange
from ..core.models import BUY, CANCELED, FILLED, MARKET, Fill, Order
from . import errors
from .errors import KrakenError, invalid_argument
from .wire import PairInfo, fmt, make_txid, pair_info

ZERO = Decimal(0)


class KrakenState:
    """Skin state beside the core: txids, userrefs, which orders carry a ``cl_ord_id``."""

    def __init__(self, exchange: Exchange, salt: str) -> None:
        self.exchange = exchange
        self.salt = salt
        self.pairs: dict[str, PairInfo] = {s: pair_info(spec) for s, spec in exchange.specs.items()}
        self.by_name: dict[str, PairInfo] = {}
        for p in self.pairs.values():
            for name in (p.key, p.altname, p.wsname, p.symbol):
                self.by_name[name] = p
        self.assets = {a.code: a for p in self.pairs.values() for a in (p.base, p.quote)}
        self.asset_of = {canon: info for p in self.pairs.values()
                         for canon, info in ((p.symbol.split("/")[0], p.base),
                                             (p.symbol.split("/")[1], p.quote))}
        self.reset()

    def reset(self) -> None:
        self.txid_of: dict[int, str] = {}
        self.order_of: dict[str, int] = {}
        self.trade_txid_of: dict[int, str] = {}
        self.trade_of: dict[str, int] = {}
        self.userref: dict[int, int] = {}
        self.cl_ord_id: dict[int, str] = {}
        self.post_only: set[int] = set()
        self.tags: dict[str, tuple[str | None, int | None, bool]] = {}  # core client id -> tags
        self.ws_tokens: set[str] = set()
        self._anon = itertools.count(1)

    def adopt(self, o: Order) -> None:
        """Attach cl_ord_id/userref/post to an order the core emits before AddOrder returns."""
        tag = self.tags.pop(o.client_id, None)
        if tag is None:
            return
        cl, ref, post = tag
        if cl is not None:
            self.cl_ord_id[o.order_id] = cl
        if ref is not None:
            self.userref[o.order_id] = ref
        if post:
            self.post_only.add(o.order_id)

    def pair(self, name: str | None) -> PairInfo:
        if not name:
            raise invalid_argument("pair")
        p = self.by_name.get(name) or self.by_name.get(name.upper())
        if p is None:
            raise KrakenError(errors.UNKNOWN_PAIR)
        return p

    def txid(self, order_id: int) -> str:
        t = self.txid_of.get(order_id)
        if t is None:
            t = make_txid("O", order_id, self.salt)
            self.txid_of[order_id] = t
            self.order_of[t] = order_id
        return t

    def trade_txid(self, trade_id: int) -> str:
        t = self.trade_txid_of.get(trade_id)
        if t is None:
            t = make_txid("T", trade_id, self.salt)
            self.trade_txid_of[trade_id] = t
            self.trade_of[t] = trade_id
        return t

    # ------------------------------------------------------------- views
    def status(self, o: Order) -> str:
        if o.is_open:
            return "open"
        if o.status == FILLED:
            return "closed"
        return "canceled"  # CANCELED and EXPIRED (IOC / market remainders)

    @staticmethod
    def fee_flag(o: Order) -> str:
        """The core charges buys in base and sells in quote: reported as ``fcib``/``fciq``."""
        return "fcib" if o.side == BUY else "fciq"

    def order_info(self, o: Order, with_trades: bool) -> dict[str, Any]:
        p = self.pairs[o.symbol]
        lot, px, cost_d = p.lot_decimals, p.pair_decimals, p.cost_decimals
        side = "buy" if o.side == BUY else "sell"
        otype = "market" if o.type == MARKET else "limit"
        price = fmt(o.price, px) if o.price is not None and o.type != MARKET else fmt(ZERO, px)
        vol = o.qty if o.qty is not None else (o.quote_qty or ZERO)
        desc = f"{side} {fmt(vol, lot)} {p.altname} @ {otype}" + (f" {price}" if otype == "limit" else "")
        fee = sum((f.fee for f in o.fills), ZERO)
        flags = [self.fee_flag(o)]
        if o.order_id in self.post_only:
            flags.insert(0, "post")
        if o.qty is None:
            flags.append("viqc")
        info: dict[str, Any] = {
            "refid": None,
            "status": self.status(o),
            "reason": None if o.is_open or o.status == FILLED else (
                "User requested" if o.status == CANCELED else "Insufficient liquidity"),
            "opentm": o.created / 1000,
            "closetm": o.updated / 1000 if not o.is_open else 0,
            "starttm": 0,
            "expiretm": 0,
            "descr": {"pair": p.altname, "type": side, "ordertype": otype, "price": price,
                      "price2": fmt(ZERO, px), "leverage": "none", "order": desc, "close": ""},
            "vol": fmt(vol, lot),
            "vol_exec": fmt(o.filled, lot),
            "cost": fmt(o.cum_quote, cost_d),
            "fee": fmt(fee, lot if o.side == BUY else cost_d),
            "price": fmt(o.cum_quote / o.filled if o.filled else ZERO, px + 2),
            "stopprice": fmt(ZERO, px),
            "limitprice": fmt(ZERO, px),
            "misc": "",
            "oflags": ",".join(flags),
            "timeinforce": o.tif if o.type != MARKET else "IOC",
        }
        if o.order_id in self.userref:
            info["userref"] = self.userref[o.order_id]
        if o.order_id in self.cl_ord_id:
            info["cl_ord_id"] = self.cl_ord_id[o.order_id]
        if with_trades and o.fills:
            info["trades"] = [self.trade_txid(f.trade_id) for f in o.fills]
        return info

    def trade_info(self, f: Fill) -> dict[str, Any]:
        p = self.pairs[f.symbol]
        o = self.exchange.orders.get(f.order_id)
        return {
            "ordertxid": self.txid(f.order_id),
            "postxid": make_txid("T", f.trade_id + 10**9, self.salt),
            "pair": p.key,
            "time": f.time / 1000,
            "type": "buy" if f.side == BUY else "sell",
            "ordertype": "market" if o is not None and o.type == MARKET else "limit",
            "price": fmt(f.price, p.pair_decimals),
            "cost": fmt(f.quote_qty, p.cost_decimals),
            "fee": fmt(f.fee, p.lot_decimals if f.side == BUY else p.cost_decimals),
            "vol": fmt(f.qty, p.lot_decimals),
            "margin": fmt(ZERO, p.cost_decimals),
            "leverage": "0",
            "misc": "",
            "trade_id": f.trade_id,
            "maker": f.is_maker,
        }
