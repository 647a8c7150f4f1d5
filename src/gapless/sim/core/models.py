"""Venue-neutral data types of the simulator core.

Symbols are ``BASE/QUOTE`` strings; each skin maps its own spelling onto them.
Sides are ``"BUY"``/``"SELL"``; order types ``"LIMIT"``, ``"MARKET"``, ``"LIMIT_MAKER"``;
time in force ``"GTC"``, ``"IOC"``, ``"FOK"``. Statuses: ``NEW``, ``PARTIALLY_FILLED``,
``FILLED``, ``CANCELED``, ``EXPIRED``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

BUY = "BUY"
SELL = "SELL"
LIMIT = "LIMIT"
MARKET = "MARKET"
LIMIT_MAKER = "LIMIT_MAKER"
GTC = "GTC"
IOC = "IOC"
FOK = "FOK"

NEW = "NEW"
PARTIALLY_FILLED = "PARTIALLY_FILLED"
FILLED = "FILLED"
CANCELED = "CANCELED"
EXPIRED = "EXPIRED"

OPEN_STATUSES = frozenset({NEW, PARTIALLY_FILLED})

MM_ACCOUNT = "__liquidity__"


@dataclass(frozen=True)
class SymbolSpec:
    base: str
    quote: str
    tick: Decimal
    step: Decimal
    min_qty: Decimal
    max_qty: Decimal
    min_notional: Decimal
    max_notional: Decimal
    min_price: Decimal
    max_price: Decimal
    initial_mid: Decimal

    @property
    def symbol(self) -> str:
        return f"{self.base}/{self.quote}"


@dataclass
class Fill:
    trade_id: int
    order_id: int
    symbol: str
    side: str
    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    fee: Decimal
    fee_asset: str
    is_maker: bool
    time: int
    account: str


@dataclass
class Order:
    order_id: int
    client_id: str
    account: str
    symbol: str
    side: str
    type: str
    tif: str
    price: Decimal | None
    qty: Decimal | None
    quote_qty: Decimal | None
    created: int
    updated: int
    status: str = NEW
    filled: Decimal = Decimal(0)
    cum_quote: Decimal = Decimal(0)
    locked: Decimal = Decimal(0)  # amount still locked for this order (quote for buys, base for sells)
    fills: list[Fill] = field(default_factory=list)
    seq: int = 0  # time priority within a price level

    @property
    def client_order_id(self) -> str:
        """Alias of ``client_id`` (the name the engine's tests use)."""
        return self.client_id

    @property
    def remaining(self) -> Decimal:
        if self.qty is None:
            return Decimal(0)
        return self.qty - self.filled

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_synthetic(self) -> bool:
        return self.account == MM_ACCOUNT


class Rejection(Exception):
    """An order the engine refuses. ``reason`` is venue-neutral; ``detail`` refines it.

    reasons: unknown_symbol, filter (detail = PRICE_FILTER / LOT_SIZE / MARKET_LOT_SIZE / NOTIONAL),
    precision (detail = parameter name), insufficient_balance, would_take,
    duplicate_client_id, bad_param (detail = parameter name).
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class UnknownOrder(Exception):
    pass


# ----- events pushed to subscribers (called synchronously; copy what you need) -----


@dataclass
class OrderEvent:
    order: Order
    exec_type: str  # NEW, TRADE, CANCELED, EXPIRED
    fill: Fill | None
    time: int


@dataclass
class BalanceEvent:
    account: str
    balances: dict[str, tuple[Decimal, Decimal]]  # asset -> (free, locked)
    time: int


@dataclass
class BookDelta:
    symbol: str
    first_id: int
    last_id: int
    bids: list[tuple[Decimal, Decimal]]  # absolute level quantity; 0 removes the level
    asks: list[tuple[Decimal, Decimal]]
    time: int


@dataclass
class TradeEvent:
    symbol: str
    trade_id: int
    price: Decimal
    qty: Decimal
    taker_side: str
    time: int


Event = OrderEvent | BalanceEvent | BookDelta | TradeEvent
