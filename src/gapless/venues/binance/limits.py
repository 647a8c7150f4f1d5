"""Binance's rate-limit model as data.

Three limiters (docs §3.6): request weight per IP, raw requests per IP and the
unfilled-order count per account. Live values come from ``exchangeInfo.rateLimits``;
the defaults below are the documented examples and are only used until then.
The venue reports usage in ``X-MBX-USED-WEIGHT-<n><unit>`` and
``X-MBX-ORDER-COUNT-<n><unit>`` headers, which re-sync our counters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType

from gapless.transport.ratelimit import LimitRule, RateLimiter
from gapless.venues.binance.translate import RateLimitSpec
from gapless.venues.common.endpoints import AuthKind, Endpoint, table

_UNIT_SECONDS = {"SECOND": 1.0, "MINUTE": 60.0, "HOUR": 3600.0, "DAY": 86400.0}
_UNIT_LETTER = {"SECOND": "S", "MINUTE": "M", "HOUR": "H", "DAY": "D"}
_LETTER_SECONDS = {"S": 1.0, "M": 60.0, "H": 3600.0, "D": 86400.0}

WEIGHT = "REQUEST_WEIGHT"
ORDERS = "ORDERS"
RAW = "RAW_REQUESTS"

#: request weight per endpoint (docs §3.3); ``order`` marks the ORDERS limiters
ENDPOINT_WEIGHT: Mapping[str, tuple[int, bool]] = MappingProxyType(
    {
        "time": (1, False),
        "exchangeInfo": (20, False),
        "depth_100": (5, False),
        "depth_500": (25, False),
        "depth_1000": (50, False),
        "depth_5000": (250, False),
        "order_new": (1, True),
        "order_cancel": (1, False),
        "order_query": (4, False),
        "open_orders_symbol": (6, False),
        "open_orders_all": (80, False),
        "account": (20, False),
        "my_trades": (20, False),
        "my_trades_order": (5, False),
        "user_stream": (2, False),
    }
)


_PUB, _KEY, _SIG = AuthKind.PUBLIC, AuthKind.KEYED, AuthKind.SIGNED
_ORDER, _OPEN, _TRADES, _STREAM = (
    "/api/v3/order", "/api/v3/openOrders", "/api/v3/myTrades", "/api/v3/userDataStream")

#: the REST endpoints the adapter sends to; costs are filled in from the live rules
ENDPOINTS: Mapping[str, Endpoint] = table((
    Endpoint("time", "GET", "/api/v3/time", _PUB),
    Endpoint("exchangeInfo", "GET", "/api/v3/exchangeInfo", _PUB),
    *(Endpoint(f"depth_{n}", "GET", "/api/v3/depth", _PUB) for n in (100, 500, 1000, 5000)),
    Endpoint("order_new", "POST", _ORDER, _SIG),
    Endpoint("order_cancel", "DELETE", _ORDER, _SIG),
    Endpoint("order_query", "GET", _ORDER, _SIG),
    Endpoint("open_orders_symbol", "GET", _OPEN, _SIG),
    Endpoint("open_orders_all", "GET", _OPEN, _SIG),
    Endpoint("account", "GET", "/api/v3/account", _SIG),
    Endpoint("my_trades", "GET", _TRADES, _SIG),
    Endpoint("my_trades_order", "GET", _TRADES, _SIG),
    Endpoint("user_stream_new", "POST", _STREAM, _KEY),
    Endpoint("user_stream_keepalive", "PUT", _STREAM, _KEY),
))
#: endpoint -> the row of ``ENDPOINT_WEIGHT`` that prices it
_WEIGHT_ROW = {"user_stream_new": "user_stream", "user_stream_keepalive": "user_stream"}


def rule_name(kind: str, interval_num: int, interval: str) -> str:
    """``REQUEST_WEIGHT_1M``, ``ORDERS_10S`` … (the header suffix is the same unit)."""
    return f"{kind}_{interval_num}{_UNIT_LETTER.get(interval, interval[:1])}"


DEFAULT_RULES: tuple[LimitRule, ...] = (
    LimitRule(rule_name(WEIGHT, 1, "MINUTE"), 6000, 60.0),
    LimitRule(rule_name(ORDERS, 10, "SECOND"), 50, 10.0),
    LimitRule(rule_name(ORDERS, 1, "DAY"), 160000, 86400.0),
    LimitRule(rule_name(RAW, 5, "MINUTE"), 61000, 300.0),
)


def rules_from_exchange_info(specs: Iterable[RateLimitSpec]) -> list[LimitRule]:
    rules: list[LimitRule] = []
    for s in specs:
        unit = _UNIT_SECONDS.get(s.interval)
        if unit is None or s.intervalNum <= 0 or s.limit <= 0:
            continue
        rules.append(LimitRule(rule_name(s.rateLimitType, s.intervalNum, s.interval),
                               s.limit, unit * s.intervalNum))
    return rules


def depth_key(limit: int) -> str:
    if limit <= 100:
        return "depth_100"
    if limit <= 500:
        return "depth_500"
    if limit <= 1000:
        return "depth_1000"
    return "depth_5000"


class BinanceLimits:
    """Rules plus precomputed cost dicts per endpoint and the header -> rule map."""

    def __init__(self, rules: Sequence[LimitRule] | None = None) -> None:
        self.rules: tuple[LimitRule, ...] = tuple(rules) if rules else DEFAULT_RULES
        names = [r.name for r in self.rules]
        self.costs: dict[str, dict[str, int]] = {}
        for endpoint, (weight, is_order) in ENDPOINT_WEIGHT.items():
            c: dict[str, int] = {}
            for n in names:
                if n.startswith(WEIGHT + "_"):
                    c[n] = weight
                elif n.startswith(RAW + "_") or (is_order and n.startswith(ORDERS + "_")):
                    c[n] = 1
            self.costs[endpoint] = c
        #: the endpoint table with this rule set's costs (what the adapter sends by)
        self.endpoints: dict[str, Endpoint] = {
            name: ep.with_costs(self.costs[_WEIGHT_ROW.get(name, name)])
            for name, ep in ENDPOINTS.items()
        }
        # lowercase header -> rule name
        self.headers: dict[str, str] = {}
        for n in names:
            if n.startswith(WEIGHT + "_"):
                self.headers["x-mbx-used-weight-" + n[len(WEIGHT) + 1:].lower()] = n
            elif n.startswith(ORDERS + "_"):
                self.headers["x-mbx-order-count-" + n[len(ORDERS) + 1:].lower()] = n

    def cost(self, endpoint: str) -> Mapping[str, int]:
        return self.costs[endpoint]

    def sync(self, limiter: RateLimiter, headers: Mapping[str, str]) -> None:
        """Feed the venue-reported usage headers into the limiter."""
        hmap = self.headers
        for k, v in headers.items():
            name = hmap.get(k.lower())
            if name is not None:
                try:
                    used = int(v)
                except ValueError:
                    continue
                limiter.sync(name, used)


def window_seconds(rule: str) -> float:
    """Window length encoded in a rule name (``ORDERS_10S`` -> 10.0)."""
    suffix = rule.rsplit("_", 1)[-1]
    return float(suffix[:-1]) * _LETTER_SECONDS[suffix[-1]]
