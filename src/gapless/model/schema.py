"""The unified schema: what strategies send and what gapless tracks, venue-neutral.

Money and quantities are ``Decimal`` end to end; venue adapters translate at the edge.
"""

from __future__ import annotations

import enum
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_HALF_EVEN, Decimal

import msgspec

from gapless.model.errors import FilterViolation, InvalidIntent

ZERO = Decimal(0)


class Side(enum.StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(enum.StrEnum):
    LIMIT = "limit"
    MARKET = "market"


class TimeInForce(enum.StrEnum):
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"
    POST_ONLY = "post_only"


class OrderState(enum.StrEnum):
    """Lifecycle of one order; see ``gapless.model.fsm`` for the transitions."""

    CREATED = "created"  # journaled, not yet sent
    SUBMITTED = "submitted"  # sent; no answer yet
    UNKNOWN = "unknown"  # send outcome unknown (timeout/5xx/disconnect); being resolved
    ACCEPTED = "accepted"  # resting at the venue
    PARTIALLY_FILLED = "partially_filled"
    PENDING_CANCEL = "pending_cancel"
    FILLED = "filled"
    CANCELED = "canceled"  # includes venue-expired IOC/FOK remainders
    REJECTED = "rejected"
    DENIED = "denied"  # refused locally; never sent

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL

    @property
    def is_open(self) -> bool:
        return not self.is_terminal


_TERMINAL = frozenset(
    {OrderState.FILLED, OrderState.CANCELED, OrderState.REJECTED, OrderState.DENIED}
)


def canonical_symbol(base: str, quote: str) -> str:
    return f"{base.upper()}/{quote.upper()}"


def split_symbol(symbol: str) -> tuple[str, str]:
    """``"BTC/USDT"`` -> ``("BTC", "USDT")``; raises ``InvalidIntent`` otherwise."""
    parts = symbol.split("/")
    if len(parts) != 2 or not all(p.isalnum() for p in parts):
        raise InvalidIntent(f"symbol must look like BASE/QUOTE, got {symbol!r}")
    return parts[0].upper(), parts[1].upper()


class Instrument(msgspec.Struct, frozen=True, kw_only=True):
    """A tradable pair on one venue with the filters its orders must satisfy."""

    venue: str
    symbol: str  # canonical BASE/QUOTE
    venue_symbol: str
    base: str
    quote: str
    tick_size: Decimal
    step_size: Decimal
    min_qty: Decimal = ZERO
    max_qty: Decimal = ZERO  # 0 = unbounded
    min_notional: Decimal = ZERO
    min_price: Decimal = ZERO
    max_price: Decimal = ZERO

    def round_price(self, price: Decimal, side: Side | None = None) -> Decimal:
        """Snap a price to the tick; buys round down and sells round up (never worse)."""
        if self.tick_size <= 0:
            return price
        ticks = price / self.tick_size
        if side is Side.SELL:
            n = ticks.to_integral_value(rounding=ROUND_CEILING)
        elif side is Side.BUY:
            n = ticks.to_integral_value(rounding=ROUND_DOWN)
        else:
            n = ticks.to_integral_value(rounding=ROUND_HALF_EVEN)
        return (n * self.tick_size).quantize(self.tick_size)

    def round_qty(self, qty: Decimal) -> Decimal:
        """Snap a quantity down to the step (never trade more than asked)."""
        if self.step_size <= 0:
            return qty
        n = (qty / self.step_size).to_integral_value(rounding=ROUND_DOWN)
        return (n * self.step_size).quantize(self.step_size)

    def validate(self, qty: Decimal, price: Decimal | None) -> None:
        """Raise ``FilterViolation`` if the venue would reject these values."""
        if qty <= 0:
            raise FilterViolation(f"{self.symbol}: quantity must be positive")
        if self.step_size > 0 and qty % self.step_size != 0:
            raise FilterViolation(f"{self.symbol}: quantity {qty} not a multiple of step {self.step_size}")
        if qty < self.min_qty:
            raise FilterViolation(f"{self.symbol}: quantity {qty} below minimum {self.min_qty}")
        if self.max_qty > 0 and qty > self.max_qty:
            raise FilterViolation(f"{self.symbol}: quantity {qty} above maximum {self.max_qty}")
        if price is not None:
            if price <= 0:
                raise FilterViolation(f"{self.symbol}: price must be positive")
            if self.tick_size > 0 and price % self.tick_size != 0:
                raise FilterViolation(f"{self.symbol}: price {price} not a multiple of tick {self.tick_size}")
            if price < self.min_price or (self.max_price > 0 and price > self.max_price):
                raise FilterViolation(f"{self.symbol}: price {price} outside venue bounds")
            if self.min_notional > 0 and price * qty < self.min_notional:
                raise FilterViolation(
                    f"{self.symbol}: notional {price * qty} below minimum {self.min_notional}"
                )


class OrderIntent(msgspec.Struct, frozen=True, kw_only=True):
    """What a strategy asks for. ``intent_id`` makes resubmission idempotent."""

    intent_id: str
    venue: str
    symbol: str
    side: Side
    type: OrderType
    qty: Decimal
    price: Decimal | None = None
    tif: TimeInForce = TimeInForce.GTC
    client_order_id: str | None = None  # override; normally derived from intent_id

    def check(self) -> None:
        """Structural validation that needs no venue knowledge."""
        if not self.intent_id or len(self.intent_id) > 64:
            raise InvalidIntent("intent_id must be 1..64 characters")
        split_symbol(self.symbol)
        if not self.qty.is_finite() or self.qty <= 0:
            raise InvalidIntent(f"qty must be a positive number, got {self.qty}")
        if self.type is OrderType.LIMIT:
            if self.price is None or not self.price.is_finite() or self.price <= 0:
                raise InvalidIntent("limit orders need a positive price")
        elif self.price is not None:
            raise InvalidIntent("market orders take no price")
        if self.type is OrderType.MARKET and self.tif is TimeInForce.POST_ONLY:
            raise InvalidIntent("market orders cannot be post-only")


class StageTimes(msgspec.Struct, kw_only=True):
    """Wall-clock nanoseconds at each pipeline stage, for latency metrics."""

    intent: int = 0
    checked: int = 0
    journaled: int = 0
    sent: int = 0
    acked: int = 0
    first_fill: int = 0
    done: int = 0
    #: not a stage: the moment (our clock) after which no request sent for this order can
    #: still execute at the venue (its validity bound plus a skew margin); 0 = not known
    expires: int = 0


class Fill(msgspec.Struct, frozen=True, kw_only=True):
    venue: str
    trade_id: str
    symbol: str
    side: Side
    qty: Decimal
    price: Decimal
    fee: Decimal = ZERO
    fee_asset: str = ""
    is_maker: bool = False
    ts_ms: int = 0
    client_order_id: str = ""
    venue_order_id: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.venue, self.trade_id)


class Order(msgspec.Struct, kw_only=True):
    """What gapless tracks for one order; mutated only through ``gapless.model.fsm``."""

    intent_id: str
    venue: str
    symbol: str
    side: Side
    type: OrderType
    qty: Decimal
    price: Decimal | None
    tif: TimeInForce
    client_order_id: str
    state: OrderState = OrderState.CREATED
    venue_order_id: str = ""
    filled_qty: Decimal = ZERO
    quote_filled: Decimal = ZERO  # sum(qty * price) of fills, for the average price
    fees: dict[str, Decimal] = msgspec.field(default_factory=dict)
    fill_ids: list[str] = msgspec.field(default_factory=list)
    reject_reason: str = ""
    times: StageTimes = msgspec.field(default_factory=StageTimes)

    @property
    def avg_price(self) -> Decimal | None:
        if self.filled_qty == 0:
            return None
        return self.quote_filled / self.filled_qty

    @property
    def remaining(self) -> Decimal:
        return self.qty - self.filled_qty


class OrderReport(msgspec.Struct, frozen=True, kw_only=True):
    """A venue's statement about one order (REST answer or stream event)."""

    venue: str
    symbol: str
    client_order_id: str
    venue_order_id: str
    state: OrderState
    side: Side | None = None
    qty: Decimal = ZERO
    price: Decimal | None = None
    filled_qty: Decimal = ZERO
    quote_filled: Decimal = ZERO
    fills: tuple[Fill, ...] = ()
    ts_ms: int = 0


class Balance(msgspec.Struct, frozen=True, kw_only=True):
    asset: str
    free: Decimal
    locked: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.free + self.locked


class BookLevel(msgspec.Struct, frozen=True, array_like=True):
    price: Decimal
    qty: Decimal


class BookSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    venue: str
    symbol: str
    bids: tuple[BookLevel, ...]  # best first
    asks: tuple[BookLevel, ...]
    sequence: int = 0
    ts_ms: int = 0


class BookDelta(msgspec.Struct, frozen=True, kw_only=True):
    """Absolute level updates (qty 0 removes) covering sequences ``first..last``."""

    venue: str
    symbol: str
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]
    first_sequence: int = 0
    last_sequence: int = 0
    ts_ms: int = 0


class Trade(msgspec.Struct, frozen=True, kw_only=True):
    """A public trade print."""

    venue: str
    symbol: str
    trade_id: str
    price: Decimal
    qty: Decimal
    taker_side: Side
    ts_ms: int = 0
