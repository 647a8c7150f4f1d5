"""Coinbase adapter options (``[venues.NAME] options = {...}``), typed and checked once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Self
from urllib.parse import urlsplit

from gapless.model import OrderType, TimeInForce
from gapless.model.errors import ConfigError
from gapless.venues.base import Capabilities, ClientIdRule
from gapless.venues.coinbase.auth import TOKEN_LIFETIME_S
from gapless.venues.common.options import (
    DEFAULT_RECV_WINDOW_MS,
    VenueOptions,
    int_option,
    recv_window_ms,
)


class CoinbaseOptions(VenueOptions, frozen=True, kw_only=True):
    """``recv_window`` (ms; the JWT lives its ceiling in whole seconds, at most 120 s),
    ``book_depth`` (levels kept by ``watch_book``), ``list_limit`` (page size of list
    calls), ``jwt_host`` (the host the JWT's ``uri`` claim names; default: the REST URL's),
    ``user_ws_url`` (the private stream's URL; default: ``ws_url``)."""

    family = "coinbase"
    recv_window: int = DEFAULT_RECV_WINDOW_MS
    book_depth: int = 50
    list_limit: int = 250
    jwt_host: str = ""
    user_ws_url: str = ""

    @classmethod
    def _convert(cls, options: Mapping[str, str], venue: str | None) -> Self:
        f = cls.family
        jwt_host = options.get("jwt_host", "").strip()
        if jwt_host and (not jwt_host.isascii() or any(c.isspace() or c in "/@" for c in jwt_host)):
            raise ConfigError(f"{f}: option jwt_host must be host[:port], got {jwt_host!r}",
                              venue=venue)
        user_ws_url = options.get("user_ws_url", "").strip()
        if user_ws_url and urlsplit(user_ws_url).scheme.lower() not in ("ws", "wss"):
            raise ConfigError(f"{f}: option user_ws_url must start with ws:// or wss://, "
                              f"got {user_ws_url!r}", venue=venue)
        return cls(
            recv_window=recv_window_ms(options, maximum=TOKEN_LIFETIME_S * 1000, family=f,
                                       venue=venue),
            book_depth=int_option(options, "book_depth", 50, low=1, high=10_000, family=f,
                                  venue=venue),
            list_limit=int_option(options, "list_limit", 250, low=1, high=1000, family=f,
                                  venue=venue),
            jwt_host=jwt_host,
            user_ws_url=user_ws_url,
        )


#: what this adapter can do: limit GTC (optionally post-only), IOC and FOK, market IOC;
#: client ids are UUIDs derived from the intent id; no batch, WebSocket entry or edit (yet)
CAPABILITIES = Capabilities(
    order_types=frozenset(OrderType),
    time_in_force=frozenset(TimeInForce),
    client_id=ClientIdRule(
        pattern=r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", max_length=36),
)
