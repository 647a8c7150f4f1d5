"""Coinbase Advanced Trade's rate-limit model as data (venue notes §4.6).

Two pools, both per second: private REST endpoints (30/s per key) and public ones
(10/s per IP). Private answers report usage in ``x-ratelimit-limit`` /
``x-ratelimit-remaining``, which re-syncs the private pool.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from gapless.transport.ratelimit import LimitRule, RateLimiter
from gapless.venues.common.endpoints import AuthKind, Endpoint, table

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


BASE = "/api/v3/brokerage"
_PUB_, _SIG = AuthKind.PUBLIC, AuthKind.SIGNED
_ROWS = (
    ("time", "GET", f"{BASE}/time", _PUB_),
    ("products", "GET", f"{BASE}/market/products", _PUB_),
    ("product_book", "GET", f"{BASE}/market/product_book", _PUB_),
    ("order_new", "POST", f"{BASE}/orders", _SIG),
    ("order_cancel", "POST", f"{BASE}/orders/batch_cancel", _SIG),
    ("order_get", "GET", f"{BASE}/orders/historical/{{order_id}}", _SIG),
    ("orders_list", "GET", f"{BASE}/orders/historical/batch", _SIG),
    ("fills", "GET", f"{BASE}/orders/historical/fills", _SIG),
    ("accounts", "GET", f"{BASE}/accounts", _SIG),
)
#: the REST endpoints the adapter sends to (``order_get``'s path is a template)
ENDPOINTS: Mapping[str, Endpoint] = table(
    Endpoint(name, method, path, auth, ENDPOINT_COSTS[name])
    for name, method, path, auth in _ROWS
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
