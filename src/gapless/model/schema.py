"""The unified schema: what strategies send and what gapless tracks, venue-neutral.

Money and quantities are ``Decimal`` end to end; venue adapters translate at the edge.
"""

from __future__ import annotations

import enum
import re
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import Any

import msgspec

from gapless.model.errors import FilterViolation, InvalidIntent

ZERO = Decimal(0)

#: Bounds on any quantity or price an intent may carry: far beyond every real order, and
#: tight enough that filter arithmetic can never overflow or fall outside Decimal's
#: 28-digit default context (``1e30 % step`` used to raise ``InvalidOperation``).
MAX_INTEGER_DIGITS = 18
MAX_FRACTION_DIGITS = 18
MAX_SIGNIFICANT_DIGITS = 28
#: plain decimal notation only: ASCII digits, at most one point, no exponent/underscore/space
_PLAIN_DECIMAL = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_MAX_NUMBER_TEXT = 64


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
    parts = symbol.split("/") if isinstance(symbol, str) else []
    if len(parts) != 2 or not all(p.isascii() and p.isalnum() for p in parts):
        raise InvalidIntent(f"symbol must look like BASE/QUOTE, got {_show(symbol)}")
    return parts[0].upper(), parts[1].upper()


def _show(value: object) -> str:
    """``repr`` cut short: a message must not echo megabytes of hostile input."""
    text = str(value) if isinstance(value, Decimal) else repr(value)
    return text if len(text) <= _MAX_NUMBER_TEXT else text[: _MAX_NUMBER_TEXT - 3] + "..."


def _number_problem(value: object) -> str | None:
    """Why ``value`` is no usable quantity/price (``None`` if it is one)."""
    if not isinstance(value, Decimal):
        return f"must be a Decimal, got {type(value).__name__} (floats are not exact)"
    if not value.is_finite():
        return f"must be a finite number, got {value}"
    if value.is_zero() and value.is_signed():
        return "must be positive, got negative zero"
    if value <= 0:
        return f"must be positive, got {_show(value)}"
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite
    integer_digits = max(value.adjusted() + 1, 0)
    fraction_digits = max(-exponent, 0)
    significant = len(digits) - next((i for i, d in enumerate(digits) if d), len(digits))
    if integer_digits > MAX_INTEGER_DIGITS:
        return f"is absurdly large ({integer_digits} digits before the point; at most {MAX_INTEGER_DIGITS})"
    if fraction_digits > MAX_FRACTION_DIGITS:
        return f"has {fraction_digits} decimal places (at most {MAX_FRACTION_DIGITS})"
    if significant > MAX_SIGNIFICANT_DIGITS:
        return f"has {significant} significant digits (at most {MAX_SIGNIFICANT_DIGITS})"
    return None


def check_number(value: object, name: str) -> Decimal:
    """``value`` if it is a sane positive Decimal quantity/price, else ``InvalidIntent``."""
    problem = _number_problem(value)
    if problem is not None:
        raise InvalidIntent(f"{name} {problem}")
    assert isinstance(value, Decimal)
    return value


def parse_decimal(text: object, name: str) -> Decimal:
    """Strict text -> Decimal for quantities and prices; every refusal is ``InvalidIntent``.

    ``Decimal()`` itself accepts ``"0.0_1"``, ``" 1 "``, Arabic-Indic digits, ``"1e30"`` and
    ``"NaN"``; a typo must never become a different order, so only plain notation passes.
    """
    if not isinstance(text, str):
        raise InvalidIntent(f"{name} must be text like '0.01', got {type(text).__name__}")
    if len(text) > _MAX_NUMBER_TEXT or not _PLAIN_DECIMAL.fullmatch(text):
        raise InvalidIntent(
            f"{name} must be a plain decimal number like 0.01 (ASCII digits and one '.', "
            f"no exponent, underscores or spaces), got {_show(text)}"
        )
    return check_number(Decimal(text), name)


def _choice(enum_type: type[enum.StrEnum], value: object, name: str) -> Any:
    if isinstance(value, enum_type):
        return value
    if isinstance(value, str):
        try:
            return enum_type(value.strip().lower())
        except ValueError:
            pass
    allowed = ", ".join(m.value for m in enum_type)
    raise InvalidIntent(f"{name} must be one of {allowed}, got {_show(value)}")


def parse_intent(
    *,
    intent_id: str,
    venue: str,
    symbol: str,
    side: str,
    order_type: str,
    qty: str,
    price: str | None,
    tif: str,
    client_order_id: str | None = None,
) -> OrderIntent:
    """An intent from text fields (CLI, files): a checked ``OrderIntent`` or ``InvalidIntent``."""
    intent = OrderIntent(
        intent_id=intent_id,
        venue=venue,
        symbol=symbol.upper() if isinstance(symbol, str) else symbol,
        side=_choice(Side, side, "side"),
        type=_choice(OrderType, order_type, "type"),
        qty=parse_decimal(qty, "qty"),
        price=None if price is None else parse_decimal(price, "price"),
        tif=_choice(TimeInForce, tif, "tif"),
        client_order_id=client_order_id,
    )
    intent.check()
    return intent


_JSON_DECODER = msgspec.json.Decoder(dict[str, Any], float_hook=Decimal)
_INTENT_FIELDS = frozenset(
    {"intent_id", "venue", "symbol", "side", "type", "qty", "price", "tif", "client_order_id"}
)


def _json_number(value: object, name: str) -> Decimal:
    if isinstance(value, str):
        return parse_decimal(value, name)
    if isinstance(value, int) and not isinstance(value, bool):
        if abs(value) >= 10**MAX_INTEGER_DIGITS:
            raise InvalidIntent(f"{name} is absurdly large (at most {MAX_INTEGER_DIGITS} digits)")
        value = Decimal(value)
    return check_number(value, name)


def decode_intent(raw: bytes | str) -> OrderIntent:
    """A JSON intent, as strictly as ``parse_intent``; any malformed input is ``InvalidIntent``.

    Number fields may be JSON strings (plain notation) or JSON numbers (read exactly, never
    through float); ``msgspec.json.decode(raw, type=OrderIntent)`` would accept ``"0.0_1"``.
    """
    try:
        data = _JSON_DECODER.decode(raw)
    except (msgspec.DecodeError, UnicodeError) as exc:
        raise InvalidIntent(f"intent is not a JSON object: {exc}") from None
    unknown = sorted(set(data) - _INTENT_FIELDS)
    if unknown:
        raise InvalidIntent(f"intent has unknown field(s): {_show(', '.join(unknown))}")
    missing = sorted({"intent_id", "venue", "symbol", "side", "qty"} - set(data))
    if missing:
        raise InvalidIntent(f"intent lacks field(s): {', '.join(missing)}")
    for key in ("intent_id", "venue", "symbol", "client_order_id"):
        if key in data and not (isinstance(data[key], str) or (key == "client_order_id" and data[key] is None)):
            raise InvalidIntent(f"intent field {key} must be a string")
    price = data.get("price")
    intent = OrderIntent(
        intent_id=data["intent_id"],
        venue=data["venue"],
        symbol=data["symbol"].upper(),
        side=_choice(Side, data["side"], "side"),
        type=_choice(OrderType, data.get("type", "limit"), "type"),
        qty=_json_number(data["qty"], "qty"),
        price=None if price is None else _json_number(price, "price"),
        tif=_choice(TimeInForce, data.get("tif", "gtc"), "tif"),
        client_order_id=data.get("client_order_id"),
    )
    intent.check()
    return intent


def _identifier_problem(value: object) -> str | None:
    if not isinstance(value, str):
        return f"must be a string, got {type(value).__name__}"
    if not value:
        return "must not be empty"
    if len(value) > 64:
        return f"must be 1..64 characters, got {len(value)}"
    if not value.isprintable() or value != value.strip():
        return f"must be printable with no surrounding spaces, got {_show(value)}"
    return None


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
        """Raise ``FilterViolation`` if the venue would reject these values.

        Any Decimal is judged without raising anything else: absurd magnitudes are refused
        before the arithmetic, and multiples are tested exactly (``Fraction``), since
        ``Decimal.__mod__`` raises once the quotient passes 28 digits.
        """
        for name, value in (("quantity", qty), ("price", price)):
            problem = None if value is None else _number_problem(value)
            if problem is not None:
                raise FilterViolation(f"{self.symbol}: {name} {problem}")
        if self.step_size > 0 and not _multiple(qty, self.step_size):
            raise FilterViolation(f"{self.symbol}: quantity {qty} not a multiple of step {self.step_size}")
        if qty < self.min_qty:
            raise FilterViolation(f"{self.symbol}: quantity {qty} below minimum {self.min_qty}")
        if self.max_qty > 0 and qty > self.max_qty:
            raise FilterViolation(f"{self.symbol}: quantity {qty} above maximum {self.max_qty}")
        if price is not None:
            if price <= 0:
                raise FilterViolation(f"{self.symbol}: price must be positive")
            if self.tick_size > 0 and not _multiple(price, self.tick_size):
                raise FilterViolation(f"{self.symbol}: price {price} not a multiple of tick {self.tick_size}")
            if price < self.min_price or (self.max_price > 0 and price > self.max_price):
                raise FilterViolation(f"{self.symbol}: price {price} outside venue bounds")
            if self.min_notional > 0 and price * qty < self.min_notional:
                raise FilterViolation(
                    f"{self.symbol}: notional {price * qty} below minimum {self.min_notional}"
                )


def _multiple(value: Decimal, step: Decimal) -> bool:
    return (Fraction(value) / Fraction(step)).denominator == 1


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
        """Structural validation that needs no venue knowledge.

        Also the gate for Python callers, who can build a Struct with any field values:
        every field is type-checked and numbers are bounded before any arithmetic.
        """
        for name, value in (("intent_id", self.intent_id), ("venue", self.venue)):
            problem = _identifier_problem(value)
            if problem is not None:
                raise InvalidIntent(f"{name} {problem}")
        if self.client_order_id is not None:
            problem = _identifier_problem(self.client_order_id)
            if problem is not None:
                raise InvalidIntent(f"client_order_id {problem}")
        split_symbol(self.symbol)
        for name, enum_type, value in (
            ("side", Side, self.side), ("type", OrderType, self.type), ("tif", TimeInForce, self.tif)
        ):
            if not isinstance(value, enum_type):
                raise InvalidIntent(f"{name} must be a {enum_type.__name__}, got {_show(value)}")
        check_number(self.qty, "qty")
        if self.type is OrderType.LIMIT:
            if self.price is None:
                raise InvalidIntent("limit orders need a positive price")
            check_number(self.price, "price")
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
