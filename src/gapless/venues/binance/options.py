"""Binance adapter options (``[venues.NAME] options = {...}``), typed and checked once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Self

from gapless.model import OrderType, TimeInForce
from gapless.venues.base import Capabilities, ClientIdRule
from gapless.venues.binance.translate import CLIENT_ID_RE
from gapless.venues.common.options import (
    DEFAULT_RECV_WINDOW_MS,
    VenueOptions,
    float_option,
    int_option,
    recv_window_ms,
)

#: Binance refuses a recvWindow above a minute
MAX_RECV_WINDOW_MS = 60_000
#: the deepest REST snapshot ``/api/v3/depth`` serves
MAX_BOOK_DEPTH = 5000
#: a listen key lapses after 60 minutes without a keepalive
MAX_KEEPALIVE_S = 3600.0


class BinanceOptions(VenueOptions, frozen=True, kw_only=True):
    """``recv_window`` (ms, the request validity bound), ``book_depth`` (levels kept by
    ``watch_book``), ``listen_key_keepalive_s`` (user-stream keepalive period)."""

    family = "binance"
    recv_window: int = DEFAULT_RECV_WINDOW_MS
    book_depth: int = 20
    listen_key_keepalive_s: float = 1800.0

    @classmethod
    def _convert(cls, options: Mapping[str, str], venue: str | None) -> Self:
        f = cls.family
        return cls(
            recv_window=recv_window_ms(options, maximum=MAX_RECV_WINDOW_MS, family=f,
                                       venue=venue),
            book_depth=int_option(options, "book_depth", 20, low=1, high=MAX_BOOK_DEPTH,
                                  family=f, venue=venue),
            listen_key_keepalive_s=float_option(
                options, "listen_key_keepalive_s", 1800.0, low=0.0, high=MAX_KEEPALIVE_S,
                family=f, venue=venue),
        )


#: what this adapter can do: every order type and time in force (post-only is LIMIT_MAKER),
#: ids of ``[A-Za-z0-9_-]{1,36}``; no batch, WebSocket entry or amend (yet)
CAPABILITIES = Capabilities(
    order_types=frozenset(OrderType),
    time_in_force=frozenset(TimeInForce),
    client_id=ClientIdRule(pattern=CLIENT_ID_RE.pattern, max_length=36),
)
