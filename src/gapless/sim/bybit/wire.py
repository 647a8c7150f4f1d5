"""Bybit V5 JSON shapes: id spaces, number strings, and the order, execution and coin rows
that REST answers and private stream pushes share."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..core.exchange import Exchange
from ..core.models import (
    BUY,
    CANCELED,
    EXPIRED,
    FILLED,
    LIMIT_MAKER,
    MARKET,
    NEW,
    PARTIALLY_FILLED,
    Fill,
    Order,
)
from . import errors

ZERO = Decimal(0)
ORDER_ID_BASE = 1_900_000_000_000_000_000
EXEC_ID_BASE = 2_100_000_000_000_000_000
SPOT_DEPTHS = (1, 50, 200, 1000)


def s(v: Decimal | None) -> str:
    if v is None:
        return "0"
    if v == 0:
        return "0"
    return f"{v.normalize():f}"


def venue_symbol(symbol: str) -> str:
    return symbol.replace("/", "")


def order_id_str(oid: int) -> str:
    return str(ORDER_ID_BASE + oid)


def exec_id_str(tid: int) -> str:
    return str(EXEC_ID_BASE + tid)


def status_of(o: Order) -> str:
    if o.status == NEW:
        return "New"
    if o.status == PARTIALLY_FILLED:
        return "PartiallyFilled"
    if o.status == FILLED:
        return "Filled"
    if o.status in (CANCELED, EXPIRED):
        return "PartiallyFilledCanceled" if o.filled > 0 else "Cancelled"
    return "Rejected"


def tif_of(o: Order) -> str:
    if o.type == LIMIT_MAKER:
        return "PostOnly"
    if o.type == MARKET:
        return "IOC"
    return o.tif


class Shapes:
    """Rows built from core state; shared by the REST handlers and the private streams."""

    exchange: Exchange

    def symbol_of(self, vs: str) -> str:
        for sym in self.exchange.specs:
            if venue_symbol(sym) == vs:
                return sym
        raise errors.invalid_symbol()

    def resolve(self, name: str) -> str:
        """Admin helper: ``BTCUSDT`` or ``BTC/USDT`` -> core symbol (unknown names pass through)."""
        if name in self.exchange.specs:
            return name
        for sym in self.exchange.specs:
            if venue_symbol(sym) == name.upper():
                return sym
        return name

    @staticmethod
    def link_of(o: Order) -> str:
        return "" if o.client_id.startswith("sim") and o.client_id[3:].isdigit() else o.client_id

    def order_json(self, o: Order) -> dict[str, Any]:
        sym = venue_symbol(o.symbol)
        spec = self.exchange.specs[o.symbol]
        fee = sum((f.fee for f in o.fills), ZERO)
        fee_ccy = spec.base if o.side == BUY else spec.quote
        if o.qty is not None:
            qty, unit = o.qty, "baseCoin"
            leaves = o.remaining if o.is_open else ZERO
            leaves_value = leaves * (o.price or ZERO)
        else:
            qty, unit = o.quote_qty or ZERO, "quoteCoin"
            leaves = ZERO
            leaves_value = (qty - o.cum_quote) if o.is_open else ZERO
        avg = (o.cum_quote / o.filled) if o.filled > 0 else None
        reject = "EC_NoError"
        cancel_type = "UNKNOWN"
        if o.status == CANCELED:
            cancel_type = "CancelByUser"
        elif o.status == EXPIRED:
            reject = "EC_NoImmediateQtyToFill" if o.filled == 0 else "EC_NoError"
        return {
            "orderId": order_id_str(o.order_id), "orderLinkId": self.link_of(o),
            "blockTradeId": "", "symbol": sym, "price": s(o.price) if o.type != MARKET else "0",
            "qty": s(qty), "side": "Buy" if o.side == BUY else "Sell", "isLeverage": "0",
            "positionIdx": 0, "orderStatus": status_of(o), "cancelType": cancel_type,
            "rejectReason": reject, "avgPrice": s(avg) if avg is not None else "",
            "leavesQty": s(leaves), "leavesValue": s(leaves_value),
            "cumExecQty": s(o.filled), "cumExecValue": s(o.cum_quote), "cumExecFee": s(fee),
            "cumFeeDetail": {fee_ccy: s(fee)} if fee else {},
            "feeCurrency": fee_ccy if fee else "",
            "timeInForce": tif_of(o), "orderType": "Market" if o.type == MARKET else "Limit",
            "stopOrderType": "", "orderIv": "", "marketUnit": unit, "triggerPrice": "0",
            "takeProfit": "0", "stopLoss": "0", "tpTriggerBy": "", "slTriggerBy": "",
            "triggerDirection": 0, "triggerBy": "", "lastPriceOnCreated": "",
            "reduceOnly": False, "closeOnTrigger": False, "placeType": "", "smpType": "None",
            "smpGroup": 0, "smpOrderId": "", "createdTime": str(o.created),
            "updatedTime": str(o.updated),
        }

    def exec_json(self, f: Fill, o: Order | None) -> dict[str, Any]:
        spec = self.exchange.specs[f.symbol]
        rate = self.exchange.maker_fee if f.is_maker else self.exchange.taker_fee
        return {
            "symbol": venue_symbol(f.symbol), "orderId": order_id_str(f.order_id),
            "orderLinkId": self.link_of(o) if o else "", "side": "Buy" if f.side == BUY else "Sell",
            "orderPrice": s(o.price) if o and o.type != MARKET else "0",
            "orderQty": s(o.qty if o and o.qty is not None else (o.quote_qty if o else ZERO)),
            "leavesQty": s(o.remaining) if o and o.is_open else "0",
            "createType": "CreateByUser", "orderType": "Market" if o and o.type == MARKET else "Limit",
            "stopOrderType": "", "execFee": s(f.fee), "feeCurrency": f.fee_asset or spec.quote,
            "execId": exec_id_str(f.trade_id), "execPrice": s(f.price), "execQty": s(f.qty),
            "execType": "Trade", "execValue": s(f.quote_qty), "execTime": str(f.time),
            "isMaker": f.is_maker, "feeRate": s(rate), "tradeIv": "", "markIv": "",
            "markPrice": s(f.price), "indexPrice": "", "underlyingPrice": "",
            "blockTradeId": "", "closedSize": "", "seq": f.trade_id,
        }

    def coin_rows(self, uid: str, coins: set[str] | None) -> list[dict[str, Any]]:
        snap = self.exchange.account(uid).snapshot()
        rows = []
        for coin, (free, locked) in snap.items():
            if coins and coin not in coins:
                continue
            total = free + locked
            rows.append({
                "coin": coin, "equity": s(total), "usdValue": s(total) if coin in ("USDT", "USD") else "",
                "walletBalance": s(total), "free": "", "locked": s(locked), "spotHedgingQty": "0",
                "borrowAmount": "0", "availableToWithdraw": "", "availableToBorrow": "",
                "accruedInterest": "0", "totalOrderIM": "0", "totalPositionIM": "0",
                "totalPositionMM": "0", "unrealisedPnl": "0", "cumRealisedPnl": "0",
                "bonus": "0", "marginCollateral": True, "collateralSwitch": True,
                "spotBorrow": "0",
            })
        return rows
