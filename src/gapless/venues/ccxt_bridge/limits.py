"""Rate limits of a ccxt exchange, as gapless ``LimitRule``s.

ccxt describes limits as ``rateLimit`` (milliseconds per request *unit*) plus a ``cost``
per endpoint (in units; fractional costs are common). gapless meters them as:

* ``ccxt``: ``1000 / rateLimit`` units per second, over fixed windows of ``window_s``
  seconds (default 1 s, so short bursts are allowed where ccxt would space every
  request). Costs are scaled by :data:`SCALE` to integers.
* one extra rule per usage header the venue reports (e.g. Binance
  ``X-MBX-USED-WEIGHT-1M``): requests draw their ccxt cost converted to the pool's unit,
  and every answer's header is adopted with ``RateLimiter.sync``.

The limiter itself (priority lanes, 70 % start and adaptive raise, 429 cut, 418 halt) is
``gapless.transport.ratelimit.RateLimiter``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from gapless.transport.ratelimit import LimitRule, Priority, RateLimiter
from gapless.venues.ccxt_bridge.errors import header
from gapless.venues.ccxt_bridge.profiles import HeaderRule

SCALE = 100  # integer units per ccxt cost unit
MAIN = "ccxt"


class CcxtLimits:
    def __init__(
        self,
        rate_limit_ms: float,
        header_rules: tuple[HeaderRule, ...] = (),
        *,
        window_s: float = 1.0,
    ) -> None:
        if rate_limit_ms <= 0:
            rate_limit_ms = 1.0
        self.rate_limit_ms = float(rate_limit_ms)
        self.window_s = window_s
        per_s = 1000.0 / self.rate_limit_ms  # ccxt cost units per second
        self.main = LimitRule(MAIN, max(1, math.floor(per_s * window_s * SCALE)), window_s)
        self.header_rules = header_rules
        self._factor: dict[str, float] = {}
        rules = [self.main]
        for hr in header_rules:
            rules.append(LimitRule(hr.name, hr.limit, hr.window_s))
            # how many pool units one ccxt cost unit is: ccxt's rateLimit models the
            # same pool, so its per-window capacity maps onto the published limit
            self._factor[hr.name] = hr.limit / (per_s * hr.window_s)
        self.rules: tuple[LimitRule, ...] = tuple(rules)

    def costs(self, cost: float, priority: Priority) -> dict[str, int]:
        """What one request of ccxt ``cost`` draws from every rule."""
        out = {MAIN: max(0, round(cost * SCALE)) if cost > 0 else 0}
        for hr in self.header_rules:
            if hr.per == "order":
                out[hr.name] = 1 if priority is Priority.ORDER else 0
            else:
                out[hr.name] = math.ceil(cost * self._factor[hr.name]) if cost > 0 else 0
        return out

    def sync(self, limiter: RateLimiter, headers: Mapping[str, str] | None) -> None:
        """Adopt the venue's usage counters from one answer's headers."""
        if not headers:
            return
        for hr in self.header_rules:
            raw = header(headers, hr.header)
            if raw is None:
                continue
            try:
                used = int(raw)
            except ValueError:
                continue
            limiter.sync(hr.name, used)
