"""Kraken adapter options (``[venues.NAME] options = {...}``), typed and checked once.

The nonce-window and rate-counter rules live beside the code they tune (``auth.py``,
``limits.py``); this struct is the one list of keys and runs those rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Self

from gapless.model import OrderType, TimeInForce
from gapless.model.errors import ConfigError
from gapless.venues.base import Capabilities, ClientIdRule
from gapless.venues.common.options import VenueOptions, int_option
from gapless.venues.kraken.auth import nonce_window_from_options
from gapless.venues.kraken.limits import DEFAULT_TIER, TIERS, Tier, tier_from_options

#: the depths Kraken's WebSocket v2 ``book`` channel offers
WS_DEPTHS = (10, 25, 100, 500, 1000)
#: the range AddOrder's ``deadline`` may lie ahead of the venue's now (docs: min now() + 2
#: seconds, max now() + 60 seconds), so the range of ``recv_window`` (ms)
DEADLINE_MIN_MS = 2000
DEADLINE_MAX_MS = 60000


class KrakenOptions(VenueOptions, frozen=True, kw_only=True):
    """``book_depth`` (one of 10/25/100/500/1000), ``recv_window`` (ms, 2000..60000: every
    AddOrder carries ``deadline`` = venue now + this, the create's validity bound),
    ``nonce_window`` (the key's window as set at Kraken, µs; the deadline bounds a create
    whatever it is), ``tier`` (starter/intermediate/pro) and
    the rate-counter overrides ``rest_counter_max``, ``rest_counter_decay``,
    ``trade_counter_max``, ``trade_counter_decay``."""

    family = "kraken"
    book_depth: int = 10
    recv_window: int = 5000
    nonce_window: int = 0
    tier: str = DEFAULT_TIER
    rest_counter_max: float = TIERS[DEFAULT_TIER].rest_max
    rest_counter_decay: float = TIERS[DEFAULT_TIER].rest_decay
    trade_counter_max: float = TIERS[DEFAULT_TIER].trade_max
    trade_counter_decay: float = TIERS[DEFAULT_TIER].trade_decay

    @classmethod
    def _convert(cls, options: Mapping[str, str], venue: str | None) -> Self:
        raw_depth = options.get("book_depth", "10").strip()
        if not (raw_depth.isascii() and raw_depth.isdigit() and int(raw_depth) in WS_DEPTHS):
            raise ConfigError(f"kraken: book_depth must be one of {WS_DEPTHS}", venue=venue)
        recv_window = int_option(options, "recv_window", 5000, low=DEADLINE_MIN_MS,
                                 high=DEADLINE_MAX_MS, family="kraken", venue=venue)
        nonce_window = nonce_window_from_options(options)
        tier = tier_from_options(options)
        return cls(
            book_depth=int(raw_depth),
            recv_window=recv_window,
            nonce_window=nonce_window,
            tier=options.get("tier", DEFAULT_TIER).strip().lower(),
            rest_counter_max=tier.rest_max,
            rest_counter_decay=tier.rest_decay,
            trade_counter_max=tier.trade_max,
            trade_counter_decay=tier.trade_decay,
        )

    def counters(self) -> Tier:
        """The rate counters to meter with (the tier's, with any overrides applied)."""
        return Tier(self.rest_counter_max, self.rest_counter_decay, self.trade_counter_max,
                    self.trade_counter_decay)


#: what this adapter can do: limit and market, GTC, IOC and post-only (Kraken spot has no
#: fill-or-kill: refused before sending), ``cl_ord_id`` as a UUID, 32 hex digits or up to 18
#: printable characters; no batch, WebSocket entry or amend (yet)
CAPABILITIES = Capabilities(
    order_types=frozenset(OrderType),
    time_in_force=frozenset({TimeInForce.GTC, TimeInForce.IOC, TimeInForce.POST_ONLY}),
    client_id=ClientIdRule(
        pattern=(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
                 r"|[0-9a-fA-F]{32}|[\x20-\x7e]{1,18}"),
        max_length=36),
)
