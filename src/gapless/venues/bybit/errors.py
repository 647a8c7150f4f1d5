"""Bybit HTTP status + ``retCode``/``retMsg`` -> the gapless error tree.

Business errors arrive as HTTP 200 with a non-zero ``retCode``; transport-level
protection uses HTTP 403 (IP limit, "access too frequent"), 429 and 5xx.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from gapless.model.errors import (
    AuthError,
    DuplicateClientOrderId,
    GaplessError,
    InsufficientFunds,
    InvalidOrder,
    MalformedResponse,
    OrderNotFound,
    RateLimited,
    Rejected,
    ServerError,
    TimestampRejected,
    VenueUnavailable,
)
from gapless.venues.common.wire import header

AUTH_CODES = frozenset({10003, 10004, 10005, 10007, 10008, 10009, 10010, 10017, 10024, 10027})
RATE_CODES = frozenset({10006, 10018, 10429, 170005, 170222})
NOT_FOUND_CODES = frozenset({170213, 110001, 170142, 110010, 110008, 170101})
FUNDS_CODES = frozenset({170131, 110004, 110007, 110012, 110045, 170033, 170034})
DUPLICATE_CODES = frozenset({170141, 110072})
#: the request may have been executed: timeouts inside the venue
UNKNOWN_CODES = frozenset({10000, 170007, 170146, 170147})
#: the venue is busy or restarting: not executed
BUSY_CODES = frozenset({10016, 10019, 10429, 170019})
IP_BAN_SECONDS = 600.0


def reset_after(headers: Mapping[str, str], now_s: float | None = None) -> float | None:
    """Seconds until ``X-Bapi-Limit-Reset-Timestamp`` (ms), if the venue sent one."""
    raw = header(headers, "X-Bapi-Limit-Reset-Timestamp")
    if raw is None:
        return None
    try:
        reset_ms = int(raw)
    except ValueError:
        return None
    now = time.time() if now_s is None else now_s
    return max(0.0, reset_ms / 1000 - now)


def map_code(code: int, msg: str, headers: Mapping[str, str], *, mutating: bool = False,
             venue: str = "bybit") -> GaplessError:
    """The error for a non-zero ``retCode`` (HTTP 200)."""
    if code in RATE_CODES:
        wait = reset_after(headers)
        return RateLimited(msg or "rate limited", venue=venue, code=code,
                           retry_after=wait if wait is not None else 1.0)
    if code == 10002:
        return TimestampRejected(msg, venue=venue, code=code)
    if code in AUTH_CODES:
        return AuthError(msg, venue=venue, code=code)
    if code in UNKNOWN_CODES:
        return ServerError(msg or "execution status unknown", venue=venue, code=code)
    if code in BUSY_CODES:
        if mutating:
            return ServerError(msg or "venue busy", venue=venue, code=code)
        return VenueUnavailable(msg or "venue busy", venue=venue, code=code)
    if code in FUNDS_CODES:
        return InsufficientFunds(msg, venue=venue, code=code)
    if code in DUPLICATE_CODES:
        return DuplicateClientOrderId(msg, venue=venue, code=code)
    if code in NOT_FOUND_CODES:
        return OrderNotFound(msg, venue=venue, code=code)
    if code == 10001 or 170000 <= code < 180000 or 110000 <= code < 120000:
        return InvalidOrder(msg, venue=venue, code=code)
    return Rejected(msg or f"retCode {code}", venue=venue, code=code)


def map_status(status: int, headers: Mapping[str, str], body: bytes, *, mutating: bool = False,
               venue: str = "bybit") -> GaplessError:
    """The error for a non-200 HTTP answer."""
    text = body[:200].decode("utf-8", "replace")
    if status == 403:
        # "403, access too frequent": the IP is blocked for at least 10 minutes
        return RateLimited(f"HTTP 403: {text}", banned=True, venue=venue, code=status,
                           retry_after=IP_BAN_SECONDS)
    if status == 429:
        return RateLimited(f"HTTP 429: {text}", venue=venue, code=status,
                           retry_after=reset_after(headers) or 1.0)
    if status == 401:
        return AuthError(f"HTTP 401: {text}", venue=venue, code=status)
    if status >= 500:
        if status == 503 and not mutating:
            return VenueUnavailable(f"HTTP 503: {text}", venue=venue, code=status)
        return ServerError(f"HTTP {status}: {text}", venue=venue, code=status)
    if status in (400, 404):
        return Rejected(f"HTTP {status}: {text}", venue=venue, code=status)
    return MalformedResponse(f"unexpected HTTP {status}: {text}", venue=venue, code=status)
