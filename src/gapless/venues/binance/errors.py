"""Binance HTTP status + ``{"code","msg"}`` -> the gapless error tree."""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

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


class ErrorBody(msgspec.Struct):
    code: int
    msg: str = ""


_decode_error = msgspec.json.Decoder(ErrorBody).decode

_INVALID_ORDER_CODES = frozenset(
    {-1013, -1111, -1121, -1102, -1100, -1101, -1103, -1104, -1105, -1106, -1112, -1114,
     -1115, -1116, -1117, -1118, -1119, -1120, -1125, -1128, -1130, -2026}
)
_NOT_FOUND_CODES = frozenset({-2011, -2013})
_AUTH_CODES = frozenset({-1022, -2014, -2015, -1002})
_RATE_CODES = frozenset({-1003, -1015})
_UNKNOWN_CODES = frozenset({-1007, -1001, -1006})
_UNAVAILABLE_CODES = frozenset({-1008, -1016})


def retry_after(headers: Mapping[str, str]) -> float | None:
    raw = header(headers, "Retry-After")
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if value >= 0 else None


def map_error(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    mutating: bool = False,
    venue: str = "binance",
) -> GaplessError:
    """Build the error for a non-2xx answer.

    ``mutating`` marks requests that change state (create/cancel): for those a 503 or a
    gateway error is *outcome unknown*, because the order may already be in the book.
    """
    err: ErrorBody | None
    try:
        err = _decode_error(body)
    except msgspec.DecodeError:
        err = None
    code: int | None = err.code if err is not None else None
    msg = err.msg if err is not None else ""

    if status == 418:
        return RateLimited(msg or "IP banned", banned=True, venue=venue, code=code,
                           retry_after=retry_after(headers))
    if status == 429 or code in _RATE_CODES:
        return RateLimited(msg or "rate limited", venue=venue, code=code,
                           retry_after=retry_after(headers))
    if status >= 500:
        if code in _UNAVAILABLE_CODES or (status == 503 and not mutating):
            return VenueUnavailable(msg or f"HTTP {status}", venue=venue, code=code,
                                    retry_after=retry_after(headers))
        return ServerError(msg or f"HTTP {status}", venue=venue, code=code)
    if code in _UNKNOWN_CODES:
        return ServerError(msg or "execution status unknown", venue=venue, code=code)
    if err is None:
        if status in (401, 403):
            return AuthError(f"HTTP {status}", venue=venue)
        return MalformedResponse(f"HTTP {status} with unparseable body", venue=venue)

    if code == -2010:
        low = msg.lower()
        if "insufficient balance" in low:
            return InsufficientFunds(msg, venue=venue, code=code)
        if "duplicate order" in low:
            return DuplicateClientOrderId(msg, venue=venue, code=code)
        return InvalidOrder(msg, venue=venue, code=code)
    if code in _NOT_FOUND_CODES:
        return OrderNotFound(msg, venue=venue, code=code)
    if code == -1021:
        return TimestampRejected(msg, venue=venue, code=code)
    if code in _AUTH_CODES or status in (401, 403):
        return AuthError(msg, venue=venue, code=code)
    if code in _UNAVAILABLE_CODES:
        return VenueUnavailable(msg, venue=venue, code=code)
    if code in _INVALID_ORDER_CODES:
        return InvalidOrder(msg, venue=venue, code=code)
    return Rejected(msg or f"HTTP {status}", venue=venue, code=code)
