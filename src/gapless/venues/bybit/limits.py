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
from gapless.venues.common.endpoints import AuthKind, Endpoint, table

IP_RULE = "ip_5s"

_PUB, _SIG = AuthKind.PUBLIC, AuthKind.SIGNED

#: the REST endpoints the adapter sends to (costs are filled in by ``BybitLimits``)
ENDPOINTS: Mapping[str, Endpoint] = table((
    Endpoint("time", "GET", "/v5/market/time", _PUB),
    Endpoint("instruments", "GET", "/v5/market/instruments-info", _PUB),
    Endpoint("orderbook", "GET", "/v5/market/orderbook", _PUB),
    Endpoint("create", "POST", "/v5/order/create", _SIG),
    Endpoint("cancel", "POST", "/v5/order/cancel", _SIG),
    Endpoint("cancel_all", "POST", "/v5/order/cancel-all", _SIG),
    Endpoint("realtime", "GET", "/v5/order/realtime", _SIG),
    Endpoint("history", "GET", "/v5/order/history", _SIG),
    Endpoint("executions", "GET", "/v5/execution/list", _SIG),
    Endpoint("wallet", "GET", "/v5/account/wallet-balance", _SIG),
))
#: endpoint -> per-UID per-second limit (absent: only the IP limit applies)
PER_SECOND: Mapping[str, int] = MappingProxyType({
    "create": 20, "cancel": 20, "cancel_all": 20,
    "realtime": 50, "history": 50, "executions": 50, "wallet": 50,
})


class BybitLimits:
    def __init__(self, overrides: Mapping[str, int] | None = None) -> None:
        rules = [LimitRule(IP_RULE, 600, 5.0)]
        self.costs: dict[str, dict[str, int]] = {}
        self.rule_of_path: dict[str, str] = {}
        self.endpoints: dict[str, Endpoint] = {}
        for key, ep in ENDPOINTS.items():
            path = ep.path
            limit = (overrides or {}).get(key, PER_SECOND.get(key, 0))
            cost = {IP_RULE: 1}
            if limit > 0:
                name = f"uid_{key}_1s"
                rules.append(LimitRule(name, limit, 1.0))
                cost[name] = 1
                self.rule_of_path[path] = name
            self.costs[key] = cost
            self.endpoints[key] = ep.with_costs(cost)
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
