"""ccxt's unified structures (markets, orders, trades, books, balances) read into gapless
models, checked on the way: anything the bridge cannot read with certainty is
``MalformedResponse``, never a guess. Pure functions; no ccxt import here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from gapless.model import (
    Balance,
    BookLevel,
    BookSnapshot,
    Fill,
    Instrument,
    OrderReport,
    OrderState,
    Side,
)
from gapless.model.errors import MalformedResponse
from gapless.venues.ccxt_bridge.values import ZERO
from gapless.venues.ccxt_bridge.values import tick_size as _tick
from gapless.venues.ccxt_bridge.values import to_decimal as _dec

STATUS = {
    "open": OrderState.ACCEPTED,
    "closed": OrderState.FILLED,
    "canceled": OrderState.CANCELED,
    "cancelled": OrderState.CANCELED,
    "expired": OrderState.CANCELED,
    "rejected": OrderState.REJECTED,
}
ID_RE = re.compile(r"[\x21-\x7e]{1,128}")
ASSET_RE = re.compile(r"[A-Za-z0-9._-]{1,32}")


def instruments_from(markets: Any, mode: int, venue: str) -> dict[str, Instrument]:
    """Active spot markets named ``BASE/QUOTE``; a market whose numbers cannot be read is
    left out (it cannot be traded safely)."""
    if not isinstance(markets, dict):
        raise MalformedResponse("markets are not a mapping", venue=venue)
    out: dict[str, Instrument] = {}
    for sym, m in markets.items():
        if not isinstance(m, dict) or not m.get("spot") or m.get("active") is False:
            continue
        base, quote = m.get("base"), m.get("quote")
        if not (isinstance(sym, str) and isinstance(base, str) and isinstance(quote, str)):
            continue
        if sym != f"{base}/{quote}":
            continue
        prec = m.get("precision") or {}
        lim = m.get("limits") or {}
        amount, price, cost = lim.get("amount") or {}, lim.get("price") or {}, lim.get("cost") or {}
        try:
            out[sym] = Instrument(
                venue=venue,
                symbol=sym,
                venue_symbol=str(m.get("id") or sym),
                base=base,
                quote=quote,
                tick_size=_tick(prec.get("price"), mode, venue),
                step_size=_tick(prec.get("amount"), mode, venue),
                min_qty=_dec(amount.get("min"), "min qty", venue) or ZERO,
                max_qty=_dec(amount.get("max"), "max qty", venue) or ZERO,
                min_notional=_dec(cost.get("min"), "min notional", venue) or ZERO,
                min_price=_dec(price.get("min"), "min price", venue) or ZERO,
                max_price=_dec(price.get("max"), "max price", venue) or ZERO,
            )
        except MalformedResponse:
            continue
    return out


def fill_from(
    t: Any, symbol: str, side: Side | None, cid: str, vid: str,
    *, venue: str, instruments: Mapping[str, Instrument],
) -> Fill | None:
    """One ccxt trade as a fill (``None``: a trade without an id, nothing to dedupe on)."""
    if not isinstance(t, dict):
        raise MalformedResponse("trade is not an object", venue=venue)
    tid = t.get("id")
    if tid is None:
        return None
    tid = str(tid)
    if not ID_RE.fullmatch(tid):
        raise MalformedResponse("bad trade id", venue=venue)
    qty = _dec(t.get("amount"), "trade qty", venue)
    price = _dec(t.get("price"), "trade price", venue)
    if qty is None or price is None or qty <= 0 or price <= 0:
        raise MalformedResponse("trade without qty/price", venue=venue)
    inst = instruments.get(symbol)
    if inst is not None and inst.step_size > 0:
        qty = qty.quantize(inst.step_size)
    tside = t.get("side")
    if tside in ("buy", "sell"):
        side = Side(tside)
    if side is None:
        raise MalformedResponse("trade without side", venue=venue)
    fee = t.get("fee") or {}
    fee_cost = _dec(fee.get("cost"), "fee", venue) if isinstance(fee, dict) else None
    fee_asset = fee.get("currency") if isinstance(fee, dict) else None
    ts = t.get("timestamp")
    return Fill(
        venue=venue,
        trade_id=tid,
        symbol=symbol,
        side=side,
        qty=qty,
        price=price,
        fee=fee_cost or ZERO,
        fee_asset=fee_asset if isinstance(fee_asset, str) else "",
        is_maker=t.get("takerOrMaker") == "maker",
        ts_ms=ts if isinstance(ts, int) else 0,
        client_order_id=cid,
        venue_order_id=str(t.get("order") or vid),
    )


def report_from(
    o: Any, symbol: str, cid_hint: str = "",
    *, venue: str, instruments: Mapping[str, Instrument],
) -> tuple[OrderReport, bool]:
    """An OrderReport from a ccxt order; the bool says the status was known."""
    if not isinstance(o, dict):
        raise MalformedResponse("order is not an object", venue=venue)
    vid = o.get("id")
    if vid is None or not ID_RE.fullmatch(str(vid)) or str(vid).startswith("{"):
        raise MalformedResponse("order without a usable id", venue=venue)
    vid = str(vid)
    sym = o.get("symbol") or symbol
    if sym != symbol and sym not in instruments:
        raise MalformedResponse(f"order for unknown symbol {str(sym)[:40]!r}", venue=venue)
    raw_status = o.get("status")
    if raw_status is not None and raw_status not in STATUS:
        raise MalformedResponse(f"unknown order status {str(raw_status)[:40]!r}", venue=venue)
    raw_side = o.get("side")
    if raw_side is not None and raw_side not in ("buy", "sell"):
        raise MalformedResponse("unknown order side", venue=venue)
    side = Side(raw_side) if raw_side else None
    cid = o.get("clientOrderId")
    cid = str(cid) if cid not in (None, "") else cid_hint
    if cid and not ID_RE.fullmatch(cid):
        raise MalformedResponse("bad client order id", venue=venue)
    amount = _dec(o.get("amount"), "order qty", venue)
    filled = _dec(o.get("filled"), "filled qty", venue) or ZERO
    cost = _dec(o.get("cost"), "order cost", venue)
    price = _dec(o.get("price"), "order price", venue)
    average = _dec(o.get("average"), "average price", venue)
    inst = instruments.get(sym)
    if inst is not None and inst.step_size > 0:
        if amount is not None:
            amount = amount.quantize(inst.step_size)
        filled = filled.quantize(inst.step_size)
    if o.get("type") == "market":
        price = None
    if cost is None:
        cost = filled * average if average is not None else ZERO
    fills: list[Fill] = []
    trades = o.get("trades") or []
    if not isinstance(trades, list):
        raise MalformedResponse("order trades is not a list", venue=venue)
    for t in trades:
        f = fill_from(t, sym, side, cid, vid, venue=venue, instruments=instruments)
        if f is not None:
            fills.append(f)
    if raw_status is None:
        state = OrderState.ACCEPTED if filled == 0 else OrderState.PARTIALLY_FILLED
    else:
        state = STATUS[raw_status]
        if state is OrderState.ACCEPTED and filled > 0:
            state = OrderState.PARTIALLY_FILLED
        elif state is OrderState.FILLED and amount is not None and filled < amount:
            state = OrderState.CANCELED  # "closed" short of the amount: remainder gone
    ts = o.get("lastUpdateTimestamp") or o.get("timestamp")
    rep = OrderReport(
        venue=venue,
        symbol=sym,
        client_order_id=cid,
        venue_order_id=vid,
        state=state,
        side=side,
        qty=amount or ZERO,
        price=price,
        filled_qty=filled,
        quote_filled=cost,
        fills=tuple(fills),
        ts_ms=ts if isinstance(ts, int) else 0,
    )
    return rep, raw_status is not None


def book_from(ob: Any, symbol: str, depth: int, venue: str) -> BookSnapshot:
    """A ccxt order book, best first, ``depth`` levels a side; empty levels dropped."""
    if not isinstance(ob, dict):
        raise MalformedResponse("order book is not an object", venue=venue)

    def side(raw: Any, what: str, reverse: bool) -> tuple[BookLevel, ...]:
        if not isinstance(raw, list):
            raise MalformedResponse(f"{what} are not a list", venue=venue)
        levels = []
        for lv in raw:
            if not isinstance(lv, list | tuple) or len(lv) < 2:
                raise MalformedResponse(f"bad {what} level", venue=venue)
            p = _dec(lv[0], "price", venue)
            q = _dec(lv[1], "qty", venue)
            if p is None or q is None or p <= 0 or q < 0:
                raise MalformedResponse(f"bad {what} level", venue=venue)
            if q > 0:
                levels.append(BookLevel(p, q))
        levels.sort(key=lambda lv: lv.price, reverse=reverse)
        return tuple(levels[:depth])

    bids = side(ob.get("bids"), "bids", True)
    asks = side(ob.get("asks"), "asks", False)
    nonce = ob.get("nonce")
    ts = ob.get("timestamp")
    return BookSnapshot(
        venue=venue, symbol=symbol, bids=bids, asks=asks,
        sequence=nonce if isinstance(nonce, int) else 0,
        ts_ms=ts if isinstance(ts, int) else 0,
    )


def balances_from(bal: Any, raw_n: int, venue: str) -> dict[str, Balance]:
    """A ccxt balance (``free``/``used`` maps); ``raw_n`` entries in the raw answer, so an
    answer none of whose entries could be read is malformed, not "no balances"."""
    if not isinstance(bal, dict):
        raise MalformedResponse("balance is not an object", venue=venue)
    free_map, used_map = bal.get("free"), bal.get("used")
    if not isinstance(free_map, dict) or not isinstance(used_map, dict):
        raise MalformedResponse("balance without free/used", venue=venue)
    out: dict[str, Balance] = {}
    for asset in set(free_map) | set(used_map):
        if not isinstance(asset, str) or not ASSET_RE.fullmatch(asset):
            raise MalformedResponse(f"bad asset code {str(asset)[:40]!r}", venue=venue)
        free = _dec(free_map.get(asset), f"{asset} free", venue)
        used = _dec(used_map.get(asset), f"{asset} used", venue)
        if free is None and used is None:
            continue
        out[asset] = Balance(asset=asset, free=free or ZERO, locked=used or ZERO)
    if raw_n and not out:
        raise MalformedResponse(f"balance: {raw_n} entries sent, none readable", venue=venue)
    return out
