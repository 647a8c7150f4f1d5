"""Venue-neutral schema, order state machine and error tree."""

from gapless.model.errors import *  # noqa: F403
from gapless.model.events import EventGap, OrderEvent
from gapless.model.schema import (
    Balance,
    BookDelta,
    BookLevel,
    BookSnapshot,
    Fill,
    Instrument,
    Order,
    OrderIntent,
    OrderReport,
    OrderState,
    OrderType,
    Side,
    StageTimes,
    TimeInForce,
    Trade,
    canonical_symbol,
    split_symbol,
)

__all__ = [
    "Balance",
    "BookDelta",
    "BookLevel",
    "BookSnapshot",
    "EventGap",
    "Fill",
    "Instrument",
    "Order",
    "OrderEvent",
    "OrderIntent",
    "OrderReport",
    "OrderState",
    "OrderType",
    "Side",
    "StageTimes",
    "TimeInForce",
    "Trade",
    "canonical_symbol",
    "split_symbol",
]
