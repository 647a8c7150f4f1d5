"""Bybit adapter options (``[venues.NAME] options = {...}``), typed and checked once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Self

from gapless.model import OrderType, TimeInForce
from gapless.venues.base import Capabilities, ClientIdRule
from gapless.venues.bybit.translate import CLIENT_ID_RE
from gapless.venues.common.options import (
    DEFAULT_RECV_WINDOW_MS,
    VenueOptions,
    int_option,
    recv_window_ms,
)

#: the longest X-BAPI-RECV-WINDOW we send (a minute, as on Binance)
MAX_RECV_WINDOW_MS = 60_000
#: the deepest spot ``orderbook`` topic
MAX_BOOK_DEPTH = 1000


class BybitOptions(VenueOptions, frozen=True, kw_only=True):
    """``recv_window`` (ms, the request validity bound), ``book_depth`` (levels kept by
    ``watch_book``; the subscribed topic is the next depth Bybit offers)."""

    family = "bybit"
    recv_window: int = DEFAULT_RECV_WINDOW_MS
    book_depth: int = 50

    @classmethod
    def _convert(cls, options: Mapping[str, str], venue: str | None) -> Self:
        f = cls.family
        return cls(
            recv_window=recv_window_ms(options, maximum=MAX_RECV_WINDOW_MS, family=f,
                                       venue=venue),
            book_depth=int_option(options, "book_depth", 50, low=1, high=MAX_BOOK_DEPTH,
                                  family=f, venue=venue),
        )


#: what this adapter can do: every order type and time in force (``PostOnly``), ids
#: (``orderLinkId``) of ``[A-Za-z0-9_-]{1,36}``; no batch, WebSocket entry or amend (yet)
CAPABILITIES = Capabilities(
    order_types=frozenset(OrderType),
    time_in_force=frozenset(TimeInForce),
    client_id=ClientIdRule(pattern=CLIENT_ID_RE.pattern, max_length=36),
)
