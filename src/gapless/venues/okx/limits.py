"""OKX's rate-limit model as data (docs §7.6).

Every endpoint has its own "N requests per 2 seconds" budget. Public endpoints are metered
per IP, private ones per UserID, trading ones per UserID + instrument (place, cancel and
query counted independently and shared with WS order entry). The adapter keeps one bucket
per endpoint, which is conservative for trading (it does not grant each instrument its own
budget), plus the sub-account cap of 1000 new orders per 2 s. OKX sends no usage headers,
so there is nothing to sync; a 429/50011 cuts the limiter's headroom.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from gapless.transport.ratelimit import LimitRule

WINDOW_S = 2.0
ACCOUNT_ORDERS = "account_orders_2s"

#: endpoint key -> requests per 2 s (values marked unverified in the venue notes are guesses)
ENDPOINT_LIMITS: Mapping[str, int] = MappingProxyType({
    "time": 10,  # unverified
    "instruments": 20,
    "books": 40,
    "balance": 10,
    "order_place": 60,
    "order_cancel": 60,
    "order_query": 60,
    "orders_pending": 60,  # unverified
    "fills": 60,  # unverified
})
ORDER_ENDPOINTS = frozenset({"order_place"})

DEFAULT_RULES: tuple[LimitRule, ...] = (
    *(LimitRule(name, n, WINDOW_S) for name, n in ENDPOINT_LIMITS.items()),
    LimitRule(ACCOUNT_ORDERS, 1000, WINDOW_S),
)


def _costs() -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for name in ENDPOINT_LIMITS:
        c = {name: 1}
        if name in ORDER_ENDPOINTS:
            c[ACCOUNT_ORDERS] = 1
        out[name] = c
    return out


COSTS: Mapping[str, Mapping[str, int]] = MappingProxyType(_costs())
