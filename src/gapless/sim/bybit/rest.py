"""Bybit V5 REST handlers: ``(params, uid) -> result``, wrapped in the ``retCode`` envelope
by ``app.py``."""

from __future__ import annotations

import contextlib
from decimal import Decimal, InvalidOperation
from typing import Any

from ..core.faults import Faults
from ..core.models import (
    BUY,
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
from . import errors
from .errors import BybitError
from .limits import Limits
from .wire import (
    ORDER_ID_BASE,
    Shapes,
    order_id_str,
    s,
    venue_symbol,
)


class Rest(Shapes):
    """Market, order, execution and account endpoints over the core exchange."""

    api_key: str
    faults: Faults
    limits: Limits

    @staticmethod
    def need(params: dict[str, str], name: str) -> str:
        v = params.get(name, "")
        if not v:
            raise errors.params(f"{name} is required")
        return v

    @staticmethod
    def category(params: dict[str, str], required: bool = True) -> None:
        cat = params.get("category", "")
        if (required or cat) and cat != "spot":
            raise errors.params("category only support spot")

    @staticmethod
    def dec(params: dict[str, str], name: str) -> Decimal | None:
        raw = params.get(name, "")
        if raw == "":
            return None
        try:
            v = Decimal(raw)
        except InvalidOperation:
            raise errors.params(f"{name} invalid") from None
        if not v.is_finite():
            raise errors.params(f"{name} invalid")
        return v

    # -------------------------------------------------------------- market
    async def h_time(self, p: dict[str, str], uid: str) -> Any:
        ms = self.exchange.time_ms()
        return {"timeSecond": str(ms // 1000), "timeNano": str(ms * 1_000_000)}

    async def h_instruments(self, p: dict[str, str], uid: str) -> Any:
        self.category(p)
        want = p.get("symbol", "")
        rows = []
        for sym, sp in self.exchange.specs.items():
            vs = venue_symbol(sym)
            if want and vs != want:
                continue
            rows.append({
                "symbol": vs, "baseCoin": sp.base, "quoteCoin": sp.quote, "innovation": "0",
                "status": "Trading", "marginTrading": "none", "stTag": "0",
                "lotSizeFilter": {
                    "basePrecision": s(sp.step), "quotePrecision": "0.00000001",
                    "minOrderQty": s(sp.min_qty), "maxOrderQty": s(sp.max_qty),
                    "minOrderAmt": s(sp.min_notional), "maxOrderAmt": s(sp.max_notional),
                    "maxLimitOrderQty": s(sp.max_qty), "maxMarketOrderQty": s(sp.max_qty),
                    "postOnlyMaxLimitOrderSize": s(sp.max_qty),
                },
                "priceFilter": {"tickSize": s(sp.tick)},
                "riskParameters": {"priceLimitRatioX": "0.05", "priceLimitRatioY": "0.05"},
            })
        return {"category": "spot", "list": rows}

    async def h_orderbook(self, p: dict[str, str], uid: str) -> Any:
        self.category(p)
        sym = self.symbol_of(self.need(p, "symbol"))
        try:
            limit = int(p.get("limit") or "1")
        except ValueError:
            raise errors.params("limit invalid") from None
        if not 1 <= limit <= 1000:
            raise errors.params("limit invalid")
        uid_, bids, asks = self.exchange.depth(sym, limit)
        now = self.exchange.time_ms()
        return {"s": venue_symbol(sym), "b": [[s(px), s(q)] for px, q in bids],
                "a": [[s(px), s(q)] for px, q in asks], "ts": now, "u": uid_, "seq": uid_,
                "cts": now}

    async def h_tickers(self, p: dict[str, str], uid: str) -> Any:
        self.category(p)
        want = p.get("symbol", "")
        rows = []
        for sym in self.exchange.specs:
            vs = venue_symbol(sym)
            if want and vs != want:
                continue
            bid, ask = self.exchange.best_bid_ask(sym)
            last = ""
            if bid and ask:
                last = s((bid[0] + ask[0]) / 2)
            rows.append({
                "symbol": vs,
                "bid1Price": s(bid[0]) if bid else "", "bid1Size": s(bid[1]) if bid else "",
                "ask1Price": s(ask[0]) if ask else "", "ask1Size": s(ask[1]) if ask else "",
                "lastPrice": last, "prevPrice24h": last, "price24hPcnt": "0",
                "highPrice24h": last, "lowPrice24h": last, "turnover24h": "0",
                "volume24h": "0", "usdIndexPrice": "",
            })
        if want and not rows:
            raise errors.invalid_symbol()
        return {"category": "spot", "list": rows}

    # --------------------------------------------------------------- trade
    async def h_create(self, p: dict[str, str], uid: str) -> Any:
        self.category(p)
        sym = self.symbol_of(self.need(p, "symbol"))
        spec = self.exchange.specs[sym]
        side_raw = self.need(p, "side")
        side = {"Buy": BUY, "Sell": SELL}.get(side_raw)
        if side is None:
            raise errors.params("side invalid")
        otype = self.need(p, "orderType")
        qty = self.dec(p, "qty")
        if qty is None or qty <= 0:
            raise errors.params("qty invalid")
        price = self.dec(p, "price")
        link = p.get("orderLinkId", "")
        if len(link) > 36 or any(not (c.isascii() and (c.isalnum() or c in "-_")) for c in link):
            raise errors.params("orderLinkId invalid")
        tif_raw = p.get("timeInForce", "") or "GTC"
        kw: dict[str, Any] = {}
        if otype == "Limit":
            if price is None or price <= 0:
                raise errors.params("price invalid")
            self.check_limit(spec, price, qty)
            if tif_raw == "PostOnly":
                kw = {"type": LIMIT_MAKER, "tif": GTC}
            elif tif_raw in (GTC, IOC, FOK):
                kw = {"type": LIMIT, "tif": tif_raw}
            else:
                raise errors.params("timeInForce invalid")
            kw.update(qty=qty, price=price)
        elif otype == "Market":
            unit = p.get("marketUnit", "") or ("quoteCoin" if side == BUY else "baseCoin")
            if unit == "baseCoin":
                self.check_qty(spec, qty)
                kw = {"type": MARKET, "qty": qty}
            elif unit == "quoteCoin":
                if qty < spec.min_notional:
                    raise errors.value_too_low()
                kw = {"type": MARKET, "quote_qty": qty}
            else:
                raise errors.params("marketUnit invalid")
        else:
            raise errors.params("orderType invalid")
        if link:
            with contextlib.suppress(UnknownOrder):
                self.exchange.find_order(uid, None, client_id=link)
                raise errors.duplicate_link_id()
        try:
            o = self.exchange.place_order(account=uid, symbol=sym, side=side,
                                          client_id=link or None, **kw)
        except Rejection as r:
            raise self.rejection(r) from None
        return {"orderId": order_id_str(o.order_id), "orderLinkId": link}

    def check_limit(self, spec: Any, price: Decimal, qty: Decimal) -> None:
        if price > spec.max_price:
            raise errors.price_too_high()
        if price < spec.min_price:
            raise errors.price_too_low()
        if (price - spec.min_price) % spec.tick != 0:
            raise errors.price_precision()
        self.check_qty(spec, qty)
        if price * qty < spec.min_notional:
            raise errors.value_too_low()

    @staticmethod
    def check_qty(spec: Any, qty: Decimal) -> None:
        if qty % spec.step != 0:
            raise errors.qty_precision()
        if qty < spec.min_qty:
            raise errors.qty_too_low()
        if qty > spec.max_qty:
            raise errors.qty_too_high()

    @staticmethod
    def rejection(r: Rejection) -> BybitError:
        reason, detail = r.reason, r.detail
        if reason == "insufficient_balance":
            return errors.insufficient_balance()
        if reason == "would_take":
            return errors.post_only_cross()
        if reason == "duplicate_client_id":
            return errors.duplicate_link_id()
        if reason == "unknown_symbol":
            return errors.invalid_symbol()
        if reason == "filter":
            if detail == "NOTIONAL":
                return errors.value_too_low()
            if detail == "PRICE_FILTER":
                return errors.price_precision()
            return errors.qty_precision()
        return errors.params(detail or reason)

    def find(self, p: dict[str, str], uid: str, sym: str | None) -> Order:
        oid_raw, link = p.get("orderId", ""), p.get("orderLinkId", "")
        try:
            if oid_raw:
                try:
                    oid = int(oid_raw) - ORDER_ID_BASE
                except ValueError:
                    raise UnknownOrder() from None
                return self.exchange.find_order(uid, sym, order_id=oid)
            if link:
                return self.exchange.find_order(uid, sym, client_id=link)
        except UnknownOrder:
            raise errors.order_not_exist() from None
        raise errors.params("orderId or orderLinkId is required")

    async def h_cancel(self, p: dict[str, str], uid: str) -> Any:
        self.category(p)
        sym = self.symbol_of(self.need(p, "symbol"))
        o = self.find(p, uid, sym)
        if not o.is_open:
            raise errors.order_not_exist()
        self.exchange.cancel_order(uid, sym, order_id=o.order_id)
        return {"orderId": order_id_str(o.order_id), "orderLinkId": self.link_of(o)}

    async def h_cancel_all(self, p: dict[str, str], uid: str) -> Any:
        self.category(p)
        sym = self.symbol_of(p["symbol"]) if p.get("symbol") else None
        done = self.exchange.cancel_all(uid, sym)
        return {"list": [{"orderId": order_id_str(o.order_id), "orderLinkId": self.link_of(o)}
                         for o in done], "success": "1"}

    @staticmethod
    def page(items: list[Any], p: dict[str, str], default: int, cap: int) -> tuple[list[Any], str]:
        try:
            limit = int(p.get("limit") or default)
            start = int(p.get("cursor") or "0")
        except ValueError:
            raise errors.params("limit/cursor invalid") from None
        if not 1 <= limit <= cap or start < 0:
            raise errors.params("limit invalid")
        chunk = items[start:start + limit]
        nxt = str(start + limit) if start + limit < len(items) else ""
        return chunk, nxt

    def select(self, p: dict[str, str], uid: str) -> tuple[list[Order], bool]:
        sym = self.symbol_of(p["symbol"]) if p.get("symbol") else None
        if p.get("orderId") or p.get("orderLinkId"):
            try:
                return [self.find(p, uid, sym)], True
            except BybitError:
                return [], True
        orders = self.exchange.user_orders(uid, sym)
        orders.sort(key=lambda o: (o.created, o.order_id), reverse=True)
        return orders, False

    async def h_realtime(self, p: dict[str, str], uid: str) -> Any:
        self.category(p)
        orders, by_id = self.select(p, uid)
        if not by_id:
            if p.get("openOnly", "0") in ("", "0"):
                orders = [o for o in orders if o.is_open]
            else:
                orders = [o for o in orders if not o.is_open][:500]
        chunk, nxt = self.page(orders, p, 20, 50)
        return {"category": "spot", "list": [self.order_json(o) for o in chunk],
                "nextPageCursor": nxt}

    async def h_history(self, p: dict[str, str], uid: str) -> Any:
        self.category(p)
        orders, _ = self.select(p, uid)
        chunk, nxt = self.page(orders, p, 20, 50)
        return {"category": "spot", "list": [self.order_json(o) for o in chunk],
                "nextPageCursor": nxt}

    async def h_executions(self, p: dict[str, str], uid: str) -> Any:
        self.category(p)
        sym = self.symbol_of(p["symbol"]) if p.get("symbol") else None
        fills = self.exchange.user_fills(uid, sym)
        if p.get("orderId") or p.get("orderLinkId"):
            try:
                o = self.find(p, uid, sym)
            except BybitError:
                fills = []
            else:
                fills = [f for f in fills if f.order_id == o.order_id]
        for key, cmp in (("startTime", 1), ("endTime", -1)):
            if p.get(key):
                try:
                    bound = int(p[key])
                except ValueError:
                    raise errors.params(f"{key} invalid") from None
                fills = [f for f in fills if (f.time - bound) * cmp >= 0]
        fills = sorted(fills, key=lambda f: (f.time, f.trade_id), reverse=True)
        chunk, nxt = self.page(fills, p, 50, 100)
        return {"category": "spot",
                "list": [self.exec_json(f, self.exchange.orders.get(f.order_id)) for f in chunk],
                "nextPageCursor": nxt}

    async def h_wallet(self, p: dict[str, str], uid: str) -> Any:
        if p.get("accountType", "") != "UNIFIED":
            raise errors.params("accountType only support UNIFIED")
        coins = {c for c in p.get("coin", "").split(",") if c} or None
        return {"list": [{
            "accountType": "UNIFIED", "accountIMRate": "0", "accountMMRate": "0",
            "totalEquity": "", "totalWalletBalance": "", "totalMarginBalance": "",
            "totalAvailableBalance": "", "totalPerpUPL": "0", "totalInitialMargin": "0",
            "totalMaintenanceMargin": "0", "accountLTV": "0",
            "coin": self.coin_rows(uid, coins),
        }]}

    async def h_query_api(self, p: dict[str, str], uid: str) -> Any:
        return {
            "id": "1", "note": "gapless-sim", "apiKey": self.api_key, "readOnly": 0, "secret": "",
            "permissions": {"ContractTrade": [], "Spot": ["SpotTrade"], "Wallet": ["AccountTransfer"],
                            "Options": [], "Derivatives": [], "CopyTrading": [], "BlockTrade": [],
                            "Exchange": [], "NFT": []},
            "ips": ["*"], "type": 1, "deadlineDay": 90, "expiredAt": "", "createdAt": "",
            "unified": 0, "uta": 1, "userID": 1, "inviterID": 0, "vipLevel": "No VIP",
            "mktMakerLevel": "0", "affiliateID": 0, "rsaPublicKey": "", "isMaster": True,
        }

    async def h_account_info(self, p: dict[str, str], uid: str) -> Any:
        return {"marginMode": "REGULAR_MARGIN", "updatedTime": str(self.exchange.time_ms()),
                "unifiedMarginStatus": 6, "dcpStatus": "OFF", "timeWindow": 10, "smpGroup": 0,
                "isMasterTrader": False, "spotHedgingStatus": "OFF"}

    async def h_coin_info(self, p: dict[str, str], uid: str) -> Any:
        coins = sorted({c for sp in self.exchange.specs.values() for c in (sp.base, sp.quote)})
        want = p.get("coin", "")
        rows = [{"name": c, "coin": c, "remainAmount": "1000000", "chains": [{
            "chainType": c, "confirmation": "1", "withdrawFee": "0", "depositMin": "0",
            "withdrawMin": "0", "chain": c, "chainDeposit": "1", "chainWithdraw": "1",
            "minAccuracy": "8", "withdrawPercentageFee": "0", "contractAddress": "",
        }]} for c in coins if not want or c == want]
        return {"rows": rows}
