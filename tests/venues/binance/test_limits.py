from __future__ import annotations

import orjson

from gapless.transport.ratelimit import LimitRule, RateLimiter
from gapless.venues.binance.limits import DEFAULT_RULES, BinanceLimits, rules_from_exchange_info
from gapless.venues.binance.translate import decode_exchange_info

RATE_LIMITS = [
    {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
    {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
    {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
    {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 6100},
    {"rateLimitType": "ORDERS", "interval": "FORTNIGHT", "intervalNum": 1, "limit": 5},
]


def test_rules_from_exchange_info() -> None:
    info = decode_exchange_info(orjson.dumps({"symbols": [], "rateLimits": RATE_LIMITS}))
    rules = rules_from_exchange_info(info.rateLimits)
    assert rules == [
        LimitRule("REQUEST_WEIGHT_1M", 1200, 60.0),
        LimitRule("ORDERS_10S", 100, 10.0),
        LimitRule("ORDERS_1D", 200000, 86400.0),
        LimitRule("RAW_REQUESTS_5M", 6100, 300.0),
    ]  # the unknown interval is skipped


def test_costs_per_endpoint() -> None:
    lim = BinanceLimits(DEFAULT_RULES)
    assert lim.cost("order_new") == {
        "REQUEST_WEIGHT_1M": 1, "ORDERS_10S": 1, "ORDERS_1D": 1, "RAW_REQUESTS_5M": 1
    }
    assert lim.cost("order_cancel")["REQUEST_WEIGHT_1M"] == 1
    assert "ORDERS_10S" not in lim.cost("order_cancel")
    assert lim.cost("order_query")["REQUEST_WEIGHT_1M"] == 4
    assert lim.cost("open_orders_all")["REQUEST_WEIGHT_1M"] == 80
    assert lim.cost("exchangeInfo")["REQUEST_WEIGHT_1M"] == 20


def test_sync_from_headers() -> None:
    lim = BinanceLimits()
    limiter = RateLimiter("binance", lim.rules, start_fraction=1.0)
    lim.sync(limiter, {
        "X-MBX-USED-WEIGHT-1M": "321",
        "x-mbx-order-count-10s": "7",
        "X-MBX-ORDER-COUNT-1D": "99",
        "X-MBX-USED-WEIGHT-1M-BOGUS": "5",
        "X-MBX-ORDER-COUNT-10S-X": "junk",
        "Content-Type": "application/json",
    })
    assert limiter.used("REQUEST_WEIGHT_1M") == 321
    assert limiter.used("ORDERS_10S") == 7
    assert limiter.used("ORDERS_1D") == 99
