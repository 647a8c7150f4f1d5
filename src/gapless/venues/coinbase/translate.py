"""Coinbase wire formats <-> the unified schema (venue notes §4.3, §4.8).

Responses are decoded by strict msgspec structs: a missing required field, a wrong type
or a non-finite/negative number raises ``MalformedResponse`` (outcome unknown).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

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
)
from gapless.model.errors import InvalidIntent, MalformedResponse

ZERO = Decimal(0)
#: namespace for deterministic client order ids (uuid5 of the intent id)
CLIENT_ID_NAMESPACE = uuid.UUID("6f1d3c2e-8a4b-5c7d-9e0f-1a2b3c4d5e6f")


def coinbase_client_order_id(intent_id: str) -> str:
    """Deterministic, venue-valid client id: the UUIDv5 of the intent id (36 chars)."""
    return str(uuid.uuid5(CLIENT_ID_NAMESPACE, intent_id))


# ----------------------------------------------------------------------------- wire types
class ProductWire(msgspec.Struct):
    product_id: str
    base_currency_id: str
    quote_currency_id: str
    base_increment: Decimal
    quote_increment: Decimal
    base_min_size: Decimal
    base_max_size: Decimal
    quote_min_size: Decimal = ZERO
    quote_max_size: Decimal = ZERO
    price_increment: Decimal | None = None
    product_type: str = "SPOT"
    status: str = "online"
    trading_disabled: bool = False
    is_disabled: bool = False


class ProductsWire(msgspec.Struct):
    products: list[ProductWire]


class LevelWire(msgspec.Struct):
    price: Decimal
    size: Decimal


class PricebookWire(msgspec.Struct):
    product_id: str
    bids: list[LevelWire]
    asks: list[LevelWire]
    time: str = ""


class ProductBookWire(msgspec.Struct):
    pricebook: PricebookWire


class SuccessWire(msgspec.Struct):
    order_id: str
    product_id: str = ""
    side: str = ""
    client_order_id: str = ""


class ErrorResponseWire(msgspec.Struct):
    error: str = ""
    message: str = ""
    error_details: str = ""
    preview_failure_reason: str = ""
    new_order_failure_reason: str = ""


class CreateWire(msgspec.Struct):
    success: bool
    success_response: SuccessWire | None = None
    error_response: ErrorResponseWire | None = None
    failure_reason: str = ""


class OrderWire(msgspec.Struct):
    order_id: str
    product_id: str
    side: str
    client_order_id: str
    status: str
    filled_size: Decimal
    filled_value: Decimal
    order_configuration: dict[str, dict[str, Any]]
    created_time: str = ""
    total_fees: Decimal = ZERO
    number_of_fills: str = "0"
    order_type: str = ""
    time_in_force: str = ""
    last_fill_time: str | None = None


class OrderEnvelope(msgspec.Struct):
    order: OrderWire


class OrdersWire(msgspec.Struct):
    orders: list[OrderWire]
    has_next: bool = False
    cursor: str = ""


class FillWire(msgspec.Struct):
    trade_id: str
    order_id: str
    product_id: str
    price: Decimal
    size: Decimal
    side: str
    commission: Decimal = ZERO
    trade_time: str = ""
    liquidity_indicator: str = ""
    size_in_quote: bool = False


class FillsWire(msgspec.Struct):
    fills: list[FillWire]
    cursor: str = ""


class CancelResultWire(msgspec.Struct):
    success: bool
    order_id: str
    failure_reason: str = ""


class CancelWire(msgspec.Struct):
    results: list[CancelResultWire]


class AmountWire(msgspec.Struct):
    value: Decimal
    currency: str


class AccountWire(msgspec.Struct):
    currency: str
    available_balance: AmountWire
    hold: AmountWire | None = None


class AccountsWire(msgspec.Struct):
    accounts: list[AccountWire]
    has_next: bool = False
    cursor: str = ""


class TimeWire(msgspec.Struct):
    epochMillis: str


def _decoder(tp: Any) -> Any:
    dec = msgspec.json.Decoder(tp)
    name = getattr(tp, "__name__", str(tp))

    def decode(body: bytes, venue: str = "coinbase") -> Any:
        try:
            return dec.decode(body)
        except (msgspec.DecodeError, ValueError) as exc:
            raise MalformedResponse(f"unparseable {name}: {exc}", venue=venue) from None

    return decode


decode_products = _decoder(ProductsWire)
decode_product_book = _decoder(ProductBookWire)
decode_create = _decoder(CreateWire)
decode_order = _decoder(OrderEnvelope)
decode_orders = _decoder(OrdersWire)
decode_fills = _decoder(FillsWire)
decode_cancel = _decoder(CancelWire)
decode_accounts = _decoder(AccountsWire)
decode_time = _decoder(TimeWire)


# ----------------------------------------------------------------------------- helpers
def _num(v: Decimal, what: str, venue: str) -> Decimal:
    if not v.is_finite() or v < 0:
        raise MalformedResponse(f"{what} {v} is not a non-negative number", venue=venue)
    return v


def product_id(symbol: str) -> str:
    return symbol.replace("/", "-")


def side_of(raw: str, venue: str) -> Side:
    if raw == "BUY":
        return Side.BUY
    if raw == "SELL":
        return Side.SELL
    raise MalformedResponse(f"unknown side {raw!r}", venue=venue)


def ts_ms(raw: str | None) -> int:
    if not raw:
        return 0
    try:
        s = raw.rstrip("Z")
        if "." in s:
            head, frac = s.split(".", 1)
            s = f"{head}.{frac[:6]}"
        return int(datetime.fromisoformat(s + "+00:00").timestamp() * 1000)
    except ValueError:
        return 0


def state_of(status: str, filled: Decimal, venue: str) -> OrderState:
    if status in ("OPEN", "PENDING", "QUEUED", "EDIT_QUEUED"):
        return OrderState.PARTIALLY_FILLED if filled > 0 else OrderState.ACCEPTED
    if status == "CANCEL_QUEUED":
        return OrderState.PENDING_CANCEL
    if status == "FILLED":
        return OrderState.FILLED
    if status in ("CANCELLED", "EXPIRED"):
        return OrderState.CANCELED
    if status == "FAILED":
        return OrderState.REJECTED
    raise MalformedResponse(f"unknown order status {status!r}", venue=venue)


def instruments_from(products: ProductsWire, venue: str) -> dict[str, Instrument]:
    out: dict[str, Instrument] = {}
    for p in products.products:
        if p.product_type != "SPOT" or p.is_disabled or p.trading_disabled:
            continue
        tick = p.price_increment if p.price_increment else p.quote_increment
        for v, what in ((tick, "price_increment"), (p.base_increment, "base_increment")):
            if not v.is_finite() or v <= 0:
                raise MalformedResponse(f"{p.product_id}: {what} {v} must be positive", venue=venue)
        base, quote = p.base_currency_id.upper(), p.quote_currency_id.upper()
        if not base.isalnum() or not quote.isalnum():
            continue
        symbol = f"{base}/{quote}"
        out[symbol] = Instrument(
            venue=venue, symbol=symbol, venue_symbol=p.product_id, base=base, quote=quote,
            tick_size=tick, step_size=p.base_increment,
            min_qty=_num(p.base_min_size, "base_min_size", venue),
            max_qty=_num(p.base_max_size, "base_max_size", venue),
            min_notional=_num(p.quote_min_size, "quote_min_size", venue),
        )
    return out


def book_from(w: ProductBookWire, symbol: str, venue: str, depth: int) -> BookSnapshot:
    pb = w.pricebook
    for lv in (*pb.bids, *pb.asks):
        if not lv.price.is_finite() or lv.price <= 0 or not lv.size.is_finite() or lv.size < 0:
            raise MalformedResponse("book level with a bad number", venue=venue)
    return BookSnapshot(
        venue=venue, symbol=symbol,
        bids=tuple(BookLevel(lv.price, lv.size) for lv in pb.bids[:depth] if lv.size > 0),
        asks=tuple(BookLevel(lv.price, lv.size) for lv in pb.asks[:depth] if lv.size > 0),
        ts_ms=ts_ms(pb.time),
    )


def order_body(order: Order, inst: Instrument) -> dict[str, Any]:
    """The create-order JSON body for one order."""
    qty = format(order.qty, "f")
    conf: dict[str, Any]
    if order.type is OrderType.MARKET:
        if order.tif not in (TimeInForce.GTC, TimeInForce.IOC):
            raise InvalidIntent(f"coinbase market orders are IOC only, not {order.tif}")
        kind, conf = "market_market_ioc", {"base_size": qty}
    else:
        if order.price is None:
            raise InvalidIntent("limit orders need a price")
        price = format(order.price, "f")
        if order.tif is TimeInForce.GTC:
            kind, conf = "limit_limit_gtc", {"base_size": qty, "limit_price": price, "post_only": False}
        elif order.tif is TimeInForce.POST_ONLY:
            kind, conf = "limit_limit_gtc", {"base_size": qty, "limit_price": price, "post_only": True}
        elif order.tif is TimeInForce.IOC:
            kind, conf = "sor_limit_ioc", {"base_size": qty, "limit_price": price}
        else:
            kind, conf = "limit_limit_fok", {"base_size": qty, "limit_price": price}
    return {
        "client_order_id": order.client_order_id,
        "product_id": inst.venue_symbol,
        "side": "BUY" if order.side is Side.BUY else "SELL",
        "order_configuration": {kind: conf},
    }


def _config_qty_price(conf: dict[str, dict[str, Any]], venue: str) -> tuple[Decimal, Decimal | None]:
    if len(conf) != 1:
        return ZERO, None
    inner = next(iter(conf.values()))
    if not isinstance(inner, dict):
        raise MalformedResponse("order_configuration entry is not an object", venue=venue)

    def num(name: str) -> Decimal | None:
        v = inner.get(name)
        if v in (None, ""):
            return None
        if not isinstance(v, str):
            raise MalformedResponse(f"{name} must be a string", venue=venue)
        try:
            d = Decimal(v)
        except ArithmeticError:
            raise MalformedResponse(f"{name} {v!r} is not a number", venue=venue) from None
        return _num(d, name, venue)

    return num("base_size") or ZERO, num("limit_price")


def report_from_order(w: OrderWire, symbol: str, venue: str,
                      fills: tuple[Fill, ...] = ()) -> OrderReport:
    filled = _num(w.filled_size, "filled_size", venue)
    qty, price = _config_qty_price(w.order_configuration, venue)
    return OrderReport(
        venue=venue, symbol=symbol, client_order_id=w.client_order_id,
        venue_order_id=w.order_id, state=state_of(w.status, filled, venue),
        side=side_of(w.side, venue), qty=qty or filled, price=price, filled_qty=filled,
        quote_filled=_num(w.filled_value, "filled_value", venue), fills=fills,
        ts_ms=ts_ms(w.last_fill_time) or ts_ms(w.created_time),
    )


def fill_from(w: FillWire, symbol: str, quote: str, venue: str, client_order_id: str) -> Fill:
    price = _num(w.price, "price", venue)
    size = _num(w.size, "size", venue)
    if price <= 0 or size <= 0 or not w.trade_id:
        raise MalformedResponse("fill without trade id, price or size", venue=venue)
    qty = size / price if w.size_in_quote else size
    return Fill(
        venue=venue, trade_id=w.trade_id, symbol=symbol, side=side_of(w.side, venue),
        qty=qty, price=price, fee=_num(w.commission, "commission", venue), fee_asset=quote,
        is_maker=w.liquidity_indicator == "MAKER", ts_ms=ts_ms(w.trade_time),
        client_order_id=client_order_id, venue_order_id=w.order_id,
    )


def balances_from(w: AccountsWire, venue: str) -> dict[str, Balance]:
    out: dict[str, Balance] = {}
    for a in w.accounts:
        free = _num(a.available_balance.value, "available_balance", venue)
        locked = _num(a.hold.value, "hold", venue) if a.hold is not None else ZERO
        asset = a.currency.upper()
        prev = out.get(asset)
        if prev is not None:
            free, locked = free + prev.free, locked + prev.locked
        out[asset] = Balance(asset=asset, free=free, locked=locked)
    return out
