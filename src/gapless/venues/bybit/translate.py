"""Bybit V5 spot wire format <-> the unified schema.

Every answer is the ``{"retCode","retMsg","result",...}`` envelope. Decoding is strict:
bad JSON, wrong types or missing fields raise ``MalformedResponse``. Numbers arrive as
strings (sometimes ``""`` for "none"), so they are parsed here, never through float.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import msgspec

from gapless.model import (
    Balance,
    BookLevel,
    BookSnapshot,
    Fill,
    Instrument,
    Order,
    OrderReport,
    OrderState,
    OrderType,
    Side,
    TimeInForce,
    canonical_symbol,
)
from gapless.model.errors import InvalidIntent, MalformedResponse
from gapless.venues.common.wire import ZERO, fmt_decimal, hashed_client_id, lookup, quantum_of

T = TypeVar("T")

CLIENT_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,36}")

STATUS_MAP: dict[str, OrderState] = {
    "Created": OrderState.ACCEPTED,
    "New": OrderState.ACCEPTED,
    "Untriggered": OrderState.ACCEPTED,
    "Triggered": OrderState.ACCEPTED,
    "Active": OrderState.ACCEPTED,
    "PartiallyFilled": OrderState.PARTIALLY_FILLED,
    "Filled": OrderState.FILLED,
    "Cancelled": OrderState.CANCELED,
    "PartiallyFilledCanceled": OrderState.CANCELED,
    "Deactivated": OrderState.CANCELED,
    "Rejected": OrderState.REJECTED,
}
SIDE_MAP: dict[str, Side] = {"Buy": Side.BUY, "Sell": Side.SELL}
SIDE_OUT: dict[Side, str] = {Side.BUY: "Buy", Side.SELL: "Sell"}
TIF_OUT: dict[TimeInForce, str] = {
    TimeInForce.GTC: "GTC",
    TimeInForce.IOC: "IOC",
    TimeInForce.FOK: "FOK",
    TimeInForce.POST_ONLY: "PostOnly",
}
POST_ONLY_REJECT = "EC_PostOnlyWillTakeLiquidity"


def bybit_client_order_id(intent_id: str) -> str:
    """Deterministic ``orderLinkId`` (``[A-Za-z0-9_-]{1,36}``): the intent id when it fits,
    otherwise ``gl`` + 30 base32 characters of its SHA-256."""
    if CLIENT_ID_RE.fullmatch(intent_id):
        return intent_id
    return hashed_client_id(intent_id)


# -- decoding helpers ------------------------------------------------------------------
def num(raw: str, what: str, venue: str, *, blank_ok: bool = True) -> Decimal:
    """A venue number string; ``""`` reads as 0 where the venue uses it for "none"."""
    if raw == "" and blank_ok:
        return ZERO
    try:
        v = Decimal(raw)
    except (InvalidOperation, TypeError, ValueError):
        raise MalformedResponse(f"{what}: {raw!r} is not a number", venue=venue) from None
    if not v.is_finite() or v < 0:
        raise MalformedResponse(f"{what}: {raw!r} is not a non-negative number", venue=venue)
    return v


def integer(raw: str, what: str, venue: str) -> int:
    if raw == "":
        return 0
    try:
        return int(raw)
    except ValueError:
        raise MalformedResponse(f"{what}: {raw!r} is not an integer", venue=venue) from None


def state_of(status: str, venue: str = "bybit") -> OrderState:
    return lookup(STATUS_MAP, status, "orderStatus", venue)


def side_of(side: str, venue: str = "bybit") -> Side:
    return lookup(SIDE_MAP, side, "side", venue)


class Head(msgspec.Struct):
    retCode: int
    retMsg: str = ""


class _Lot(msgspec.Struct):
    basePrecision: str
    minOrderQty: str = ""
    maxOrderQty: str = ""
    minOrderAmt: str = ""
    maxOrderAmt: str = ""
    maxLimitOrderQty: str = ""


class _PriceFilter(msgspec.Struct):
    tickSize: str


class InstrumentWire(msgspec.Struct):
    symbol: str
    baseCoin: str
    quoteCoin: str
    status: str
    lotSizeFilter: _Lot
    priceFilter: _PriceFilter


class InstrumentsResult(msgspec.Struct):
    items: list[InstrumentWire] = msgspec.field(name="list")


class OrderWire(msgspec.Struct):
    orderId: str
    orderLinkId: str
    symbol: str
    side: str
    orderType: str
    price: str
    qty: str
    orderStatus: str
    cumExecQty: str
    cumExecValue: str
    leavesQty: str = ""
    timeInForce: str = ""
    rejectReason: str = ""
    avgPrice: str = ""
    marketUnit: str = ""
    createdTime: str = ""
    updatedTime: str = ""


class OrdersResult(msgspec.Struct):
    items: list[OrderWire] = msgspec.field(name="list")
    nextPageCursor: str = ""


class AckResult(msgspec.Struct):
    orderId: str
    orderLinkId: str = ""


class ExecWire(msgspec.Struct):
    symbol: str
    orderId: str
    orderLinkId: str
    side: str
    execId: str
    execPrice: str
    execQty: str
    execFee: str = ""
    feeCurrency: str = ""
    isMaker: bool = False
    execTime: str = ""
    execType: str = "Trade"
    orderQty: str = ""
    leavesQty: str = ""


class ExecResult(msgspec.Struct):
    items: list[ExecWire] = msgspec.field(name="list")
    nextPageCursor: str = ""


class CoinWire(msgspec.Struct):
    coin: str
    walletBalance: str
    locked: str = ""


class WalletAccount(msgspec.Struct):
    coin: list[CoinWire]
    accountType: str = "UNIFIED"


class WalletResult(msgspec.Struct):
    items: list[WalletAccount] = msgspec.field(name="list")


class BookResult(msgspec.Struct):
    s: str
    b: list[BookLevel]
    a: list[BookLevel]
    u: int = 0
    seq: int = 0
    ts: int = 0


class TimeResult(msgspec.Struct):
    timeSecond: str
    timeNano: str = ""


def _envelope(tp: Any) -> Any:
    return msgspec.defstruct(f"Env_{tp.__name__}", [("retCode", int), ("result", tp)])


def decoder(tp: type[T], venue: str = "bybit") -> Callable[[bytes], T]:
    """Strict decoder of ``result`` (the envelope's retCode was checked before)."""
    dec = msgspec.json.Decoder(_envelope(tp))

    def decode(body: bytes) -> T:
        try:
            env = dec.decode(body)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise MalformedResponse(f"bad {tp.__name__}: {exc}", venue=venue) from None
        result: T = env.result
        return result

    return decode


_decode_head = msgspec.json.Decoder(Head).decode


def decode_head(body: bytes, venue: str = "bybit") -> Head:
    try:
        return _decode_head(body)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise MalformedResponse(f"not a Bybit envelope: {exc}", venue=venue) from None


decode_instruments = decoder(InstrumentsResult)
decode_orders = decoder(OrdersResult)
decode_ack = decoder(AckResult)
decode_execs = decoder(ExecResult)
decode_wallet = decoder(WalletResult)
decode_book = decoder(BookResult)
decode_time = decoder(TimeResult)


class SymbolSpec(msgspec.Struct, frozen=True):
    symbol: str
    venue_symbol: str
    price_quantum: Decimal
    qty_quantum: Decimal


def spec_for(inst: Instrument) -> SymbolSpec:
    return SymbolSpec(inst.symbol, inst.venue_symbol, quantum_of(inst.tick_size),
                      quantum_of(inst.step_size))


def instruments_from(res: InstrumentsResult, venue: str) -> dict[str, Instrument]:
    out: dict[str, Instrument] = {}
    for w in res.items:
        if w.status != "Trading":
            continue
        lot = w.lotSizeFilter
        step = num(lot.basePrecision, "basePrecision", venue, blank_ok=False)
        tick = num(w.priceFilter.tickSize, "tickSize", venue, blank_ok=False)
        if step <= 0 or tick <= 0:
            raise MalformedResponse(f"{w.symbol}: zero tick or step", venue=venue)
        max_qty = num(lot.maxLimitOrderQty or lot.maxOrderQty, "maxOrderQty", venue)
        sym = canonical_symbol(w.baseCoin, w.quoteCoin)
        out[sym] = Instrument(
            venue=venue, symbol=sym, venue_symbol=w.symbol, base=w.baseCoin.upper(),
            quote=w.quoteCoin.upper(), tick_size=tick, step_size=step,
            min_qty=num(lot.minOrderQty, "minOrderQty", venue), max_qty=max_qty,
            min_notional=num(lot.minOrderAmt, "minOrderAmt", venue),
        )
    return out


def create_body(spec: SymbolSpec, order: Order) -> dict[str, str]:
    """``/v5/order/create`` parameters. Market orders are sized in the base coin."""
    body = {
        "category": "spot",
        "symbol": spec.venue_symbol,
        "side": SIDE_OUT[order.side],
        "orderType": "Limit" if order.type is OrderType.LIMIT else "Market",
        "qty": fmt_decimal(order.qty, spec.qty_quantum, "qty"),
    }
    if order.type is OrderType.LIMIT:
        if order.price is None:
            raise InvalidIntent("limit orders need a price")
        body["price"] = fmt_decimal(order.price, spec.price_quantum, "price")
        body["timeInForce"] = TIF_OUT[order.tif]
    else:
        if order.tif is TimeInForce.POST_ONLY:
            raise InvalidIntent("market orders cannot be post-only")
        body["marketUnit"] = "baseCoin"
    body["orderLinkId"] = order.client_order_id
    return body


def report_from(w: OrderWire, symbol: str, venue: str,
                fills: tuple[Fill, ...] = ()) -> OrderReport:
    qty = num(w.qty, "qty", venue)
    price = num(w.price, "price", venue)
    filled = num(w.cumExecQty, "cumExecQty", venue)
    if w.marketUnit == "quoteCoin":
        qty = filled + num(w.leavesQty, "leavesQty", venue)
    return OrderReport(
        venue=venue, symbol=symbol, client_order_id=w.orderLinkId, venue_order_id=w.orderId,
        state=state_of(w.orderStatus, venue), side=side_of(w.side, venue), qty=qty,
        price=price if (price > 0 and w.orderType == "Limit") else None,
        filled_qty=filled, quote_filled=num(w.cumExecValue, "cumExecValue", venue),
        fills=fills, ts_ms=integer(w.updatedTime or w.createdTime, "updatedTime", venue),
    )


def fill_from(e: ExecWire, symbol: str, venue: str) -> Fill:
    qty = num(e.execQty, "execQty", venue, blank_ok=False)
    price = num(e.execPrice, "execPrice", venue, blank_ok=False)
    if not e.execId or qty <= 0 or price <= 0:
        raise MalformedResponse("execution without id, qty or price", venue=venue)
    return Fill(
        venue=venue, trade_id=e.execId, symbol=symbol, side=side_of(e.side, venue), qty=qty,
        price=price, fee=num(e.execFee, "execFee", venue), fee_asset=e.feeCurrency,
        is_maker=e.isMaker, ts_ms=integer(e.execTime, "execTime", venue),
        client_order_id=e.orderLinkId, venue_order_id=e.orderId,
    )


def balances_from(res: WalletResult, venue: str) -> dict[str, Balance]:
    out: dict[str, Balance] = {}
    for acct in res.items:
        for c in acct.coin:
            total = num(c.walletBalance, "walletBalance", venue)
            locked = num(c.locked, "locked", venue)
            free = total - locked
            if free < 0:
                raise MalformedResponse(f"{c.coin}: locked above wallet balance", venue=venue)
            out[c.coin] = Balance(asset=c.coin, free=free, locked=locked)
    return out


def _check_levels(levels: list[BookLevel], venue: str) -> None:
    for lv in levels:
        if not lv.price.is_finite() or not lv.qty.is_finite() or lv.price <= 0 or lv.qty < 0:
            raise MalformedResponse(f"bad book level {lv!r}", venue=venue)


def book_from(b: BookResult, symbol: str, venue: str, depth: int) -> BookSnapshot:
    _check_levels(b.b, venue)
    _check_levels(b.a, venue)
    return BookSnapshot(venue=venue, symbol=symbol, bids=tuple(b.b[:depth]),
                        asks=tuple(b.a[:depth]), sequence=b.u, ts_ms=b.ts)
