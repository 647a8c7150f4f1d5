"""Bybit V5's rate-limit model as data (docs §6.6).

* per IP: 600 requests per 5 s across all endpoints (HTTP 403 and a >= 10 min ban on breach);
* per UID, per endpoint, per second: ``order/create`` 20, ``order/cancel`` 20,
  ``cancel-all`` 20, order/execution queries and wallet balance 50 (spot defaults).

Every private answer carries ``X-Bapi-Limit`` (the endpoint's limit) and
``X-Bapi-Limit-Status`` (requests *remaining*); ``limit - remaining`` re-syncs our count.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from gapless.transport.ratelimit import LimitRule, RateLimiter
from gapless.venues.bybit.errors import header

IP_RULE = "ip_5s"

#: endpoint key -> (path, per-second limit or 0 when only the IP limit applies)
ENDPOINTS: Mapping[str, tuple[str, int]] = MappingProxyType({
    "time": ("/v5/market/time", 0),
    "instruments": ("/v5/market/instruments-info", 0),
    "orderbook": ("/v5/market/orderbook", 0),
    "create": ("/v5/order/create", 20),
    "cancel": ("/v5/order/cancel", 20),
    "cancel_all": ("/v5/order/cancel-all", 20),
    "realtime": ("/v5/order/realtime", 50),
    "history": ("/v5/order/history", 50),
    "executions": ("/v5/execution/list", 50),
    "wallet": ("/v5/account/wallet-balance", 50),
})


class BybitLimits:
    def __init__(self, overrides: Mapping[str, int] | None = None) -> None:
        rules = [LimitRule(IP_RULE, 600, 5.0)]
        self.costs: dict[str, dict[str, int]] = {}
        self.rule_of_path: dict[str, str] = {}
        for key, (path, per_s) in ENDPOINTS.items():
            limit = (overrides or {}).get(key, per_s)
            cost = {IP_RULE: 1}
            if limit > 0:
                name = f"uid_{key}_1s"
                rules.append(LimitRule(name, limit, 1.0))
                cost[name] = 1
                self.rule_of_path[path] = name
            self.costs[key] = cost
        self.rules: tuple[LimitRule, ...] = tuple(rules)

    def sync(self, limiter: RateLimiter, path: str, headers: Mapping[str, str]) -> None:
        """Adopt the venue's count for ``path`` from ``X-Bapi-Limit``/``-Status``."""
        name = self.rule_of_path.get(path)
        if name is None:
            return
        limit, remaining = header(headers, "X-Bapi-Limit"), header(headers, "X-Bapi-Limit-Status")
        if limit is None or remaining is None:
            return
        try:
            used = int(limit) - int(remaining)
        except ValueError:
            return
        if used >= 0:
            limiter.sync(name, used)
