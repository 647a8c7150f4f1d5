"""Rate limits of a ccxt exchange, as gapless ``LimitRule``s.

ccxt describes limits as ``rateLimit`` (milliseconds per request *unit*) plus a ``cost``
per endpoint (in units; fractional costs are common). gapless meters them as:

* ``ccxt``: ``1000 / rateLimit`` units per second, over fixed windows of ``window_s``
  seconds (default 1 s, so short bursts are allowed where ccxt would space every
  request). Costs are scaled by :data:`SCALE` to integers.
* one extra rule per usage header the venue reports (e.g. Binance
  ``X-MBX-USED-WEIGHT-1M``): requests draw their ccxt cost converted to the pool's unit,
  and every answer's header is adopted with ``RateLimiter.sync``.
* the exchange module's own rules (``Quirks.limit_rules``, e.g. Bybit's per-endpoint
  limits), fed back through ``Quirks.usage_from_headers`` as :class:`Usage` (the venue's
  count against the venue's limit, scaled onto the rule; a pool the venue reports
  exhausted counts as full and, when it names a later reset time, holds the rule until
  then).

The limiter itself (priority lanes, 70 % start and adaptive raise, 429 cut, 418 halt) is
``gapless.transport.ratelimit.RateLimiter``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from gapless.transport.ratelimit import LimitRule, Priority, RateLimiter
from gapless.venues.ccxt_bridge.errors import header
from gapless.venues.ccxt_bridge.profiles import HeaderRule
from gapless.venues.ccxt_bridge.quirks import Usage

SCALE = 100  # integer units per ccxt cost unit
MAIN = "ccxt"


class CcxtLimits:
    def __init__(
        self,
        rate_limit_ms: float,
        header_rules: tuple[HeaderRule, ...] = (),
        *,
        window_s: float = 1.0,
        extra_rules: tuple[LimitRule, ...] = (),
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
        self._extra = {r.name: r for r in extra_rules}
        rules.extend(extra_rules)
        self.rules: tuple[LimitRule, ...] = tuple(rules)
        self._holds: dict[str, float] = {}  # rule -> wall time before which it is exhausted

    def costs(
        self, cost: float, priority: Priority, extra: Mapping[str, int] | None = None
    ) -> dict[str, int]:
        """What one request of ccxt ``cost`` draws from every rule (``extra``: what it
        draws from the exchange module's own rules; unknown names are dropped)."""
        out = {MAIN: max(0, round(cost * SCALE)) if cost > 0 else 0}
        if extra:
            out.update((k, v) for k, v in extra.items() if k in self._extra)
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

    def adopt(self, limiter: RateLimiter, usages: Iterable[Usage], now: float) -> None:
        """Adopt the venue's counts for the exchange module's own rules (``now``: wall
        seconds)."""
        for u in usages:
            rule = self._extra.get(u.rule)
            if rule is None or u.limit <= 0 or u.used < 0:
                continue
            if u.used >= u.limit:
                limiter.sync(rule.name, rule.limit)
                if u.reset_at is not None and u.reset_at > now:
                    self._holds[rule.name] = max(self._holds.get(rule.name, 0.0), u.reset_at)
            else:
                limiter.sync(rule.name, math.ceil(u.used * rule.limit / u.limit))

    def hold_s(self, costs: Mapping[str, int], now: float) -> float:
        """Seconds before a request drawing ``costs`` may go (a pool the venue reported
        exhausted until a later reset time); 0.0 when it may go now."""
        if not self._holds:
            return 0.0
        wait = 0.0
        for name in list(self._holds):
            until = self._holds[name]
            if until <= now:
                del self._holds[name]
            elif costs.get(name):
                wait = max(wait, until - now)
        return wait
