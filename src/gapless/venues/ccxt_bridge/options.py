"""The ccxt bridge's options (``[venues.NAME] options = {...}`` plus ``exchange``), typed.

The same rule as the native venues: a key the bridge does not read is a ``ConfigError``
naming it (at config load and when the bridge is built), and every value is converted
with a message naming the option, never an ``int()``/``float()`` traceback. ``recv_window``
is checked here as a whole number; its per-exchange maximum is checked by ``validity``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Self

from gapless.model.errors import ConfigError
from gapless.venues.common.options import (
    DEFAULT_RECV_WINDOW_MS,
    VenueOptions,
    bool_option,
    float_option,
    int_option,
)

_MAX_SECONDS = 3600.0
_NO_MAX_MS = 10**12 - 1


class CcxtOptions(VenueOptions, frozen=True, kw_only=True):
    """``exchange`` (the ccxt id), ``recv_window`` (ms), ``poll_interval_s`` (polled
    streams), ``book_depth``, ``reconnect_cap_s`` (stream back-off cap), ``rate_limit_ms``
    (ms between requests; 0: ccxt's own figure), ``rate_window_s`` (the limiter's window),
    ``header_limits`` (follow the venue's usage headers: on/off)."""

    family = "ccxt"
    exchange: str = ""
    recv_window: int = DEFAULT_RECV_WINDOW_MS
    poll_interval_s: float = 1.0
    book_depth: int = 20
    reconnect_cap_s: float = 5.0
    rate_limit_ms: int = 0
    rate_window_s: float = 1.0
    header_limits: bool = True

    @classmethod
    def _convert(cls, options: Mapping[str, str], venue: str | None) -> Self:
        exchange = str(options.get("exchange", "")).strip()
        if not exchange:
            raise ConfigError('driver "ccxt" needs exchange = "<ccxt id>"', venue=venue)
        f = f"ccxt {exchange}"
        return cls(
            exchange=exchange,
            recv_window=int_option(options, "recv_window", DEFAULT_RECV_WINDOW_MS, low=1,
                                   high=_NO_MAX_MS, family=f, venue=venue),
            poll_interval_s=float_option(options, "poll_interval_s", 1.0, low=0.0,
                                         high=_MAX_SECONDS, family=f, venue=venue),
            book_depth=int_option(options, "book_depth", 20, low=1, high=5000, family=f,
                                  venue=venue),
            reconnect_cap_s=float_option(options, "reconnect_cap_s", 5.0, low=0.0,
                                         high=_MAX_SECONDS, family=f, venue=venue),
            rate_limit_ms=int_option(options, "rate_limit_ms", 0, low=0, high=600_000,
                                     family=f, venue=venue),
            rate_window_s=float_option(options, "rate_window_s", 1.0, low=0.0,
                                       high=_MAX_SECONDS, family=f, venue=venue),
            header_limits=bool_option(options, "header_limits", True, family=f, venue=venue),
        )
