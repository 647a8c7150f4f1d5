"""Kraken ``{"error":[...]}`` strings and HTTP statuses -> the gapless error tree (docs §5.5).

Kraken answers HTTP 200 with error strings ``<E|W><category>:<message>``. Only ``E``
entries are errors; ``W`` entries are warnings and are ignored.
"""

from __future__ import annotations

import time

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

_AUTH = ("EAPI:Invalid key", "EAPI:Invalid signature", "EAPI:Bad request",
         "EGeneral:Permission denied", "EAPI:Feature disabled", "ETrade:User Locked",
         "ESession:Invalid session", "EAccount:Invalid permissions")
_RATE = ("EAPI:Rate limit exceeded", "EOrder:Rate limit exceeded", "EGeneral:Too many requests")
_UNAVAILABLE = ("EService:Unavailable", "EService:Busy", "EService:Market in cancel_only mode",
                "EService:Market in post_only mode", "EService:Market in limit_only mode")
_UNKNOWN = ("EGeneral:Internal error", "EDatabase:Internal error", "EService:Timeout")


def errors_of(messages: list[str]) -> list[str]:
    return [m for m in messages if m.startswith("E")]


def map_kraken_error(messages: list[str], *, mutating: bool = False,
                     venue: str = "kraken") -> GaplessError:
    """The error for a non-empty ``error`` list (first ``E`` entry decides)."""
    errs = errors_of(messages) or messages
    msg = errs[0] if errs else "unknown error"
    if msg.startswith(_AUTH):
        return AuthError(msg, venue=venue, code=msg)
    if msg.startswith("EAPI:Invalid nonce"):
        # refused before execution: safe to re-sign with a fresh nonce
        return TimestampRejected(msg, venue=venue, code=msg)
    if msg.startswith(_RATE):
        return RateLimited(msg, venue=venue, code=msg)
    if msg.startswith("EGeneral:Temporary lockout"):
        return RateLimited(msg, banned=True, venue=venue, code=msg, retry_after=60.0)
    if msg.startswith("EService: Throttled") or msg.startswith("EService:Throttled"):
        retry: float | None = None
        tail = msg.rsplit(":", 1)[-1].strip()
        if tail.isdigit():
            retry = max(0.0, int(tail) - time.time())
        return RateLimited(msg, venue=venue, code=msg, retry_after=retry)
    if msg.startswith("EOrder:Insufficient funds") or msg.startswith("EFunding:Insufficient"):
        return InsufficientFunds(msg, venue=venue, code=msg)
    if msg.startswith("EOrder:Unknown order"):
        return OrderNotFound(msg, venue=venue, code=msg)
    if msg.startswith("EOrder:Duplicate") or "duplicate" in msg.lower():
        return DuplicateClientOrderId(msg, venue=venue, code=msg)
    if msg.startswith(_UNAVAILABLE):
        if mutating and not msg.startswith("EService:Market in"):
            return ServerError(msg, venue=venue, code=msg)
        if msg.startswith("EService:Market in"):
            return InvalidOrder(msg, venue=venue, code=msg)
        return VenueUnavailable(msg, venue=venue, code=msg)
    if msg.startswith(_UNKNOWN):
        return ServerError(msg, venue=venue, code=msg)
    if msg.startswith(("EOrder:", "EGeneral:Invalid arguments", "EQuery:")):
        return InvalidOrder(msg, venue=venue, code=msg)
    if msg.startswith("EService:Deadline elapsed"):
        return Rejected(msg, venue=venue, code=msg)
    return Rejected(msg, venue=venue, code=msg)


def map_http_status(status: int, *, mutating: bool, venue: str = "kraken") -> GaplessError:
    """A non-200 answer whose body is not a Kraken envelope."""
    if status == 429:
        return RateLimited(f"HTTP {status}", venue=venue, code=status)
    if status in (401, 403):
        return AuthError(f"HTTP {status}", venue=venue, code=status)
    if status >= 500:
        if status in (502, 503, 504, 520) and not mutating:
            return VenueUnavailable(f"HTTP {status}", venue=venue, code=status)
        return ServerError(f"HTTP {status}", venue=venue, code=status)
    if status == 404:
        return Rejected(f"HTTP {status}", venue=venue, code=status)
    return MalformedResponse(f"HTTP {status} without a Kraken envelope", venue=venue, code=status)
