"""Binance wire format <-> the unified schema.

Requests: an ``Order`` becomes a query string built directly from precomputed
per-symbol data (prices/quantities formatted to tick/step, never in exponent notation).
Responses are decoded strictly with msgspec: malformed JSON, wrong types or missing
fields raise ``MalformedResponse``.
"""

from __future__ import annotations

import re
from decimal import Decimal

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
from gapless.venues.common.wire import (
    ZERO,
    fmt_decimal,
    lookup,
    quantum_of,
    strict_decoder,
)

CLIENT_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,36}")

STATUS_MAP: dict[str, OrderState] = {
    "NEW": OrderState.ACCEPTED,
    "PENDING_NEW": OrderState.ACCEPTED,
    "PARTIALLY_FILLED": OrderState.PARTIALLY_FILLED,
    "FILLED": OrderState.FILLED,
    "CANCELED": OrderState.CANCELED,
    "PENDING_CANCEL": OrderState.PENDING_CANCEL,
    "EXPIRED": OrderState.CANCELED,
    "EXPIRED_IN_MATCH": OrderState.CANCELED,
    "REJECTED": OrderState.REJECTED,
}
SIDE_MAP: dict[str, Side] = {"BUY": Side.BUY, "SELL": Side.SELL}
_SIDE_OUT: dict[Side, str] = {Side.BUY: "BUY", Side.SELL: "SELL"}
_LIMIT_TIF: dict[TimeInForce, str] = {
    TimeInForce.GTC: "&type=LIMIT&timeInForce=GTC",
    TimeInForce.IOC: "&type=LIMIT&timeInForce=IOC",
    TimeInForce.FOK: "&type=LIMIT&timeInForce=FOK",
    TimeInForce.POST_ONLY: "&type=LIMIT_MAKER",
}


def state_of(status: str, venue: str = "binance") -> OrderState:
    return lookup(STATUS_MAP, status, "order status", venue)


def side_of(side: str, venue: str = "binance") -> Side:
    return lookup(SIDE_MAP, side, "side", venue)


class SymbolSpec(msgspec.Struct, frozen=True):
    """Per-symbol data precomputed once so the order path does no lookups or parsing."""

    symbol: str
    venue_symbol: str
    price_quantum: Decimal
    qty_quantum: Decimal
    prefix: str  # "symbol=BTCUSDT"


def spec_for(inst: Instrument) -> SymbolSpec:
    return SymbolSpec(
        inst.symbol,
        inst.venue_symbol,
        quantum_of(inst.tick_size),
        quantum_of(inst.step_size),
        "symbol=" + inst.venue_symbol,
    )


def order_query(spec: SymbolSpec, order: Order) -> str:
    """The ``POST /api/v3/order`` parameters without ``recvWindow/timestamp/signature``."""
    cid = order.client_order_id
    if CLIENT_ID_RE.fullmatch(cid) is None:
        raise InvalidIntent(f"client order id {cid!r} is not valid for binance")
    qty = fmt_decimal(order.qty, spec.qty_quantum, "quantity")
    if order.type is OrderType.MARKET:
        return (
            f"{spec.prefix}&side={_SIDE_OUT[order.side]}&type=MARKET&quantity={qty}"
            f"&newClientOrderId={cid}&newOrderRespType=FULL"
        )
    if order.price is None:
        raise InvalidIntent("limit order without price")
    price = fmt_decimal(order.price, spec.price_quantum, "price")
    return (
        f"{spec.prefix}&side={_SIDE_OUT[order.side]}{_LIMIT_TIF[order.tif]}"
        f"&quantity={qty}&price={price}&newClientOrderId={cid}&newOrderRespType=FULL"
    )


# -- wire structs ----------------------------------------------------------------------
class _Filter(msgspec.Struct):
    filterType: str
    minPrice: Decimal = ZERO
    maxPrice: Decimal = ZERO
    tickSize: Decimal = ZERO
    minQty: Decimal = ZERO
    maxQty: Decimal = ZERO
    stepSize: Decimal = ZERO
    minNotional: Decimal = ZERO


class _Symbol(msgspec.Struct):
    symbol: str
    baseAsset: str
    quoteAsset: str
    status: str = "TRADING"
    filters: list[_Filter] = []


class RateLimitSpec(msgspec.Struct, frozen=True):
    rateLimitType: str
    interval: str
    intervalNum: int
    limit: int


class ExchangeInfo(msgspec.Struct):
    symbols: list[_Symbol]
    rateLimits: list[RateLimitSpec] = []
    serverTime: int = 0


class OrderFillWire(msgspec.Struct):
    price: Decimal
    qty: Decimal
    tradeId: int
    commission: Decimal = ZERO
    commissionAsset: str = ""


class OrderWire(msgspec.Struct):
    symbol: str
    orderId: int
    clientOrderId: str
    status: str
    side: str = ""
    price: Decimal = ZERO
    origQty: Decimal = ZERO
    executedQty: Decimal = ZERO
    cummulativeQuoteQty: Decimal = ZERO
    transactTime: int = 0
    updateTime: int = 0
    time: int = 0
    origClientOrderId: str | None = None
    fills: list[OrderFillWire] = []


class TradeWire(msgspec.Struct):
    symbol: str
    id: int
    orderId: int
    price: Decimal
    qty: Decimal
    isBuyer: bool
    isMaker: bool
    commission: Decimal = ZERO
    commissionAsset: str = ""
    time: int = 0


class BalanceWire(msgspec.Struct):
    asset: str
    free: Decimal
    locked: Decimal = ZERO


class AccountWire(msgspec.Struct):
    balances: list[BalanceWire]


class DepthWire(msgspec.Struct):
    lastUpdateId: int
    bids: list[BookLevel]
    asks: list[BookLevel]


class ListenKeyWire(msgspec.Struct):
    listenKey: str


class ServerTimeWire(msgspec.Struct):
    serverTime: int


decode_exchange_info = strict_decoder(ExchangeInfo, "binance")
decode_order = strict_decoder(OrderWire, "binance")
decode_orders = strict_decoder(list[OrderWire], "binance")
decode_trades = strict_decoder(list[TradeWire], "binance")
decode_account = strict_decoder(AccountWire, "binance")
decode_depth = strict_decoder(DepthWire, "binance")
decode_listen_key = strict_decoder(ListenKeyWire, "binance")
decode_server_time = strict_decoder(ServerTimeWire, "binance")


# -- conversions -----------------------------------------------------------------------
def _positive(v: Decimal, what: str, venue: str) -> Decimal:
    if not v.is_finite() or v <= 0:
        raise MalformedResponse(f"{what} {v} is not a positive number", venue=venue)
    return v


def _non_negative(v: Decimal, what: str, venue: str) -> Decimal:
    if not v.is_finite() or v < 0:
        raise MalformedResponse(f"{what} {v} is not a non-negative number", venue=venue)
    return v


def instruments_from(info: ExchangeInfo, venue: str) -> dict[str, Instrument]:
    out: dict[str, Instrument] = {}
    for s in info.symbols:
        f = {flt.filterType: flt for flt in s.filters}
        price = f.get("PRICE_FILTER")
        lot = f.get("LOT_SIZE")
        notional = f.get("NOTIONAL") or f.get("MIN_NOTIONAL")
        symbol = canonical_symbol(s.baseAsset, s.quoteAsset)
        for v in (price, lot, notional):
            if v is not None:
                for val in (v.minPrice, v.maxPrice, v.tickSize, v.minQty, v.maxQty,
                            v.stepSize, v.minNotional):
                    _non_negative(val, "filter value", venue)
        out[symbol] = Instrument(
            venue=venue,
            symbol=symbol,
            venue_symbol=s.symbol,
            base=s.baseAsset.upper(),
            quote=s.quoteAsset.upper(),
            tick_size=price.tickSize if price else ZERO,
            step_size=lot.stepSize if lot else ZERO,
            min_qty=lot.minQty if lot else ZERO,
            max_qty=lot.maxQty if lot else ZERO,
            min_notional=notional.minNotional if notional else ZERO,
            min_price=price.minPrice if price else ZERO,
            max_price=price.maxPrice if price else ZERO,
        )
    return out


def report_from(w: OrderWire, symbol: str, venue: str) -> OrderReport:
    """``symbol`` is the canonical symbol (looked up by the caller from ``w.symbol``)."""
    side = side_of(w.side, venue) if w.side else None
    state = state_of(w.status, venue)
    cid = w.origClientOrderId or w.clientOrderId
    vid = str(w.orderId)
    ts = w.transactTime or w.updateTime or w.time
    fills: tuple[Fill, ...] = ()
    if w.fills:
        if side is None:
            raise MalformedResponse("fills without side", venue=venue)
        fills = tuple(
            Fill(
                venue=venue,
                trade_id=str(f.tradeId),
                symbol=symbol,
                side=side,
                qty=_positive(f.qty, "fill qty", venue),
                price=_positive(f.price, "fill price", venue),
                fee=_non_negative(f.commission, "commission", venue),
                fee_asset=f.commissionAsset,
                is_maker=False,
                ts_ms=ts,
                client_order_id=cid,
                venue_order_id=vid,
            )
            for f in w.fills
        )
    return OrderReport(
        venue=venue,
        symbol=symbol,
        client_order_id=cid,
        venue_order_id=vid,
        state=state,
        side=side,
        qty=_non_negative(w.origQty, "origQty", venue),
        price=_non_negative(w.price, "price", venue) or None,
        filled_qty=_non_negative(w.executedQty, "executedQty", venue),
        quote_filled=_non_negative(w.cummulativeQuoteQty, "cummulativeQuoteQty", venue),
        fills=fills,
        ts_ms=ts,
    )


def fill_from_trade(t: TradeWire, symbol: str, venue: str, client_order_id: str = "") -> Fill:
    return Fill(
        venue=venue,
        trade_id=str(t.id),
        symbol=symbol,
        side=Side.BUY if t.isBuyer else Side.SELL,
        qty=_positive(t.qty, "trade qty", venue),
        price=_positive(t.price, "trade price", venue),
        fee=_non_negative(t.commission, "commission", venue),
        fee_asset=t.commissionAsset,
        is_maker=t.isMaker,
        ts_ms=t.time,
        client_order_id=client_order_id,
        venue_order_id=str(t.orderId),
    )


def balances_from(a: AccountWire, venue: str) -> dict[str, Balance]:
    return {
        b.asset: Balance(
            asset=b.asset,
            free=_non_negative(b.free, "free", venue),
            locked=_non_negative(b.locked, "locked", venue),
        )
        for b in a.balances
    }


def _check_levels(levels: list[BookLevel], venue: str) -> None:
    for lv in levels:
        _positive(lv.price, "book price", venue)
        _non_negative(lv.qty, "book qty", venue)


def book_from(d: DepthWire, symbol: str, venue: str, depth: int | None = None) -> BookSnapshot:
    _check_levels(d.bids, venue)
    _check_levels(d.asks, venue)
    bids = sorted(d.bids, key=lambda lv: lv.price, reverse=True)
    asks = sorted(d.asks, key=lambda lv: lv.price)
    if depth is not None:
        bids, asks = bids[:depth], asks[:depth]
    return BookSnapshot(
        venue=venue, symbol=symbol, bids=tuple(bids), asks=tuple(asks), sequence=d.lastUpdateId
    )

