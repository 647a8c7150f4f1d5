"""OKX ``{"code","msg","data":[{"sCode","sMsg"}]}`` answers -> the gapless error tree (docs §7.5)."""

from __future__ import annotations

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

RATE_CODES = frozenset({"50011", "50013", "50061", "50040"})
UNKNOWN_CODES = frozenset({"50004", "50026", "51149"})
UNAVAILABLE_CODES = frozenset({"50001"})
#: 50036: the place/amend arrived after its expTime, so OKX did not process it
TIMESTAMP_CODES = frozenset({"50102", "50036"})
AUTH_CODES = frozenset({"50100", "50101", "50103", "50104", "50105", "50106", "50107", "50108",
                        "50109", "50110", "50111", "50112", "50113", "50114", "50119", "50120"})
FUNDS_CODES = frozenset({"51008", "51119", "51127", "51131"})
DUPLICATE_CODES = frozenset({"51016"})
NOT_FOUND_CODES = frozenset({"51400", "51401", "51402", "51603"})
INVALID_CODES = frozenset({"50014", "50002", "51000", "51001", "51004", "51006", "51010",
                           "51019", "51020", "51024", "51121", "51122", "51201", "51202",
                           "51203", "51204", "51205", "51138", "51139"})


class _Head(msgspec.Struct):
    code: str
    msg: str = ""


_decode_head = msgspec.json.Decoder(_Head).decode


def head(body: bytes, venue: str = "okx") -> tuple[str, str]:
    """``(code, msg)`` of an envelope; ``MalformedResponse`` if it is not one."""
    try:
        h = _decode_head(body)
    except msgspec.DecodeError as exc:
        raise MalformedResponse(f"not an OKX envelope: {exc}", venue=venue) from None
    return h.code, h.msg


def from_code(code: str, msg: str, *, mutating: bool = False, status: int = 200,
              venue: str = "okx") -> GaplessError:
    """Map one code (top-level ``code`` or per-order ``sCode``) into the error tree."""
    base = code.split("_", 1)[0]  # sub-codes such as 51008_1000
    text = msg or f"OKX code {code}"
    if base in RATE_CODES or status == 429:
        return RateLimited(text, venue=venue, code=code)
    if base in UNKNOWN_CODES:
        return ServerError(text, venue=venue, code=code)
    if base in UNAVAILABLE_CODES or status == 503:
        if mutating:
            return ServerError(text, venue=venue, code=code)
        return VenueUnavailable(text, venue=venue, code=code)
    if base in TIMESTAMP_CODES:
        return TimestampRejected(text, venue=venue, code=code)
    if base in AUTH_CODES or status in (401, 403):
        return AuthError(text, venue=venue, code=code)
    if base in FUNDS_CODES:
        return InsufficientFunds(text, venue=venue, code=code)
    if base in DUPLICATE_CODES:
        return DuplicateClientOrderId(text, venue=venue, code=code)
    if base in NOT_FOUND_CODES:
        return OrderNotFound(text, venue=venue, code=code)
    if base in INVALID_CODES:
        return InvalidOrder(text, venue=venue, code=code)
    if status >= 500:
        return ServerError(text, venue=venue, code=code)
    return Rejected(text, venue=venue, code=code)


def map_http_error(status: int, body: bytes, *, mutating: bool = False,
                   venue: str = "okx") -> GaplessError:
    """Error for a non-2xx answer (body may be anything)."""
    try:
        code, msg = head(body, venue)
    except MalformedResponse:
        if status == 429:
            return RateLimited(f"HTTP {status}", venue=venue)
        if status >= 500:
            if status == 503 and not mutating:
                return VenueUnavailable(f"HTTP {status}", venue=venue)
            return ServerError(f"HTTP {status}", venue=venue)
        if status in (401, 403):
            return AuthError(f"HTTP {status}", venue=venue)
        return MalformedResponse(f"HTTP {status} with unparseable body", venue=venue)
    return from_code(code, msg, mutating=mutating, status=status, venue=venue)
