"""Coinbase Advanced Trade's rate-limit model as data (venue notes §4.6).

Two pools, both per second: private REST endpoints (30/s per key) and public ones
(10/s per IP). Private answers report usage in ``x-ratelimit-limit`` /
``x-ratelimit-remaining``, which re-syncs the private pool.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from gapless.transport.ratelimit import LimitRule, RateLimiter

PRIVATE = "PRIVATE_1S"
PUBLIC = "PUBLIC_1S"

DEFAULT_RULES: tuple[LimitRule, ...] = (
    LimitRule(PRIVATE, 30, 1.0),
    LimitRule(PUBLIC, 10, 1.0),
)

_PRIV: Mapping[str, int] = MappingProxyType({PRIVATE: 1})
_PUB: Mapping[str, int] = MappingProxyType({PUBLIC: 1})

#: endpoint -> pool costs
ENDPOINT_COSTS: Mapping[str, Mapping[str, int]] = MappingProxyType(
    {
        "time": _PUB,
        "products": _PUB,
        "product_book": _PUB,
        "order_new": _PRIV,
        "order_cancel": _PRIV,
        "order_get": _PRIV,
        "orders_list": _PRIV,
        "fills": _PRIV,
        "accounts": _PRIV,
    }
)


class CoinbaseLimits:
    def __init__(self, rules: tuple[LimitRule, ...] = DEFAULT_RULES) -> None:
        self.rules = rules
        self.costs = ENDPOINT_COSTS

    @staticmethod
    def sync(limiter: RateLimiter, headers: Mapping[str, str]) -> None:
        limit, remaining = headers.get("x-ratelimit-limit"), headers.get("x-ratelimit-remaining")
        if limit is None or remaining is None:
            return
        try:
            used = int(limit) - int(remaining)
        except ValueError:
            return
        if used >= 0:
            limiter.sync(PRIVATE, used)
