"""Core objects -> OKX JSON (strings for every number, as the venue sends them)."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..core.models import (
    BUY,
    CANCELED,
    EXPIRED,
    FILLED,
    NEW,
    PARTIALLY_FILLED,
    Fill,
    Order,
    SymbolSpec,
)

ORD_ID_BASE = 600_000_000_000_000_000
TRADE_ID_BASE = 100_000_000
BILL_ID_BASE = 700_000_000_000_000_000

STATE = {NEW: "live", PARTIALLY_FILLED: "partially_filled", FILLED: "filled",
         CANCELED: "canceled", EXPIRED: "canceled"}


def fmt(d: Decimal | None) -> str:
    """Plain decimal string, no exponent, no trailing zeros (``"0"`` for zero)."""
    if d is None:
        return ""
    if d == 0:
        return "0"
    s = format(d.normalize(), "f")
    return s


def inst_id(symbol: str) -> str:
    return symbol.replace("/", "-")


def symbol_of(inst: str) -> str:
    return inst.replace("-", "/")


def ord_id(order_id: int) -> str:
    return str(ORD_ID_BASE + order_id)


def parse_ord_id(raw: str) -> int | None:
    if not raw.isdigit():
        return None
    n = int(raw) - ORD_ID_BASE
    return n if n > 0 else None


@dataclass
class Meta:
    """What OKX reports about an order that the core does not keep."""

    ord_type: str  # limit | post_only | ioc | fok | market
    tgt_ccy: str = ""
    sz: str = ""
    tag: str = ""
    cancel_source: str = ""
    cl_ord_id: str = ""


def instrument(spec: SymbolSpec, ts: int) -> dict[str, Any]:
    return {
        "instType": "SPOT", "instId": inst_id(spec.symbol), "uly": "", "instFamily": "",
        "baseCcy": spec.base, "quoteCcy": spec.quote, "settleCcy": "", "ctVal": "", "ctMult": "",
        "ctValCcy": "", "optType": "", "stk": "", "listTime": str(ts - 86_400_000 * 365),
        "expTime": "", "lever": "", "tickSz": fmt(spec.tick), "lotSz": fmt(spec.step),
        "minSz": fmt(spec.min_qty), "ctType": "", "alias": "", "state": "live",
        "maxLmtSz": fmt(spec.max_qty), "maxMktSz": fmt(spec.max_qty),
        "maxLmtAmt": fmt(spec.max_notional), "maxMktAmt": fmt(spec.max_notional),
        "maxTwapSz": fmt(spec.max_qty), "maxIcebergSz": fmt(spec.max_qty),
        "maxTriggerSz": fmt(spec.max_qty), "maxStopSz": fmt(spec.max_qty),
        "ruleType": "normal", "category": "1", "tradeQuoteCcyList": [spec.quote],
    }


def fee_of(o: Order) -> tuple[str, str]:
    """Accumulated fee (negative = charged) and its currency."""
    if not o.fills:
        return "0", ""
    total = sum((f.fee for f in o.fills), Decimal(0))
    return fmt(-total) if total else "0", o.fills[-1].fee_asset


def order_obj(o: Order, meta: Meta | None) -> dict[str, Any]:
    m = meta or Meta("market" if o.price is None else "limit")
    last = o.fills[-1] if o.fills else None
    fee, fee_ccy = fee_of(o)
    avg = (o.cum_quote / o.filled) if o.filled > 0 else None
    if m.sz:
        sz = m.sz
    elif o.qty is not None:
        sz = fmt(o.qty)
    else:
        sz = fmt(o.quote_qty)
    return {
        "instType": "SPOT", "instId": inst_id(o.symbol), "tgtCcy": m.tgt_ccy, "ccy": "",
        "ordId": ord_id(o.order_id), "clOrdId": m.cl_ord_id, "tag": m.tag, "px": fmt(o.price) if o.price is not None else "",
        "pxUsd": "", "pxVol": "", "pxType": "", "sz": sz, "pnl": "0", "ordType": m.ord_type,
        "side": "buy" if o.side == BUY else "sell", "posSide": "", "tdMode": "cash",
        "accFillSz": fmt(o.filled), "fillPx": fmt(last.price) if last else "",
        "tradeId": str(TRADE_ID_BASE + last.trade_id) if last else "",
        "fillSz": fmt(last.qty) if last else "0", "fillTime": str(last.time) if last else "",
        "avgPx": fmt(avg) if avg is not None else "", "state": STATE.get(o.status, "live"),
        "lever": "", "attachAlgoClOrdId": "", "tpTriggerPx": "", "tpTriggerPxType": "",
        "tpOrdPx": "", "slTriggerPx": "", "slTriggerPxType": "", "slOrdPx": "",
        "attachAlgoOrds": [], "linkedAlgoOrd": {"algoId": ""}, "stpId": "", "stpMode": "",
        "feeCcy": fee_ccy, "fee": fee, "rebateCcy": "", "rebate": "0", "source": "",
        "category": "normal", "reduceOnly": "false", "isTpLimit": "false",
        "cancelSource": m.cancel_source, "cancelSourceReason": "", "quickMgnType": "",
        "algoClOrdId": "", "algoId": "", "tradeQuoteCcy": "",
        "uTime": str(o.updated), "cTime": str(o.created),
    }


def fill_obj(f: Fill, meta: Meta | None) -> dict[str, Any]:
    rate = Decimal(0)
    if f.qty > 0 and f.fee:
        base_amt = f.qty if f.side == BUY else f.quote_qty
        rate = -(f.fee / base_amt)
    return {
        "instType": "SPOT", "instId": inst_id(f.symbol),
        "tradeId": str(TRADE_ID_BASE + f.trade_id), "ordId": ord_id(f.order_id),
        "clOrdId": meta.cl_ord_id if meta else "",
        "billId": str(BILL_ID_BASE + f.trade_id * 2 + (0 if f.is_maker else 1)),
        "subType": "1", "tag": meta.tag if meta else "", "fillPx": fmt(f.price),
        "fillSz": fmt(f.qty), "fillIdxPx": "", "fillPnl": "0", "fillPxVol": "",
        "fillPxUsd": "", "fillMarkVol": "", "fillFwdPx": "", "fillMarkPx": "",
        "side": "buy" if f.side == BUY else "sell", "posSide": "net",
        "execType": "M" if f.is_maker else "T", "feeCcy": f.fee_asset,
        "fee": fmt(-f.fee) if f.fee else "0", "feeRate": fmt(rate) if rate else "0",
        "ts": str(f.time), "fillTime": str(f.time), "tradeQuoteCcy": "",
    }


def level(price: Decimal, qty: Decimal, count: int) -> list[str]:
    return [fmt(price), fmt(qty), "0", str(count)]


def checksum(bids: list[list[str]], asks: list[list[str]]) -> int:
    """Legacy OKX book checksum: interleave 25 levels, CRC32, signed int32."""
    parts: list[str] = []
    for i in range(25):
        if i < len(bids):
            parts.append(f"{bids[i][0]}:{bids[i][1]}")
        if i < len(asks):
            parts.append(f"{asks[i][0]}:{asks[i][1]}")
    crc = zlib.crc32(":".join(parts).encode())
    return crc - (1 << 32) if crc >= (1 << 31) else crc
