"""OKX adapter options (``[venues.NAME] options = {...}``), typed and checked once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Self

from gapless.model import OrderType, TimeInForce
from gapless.venues.base import Capabilities, ClientIdRule
from gapless.venues.common.options import (
    DEFAULT_RECV_WINDOW_MS,
    VenueOptions,
    bool_option,
    int_option,
    recv_window_ms,
)
from gapless.venues.okx.translate import CLIENT_ID_RE

#: OKX refuses an ``expTime`` further ahead than this
MAX_RECV_WINDOW_MS = 30_000
#: the deepest ``books`` channel keeps 400 levels
MAX_BOOK_DEPTH = 400


class OkxOptions(VenueOptions, frozen=True, kw_only=True):
    """``recv_window`` (ms, sets ``expTime``), ``book_depth`` (levels kept by
    ``watch_book``), ``demo`` (sign for OKX's demo trading: ``x-simulated-trading: 1``)."""

    family = "okx"
    recv_window: int = DEFAULT_RECV_WINDOW_MS
    book_depth: int = 20
    demo: bool = False

    @classmethod
    def _convert(cls, options: Mapping[str, str], venue: str | None) -> Self:
        f = cls.family
        return cls(
            recv_window=recv_window_ms(options, maximum=MAX_RECV_WINDOW_MS, family=f,
                                       venue=venue),
            book_depth=int_option(options, "book_depth", 20, low=1, high=MAX_BOOK_DEPTH,
                                  family=f, venue=venue),
            demo=bool_option(options, "demo", False, family=f, venue=venue),
        )


#: what this adapter can do: every order type and time in force (``ordType`` limit, ioc,
#: fok, post_only), ids (``clOrdId``) of ``[A-Za-z0-9]{1,32}``; no batch, WebSocket entry
#: or amend (yet)
CAPABILITIES = Capabilities(
    order_types=frozenset(OrderType),
    time_in_force=frozenset(TimeInForce),
    client_id=ClientIdRule(pattern=CLIENT_ID_RE.pattern, max_length=32),
)
