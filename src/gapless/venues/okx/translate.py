"""OKX wire format <-> the unified schema.

Requests: an ``Order`` becomes the JSON body of ``POST /api/v5/trade/order`` with prices and
sizes formatted to the instrument's tick/lot. Responses are decoded strictly with msgspec;
numbers arrive as strings and empty strings mean "none" (``px`` of a market order,
``avgPx`` before the first fill), so those fields are parsed by hand. Any type or value
error raises ``MalformedResponse``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import TypeVar

import msgspec
import orjson

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
)
from gapless.model.errors import InvalidIntent, MalformedResponse
from gapless.venues.common.wire import ZERO, fmt_decimal, lookup, quantum_of

T = TypeVar("T")
VENUE = "okx"

CLIENT_ID_RE = re.compile(r"[A-Za-z0-9]{1,32}")
POST_ONLY_CANCEL_SOURCE = "31"

STATE_MAP: dict[str, OrderState] = {
    "live": OrderState.ACCEPTED,
    "partially_filled": OrderState.PARTIALLY_FILLED,
    "filled": OrderState.FILLED,
    "canceled": OrderState.CANCELED,
    "mmp_canceled": OrderState.CANCELED,
}
SIDE_MAP: dict[str, Side] = {"buy": Side.BUY, "sell": Side.SELL}
_ORD_TYPE: dict[TimeInForce, str] = {
    TimeInForce.GTC: "limit",
    TimeInForce.IOC: "ioc",
    TimeInForce.FOK: "fok",
    TimeInForce.POST_ONLY: "post_only",
}


def state_of(state: str, venue: str = VENUE) -> OrderState:
    return lookup(STATE_MAP, state, "order state", venue)


def side_of(side: str, venue: str = VENUE) -> Side:
    return lookup(SIDE_MAP, side, "side", venue)


def num(raw: str, what: str, venue: str = VENUE, *, empty: Decimal | None = None) -> Decimal:
    """A non-negative finite decimal from a venue string; ``""`` -> ``empty`` if allowed."""
    if raw == "" and empty is not None:
        return empty
    try:
        v = Decimal(raw)
    except (InvalidOperation, ValueError):
        raise MalformedResponse(f"{what} {raw!r} is not a number", venue=venue) from None
    if not v.is_finite() or v < 0:
        raise MalformedResponse(f"{what} {raw!r} is not a non-negative number", venue=venue)
    return v


def signed_num(raw: str, what: str, venue: str = VENUE) -> Decimal:
    if raw == "":
        return ZERO
    try:
        v = Decimal(raw)
    except (InvalidOperation, ValueError):
        raise MalformedResponse(f"{what} {raw!r} is not a number", venue=venue) from None
    if not v.is_finite():
        raise MalformedResponse(f"{what} {raw!r} is not finite", venue=venue)
    return v


def ms(raw: str, what: str = "ts", venue: str = VENUE) -> int:
    if raw == "":
        return 0
    if not raw.isdigit():
        raise MalformedResponse(f"{what} {raw!r} is not a millisecond timestamp", venue=venue)
    return int(raw)


class SymbolSpec(msgspec.Struct, frozen=True):
    symbol: str
    inst_id: str
    price_quantum: Decimal
    qty_quantum: Decimal


def spec_for(inst: Instrument) -> SymbolSpec:
    return SymbolSpec(inst.symbol, inst.venue_symbol, quantum_of(inst.tick_size),
                      quantum_of(inst.step_size))


def order_body(spec: SymbolSpec, order: Order) -> str:
    """The exact JSON string to sign and send for ``POST /api/v5/trade/order``."""
    body: dict[str, str] = {
        "instId": spec.inst_id,
        "tdMode": "cash",
        "clOrdId": order.client_order_id,
        "side": "buy" if order.side is Side.BUY else "sell",
    }
    if order.type is OrderType.MARKET:
        body["ordType"] = "market"
        body["tgtCcy"] = "base_ccy"  # sz is base quantity also for market buys
    else:
        if order.price is None:
            raise InvalidIntent("limit orders need a price")
        body["ordType"] = _ORD_TYPE[order.tif]
        body["px"] = fmt_decimal(order.price, spec.price_quantum, "price")
    body["sz"] = fmt_decimal(order.qty, spec.qty_quantum, "quantity")
    return orjson.dumps(body).decode()


# -- wire structs ------------------------------------------------------------------------
class InstrumentWire(msgspec.Struct):
    instType: str
    instId: str
    baseCcy: str
    quoteCcy: str
    tickSz: str
    lotSz: str
    minSz: str
    state: str
    maxLmtSz: str = ""


class AckWire(msgspec.Struct):
    sCode: str
    sMsg: str = ""
    ordId: str = ""
    clOrdId: str = ""


class OrderWire(msgspec.Struct):
    instId: str
    ordId: str
    clOrdId: str
    px: str
    sz: str
    ordType: str
    side: str
    state: str
    accFillSz: str
    avgPx: str
    uTime: str
    cTime: str = ""
    fee: str = ""
    feeCcy: str = ""
    tgtCcy: str = ""
    cancelSource: str = ""
    # last-fill fields (WS pushes carry the fee of that fill)
    tradeId: str = ""
    fillPx: str = ""
    fillSz: str = ""
    fillTime: str = ""
    fillFee: str = ""
    fillFeeCcy: str = ""
    execType: str = ""


class FillWire(msgspec.Struct):
    instId: str
    tradeId: str
    ordId: str
    fillPx: str
    fillSz: str
    side: str
    fee: str
    feeCcy: str
    ts: str
    clOrdId: str = ""
    execType: str = ""
    billId: str = ""


class BalanceDetailWire(msgspec.Struct):
    ccy: str
    availBal: str
    frozenBal: str
    eq: str = ""


class AccountBalanceWire(msgspec.Struct):
    details: list[BalanceDetailWire]


class BooksWire(msgspec.Struct):
    asks: list[list[str]]
    bids: list[list[str]]
    ts: str = ""


class TimeWire(msgspec.Struct):
    ts: str


class Envelope(msgspec.Struct):
    code: str
    data: list[msgspec.Raw]
    msg: str = ""


def decoder(tp: type[T], venue: str = VENUE) -> Callable[[bytes], list[T]]:
    """Strict decoder of ``{"code":"0","data":[T...]}``; failures -> ``MalformedResponse``."""
    env_t = msgspec.defstruct(f"{tp.__name__}Env", [("code", str), ("data", list[tp])])  # type: ignore[valid-type]
    dec = msgspec.json.Decoder(env_t).decode

    def decode(body: bytes) -> list[T]:
        try:
            env = dec(body)
        except msgspec.DecodeError as exc:
            raise MalformedResponse(f"bad {tp.__name__} answer: {exc}", venue=venue) from None
        data: list[T] = env.data  # type: ignore[attr-defined]
        return data

    return decode


decode_instruments = decoder(InstrumentWire)
decode_acks = decoder(AckWire)
decode_orders = decoder(OrderWire)
decode_fills = decoder(FillWire)
decode_balance = decoder(AccountBalanceWire)
decode_books = decoder(BooksWire)
decode_time = decoder(TimeWire)


# -- conversions -----------------------------------------------------------------------
def _positive(raw: str, what: str, venue: str) -> Decimal:
    v = num(raw, what, venue)
    if v <= 0:
        raise MalformedResponse(f"{what} {raw!r} is not positive", venue=venue)
    return v


def instruments_from(ws: list[InstrumentWire], venue: str) -> dict[str, Instrument]:
    out: dict[str, Instrument] = {}
    for w in ws:
        if w.instType != "SPOT" or w.state != "live":
            continue
        if not w.baseCcy.isalnum() or not w.quoteCcy.isalnum():
            raise MalformedResponse(f"bad currencies in {w.instId!r}", venue=venue)
        symbol = f"{w.baseCcy.upper()}/{w.quoteCcy.upper()}"
        max_qty = num(w.maxLmtSz, "maxLmtSz", venue, empty=ZERO)
        out[symbol] = Instrument(
            venue=venue,
            symbol=symbol,
            venue_symbol=w.instId,
            base=w.baseCcy.upper(),
            quote=w.quoteCcy.upper(),
            tick_size=_positive(w.tickSz, "tickSz", venue),
            step_size=_positive(w.lotSz, "lotSz", venue),
            min_qty=num(w.minSz, "minSz", venue),
            max_qty=max_qty,
        )
    return out


def report_from(w: OrderWire, symbol: str, venue: str, fills: tuple[Fill, ...] = ()) -> OrderReport:
    side = side_of(w.side, venue)
    filled = num(w.accFillSz, "accFillSz", venue, empty=ZERO)
    avg = num(w.avgPx, "avgPx", venue, empty=ZERO)
    price = num(w.px, "px", venue, empty=ZERO)
    if w.ordType == "market" and w.tgtCcy == "quote_ccy":
        qty = filled  # sized in quote: the base quantity is only known once filled
    else:
        qty = _positive(w.sz, "sz", venue)
    if not w.ordId:
        raise MalformedResponse("order without ordId", venue=venue)
    return OrderReport(
        venue=venue,
        symbol=symbol,
        client_order_id=w.clOrdId,
        venue_order_id=w.ordId,
        state=state_of(w.state, venue),
        side=side,
        qty=qty,
        price=price or None,
        filled_qty=filled,
        quote_filled=filled * avg,
        fills=fills,
        ts_ms=ms(w.uTime, "uTime", venue),
    )


def fill_from_push(w: OrderWire, symbol: str, venue: str) -> Fill | None:
    """The fill a WS ``orders`` push carries (``None`` when it is not a fill event)."""
    if not w.tradeId:
        return None
    qty = num(w.fillSz, "fillSz", venue, empty=ZERO)
    if qty <= 0:
        return None
    return Fill(
        venue=venue,
        trade_id=w.tradeId,
        symbol=symbol,
        side=side_of(w.side, venue),
        qty=qty,
        price=_positive(w.fillPx, "fillPx", venue),
        fee=-signed_num(w.fillFee, "fillFee", venue),  # OKX: negative = charged
        fee_asset=w.fillFeeCcy,
        is_maker=w.execType == "M",
        ts_ms=ms(w.fillTime, "fillTime", venue),
        client_order_id=w.clOrdId,
        venue_order_id=w.ordId,
    )


def fill_from(w: FillWire, symbol: str, venue: str, client_order_id: str = "") -> Fill:
    if not w.tradeId:
        raise MalformedResponse("fill without tradeId", venue=venue)
    return Fill(
        venue=venue,
        trade_id=w.tradeId,
        symbol=symbol,
        side=side_of(w.side, venue),
        qty=_positive(w.fillSz, "fillSz", venue),
        price=_positive(w.fillPx, "fillPx", venue),
        fee=-signed_num(w.fee, "fee", venue),
        fee_asset=w.feeCcy,
        is_maker=w.execType == "M",
        ts_ms=ms(w.ts, "ts", venue),
        client_order_id=w.clOrdId or client_order_id,
        venue_order_id=w.ordId,
    )


def balances_from(ws: list[AccountBalanceWire], venue: str) -> dict[str, Balance]:
    if len(ws) != 1:
        raise MalformedResponse(f"expected one account, got {len(ws)}", venue=venue)
    out: dict[str, Balance] = {}
    for d in ws[0].details:
        out[d.ccy] = Balance(asset=d.ccy, free=num(d.availBal, "availBal", venue, empty=ZERO),
                             locked=num(d.frozenBal, "frozenBal", venue, empty=ZERO))
    return out


def levels_from(raw: list[list[str]], what: str, venue: str) -> list[BookLevel]:
    out = []
    for lv in raw:
        if len(lv) < 2:
            raise MalformedResponse(f"short {what} level {lv!r}", venue=venue)
        out.append(BookLevel(num(lv[0], f"{what} price", venue), num(lv[1], f"{what} size", venue)))
    return out


def book_from(ws: list[BooksWire], symbol: str, venue: str, depth: int) -> BookSnapshot:
    if len(ws) != 1:
        raise MalformedResponse(f"expected one book, got {len(ws)}", venue=venue)
    w = ws[0]
    bids = levels_from(w.bids, "bid", venue)[:depth]
    asks = levels_from(w.asks, "ask", venue)[:depth]
    for side in (bids, asks):
        if any(lv.price <= 0 or lv.qty <= 0 for lv in side):
            raise MalformedResponse("non-positive book level", venue=venue)
    if [lv.price for lv in bids] != sorted((lv.price for lv in bids), reverse=True) or [
        lv.price for lv in asks
    ] != sorted(lv.price for lv in asks):
        raise MalformedResponse("book levels out of order", venue=venue)
    return BookSnapshot(venue=venue, symbol=symbol, bids=tuple(bids), asks=tuple(asks),
                        ts_ms=ms(w.ts, "ts", venue))
