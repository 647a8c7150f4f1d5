"""OKX's rate-limit model as data (docs §7.6).

Every endpoint has its own "N requests per 2 seconds" budget. Public endpoints are metered
per IP, private ones per UserID, trading ones per UserID + instrument (place, cancel and
query counted independently and shared with WS order entry). The adapter therefore keeps
one account-wide limiter (every non-trading endpoint plus the sub-account cap of 1000 new
orders per 2 s) and one small limiter per instrument for the trading endpoints. OKX sends
no usage headers, so there is nothing to sync; a 429/50011 cuts the limiters' headroom.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from gapless.transport.ratelimit import LimitRule
from gapless.venues.common.endpoints import AuthKind, Endpoint, table

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
#: metered per UserID + instrument
TRADE_ENDPOINTS = frozenset({"order_place", "order_cancel", "order_query"})

#: the account-wide limiter (per UserID / IP)
DEFAULT_RULES: tuple[LimitRule, ...] = (
    *(LimitRule(name, n, WINDOW_S) for name, n in ENDPOINT_LIMITS.items()
      if name not in TRADE_ENDPOINTS),
    LimitRule(ACCOUNT_ORDERS, 1000, WINDOW_S),
)
#: one limiter per instrument
INSTRUMENT_RULES: tuple[LimitRule, ...] = tuple(
    LimitRule(name, ENDPOINT_LIMITS[name], WINDOW_S) for name in sorted(TRADE_ENDPOINTS)
)


def _costs() -> tuple[dict[str, dict[str, int]], dict[str, dict[str, int]]]:
    account: dict[str, dict[str, int]] = {}
    instrument: dict[str, dict[str, int]] = {}
    for name in ENDPOINT_LIMITS:
        if name in TRADE_ENDPOINTS:
            instrument[name] = {name: 1}
            if name in ORDER_ENDPOINTS:
                account[name] = {ACCOUNT_ORDERS: 1}
        else:
            account[name] = {name: 1}
    return account, instrument


_ACCOUNT, _INSTRUMENT = _costs()
#: endpoint -> cost in the account-wide limiter (absent: nothing to pay there)
COSTS: Mapping[str, Mapping[str, int]] = MappingProxyType(_ACCOUNT)
#: endpoint -> cost in the instrument's limiter
INSTRUMENT_COSTS: Mapping[str, Mapping[str, int]] = MappingProxyType(_INSTRUMENT)


def _row(name: str, method: str, path: str, auth: AuthKind) -> Endpoint:
    return Endpoint(name, method, path, auth, COSTS.get(name, MappingProxyType({})),
                    INSTRUMENT_COSTS.get(name))


_PUB, _SIG = AuthKind.PUBLIC, AuthKind.SIGNED
#: the REST endpoints the adapter sends to, with their costs in both limiters
ENDPOINTS: Mapping[str, Endpoint] = table((
    _row("time", "GET", "/api/v5/public/time", _PUB),
    _row("instruments", "GET", "/api/v5/public/instruments", _PUB),
    _row("books", "GET", "/api/v5/market/books", _PUB),
    _row("balance", "GET", "/api/v5/account/balance", _SIG),
    _row("order_place", "POST", "/api/v5/trade/order", _SIG),
    _row("order_cancel", "POST", "/api/v5/trade/cancel-order", _SIG),
    _row("order_query", "GET", "/api/v5/trade/order", _SIG),
    _row("orders_pending", "GET", "/api/v5/trade/orders-pending", _SIG),
    _row("fills", "GET", "/api/v5/trade/fills", _SIG),
))
