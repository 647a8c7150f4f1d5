"""Venue-neutral simulator core: accounts, books, matching, liquidity, faults."""

from .accounts import Account
from .book import OrderBook
from .exchange import Exchange
from .faults import Faults
from .liquidity import Liquidity
from .models import (
    BalanceEvent,
    BookDelta,
    Fill,
    Order,
    OrderEvent,
    Rejection,
    SymbolSpec,
    TradeEvent,
    UnknownOrder,
)

__all__ = [
    "Account", "BalanceEvent", "BookDelta", "Exchange", "Faults", "Fill", "Liquidity", "Order",
    "OrderBook", "OrderEvent", "Rejection", "SymbolSpec", "TradeEvent", "UnknownOrder",
]
