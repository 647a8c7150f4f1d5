"""Coinbase answers -> the gapless error tree (venue notes §4.5).

=============================================  ==============================  ==========
answer                                         error                           outcome
=============================================  ==============================  ==========
401 (plain ``Unauthorized``), 403              ``AuthError``                   REJECTED
429                                            ``RateLimited``                 RETRYABLE
404 ``NOT_FOUND``                              ``OrderNotFound``               REJECTED
other 4xx (``INVALID_ARGUMENT`` ...)           ``InvalidOrder``                REJECTED
503 on a read                                  ``VenueUnavailable``            RETRYABLE
5xx on an order mutation, other 5xx            ``ServerError``                 UNKNOWN
200 ``success:false`` create                   by ``error_response.error``     REJECTED
=============================================  ==============================  ==========

A 401 cannot be told apart from an expired token; the adapter re-syncs its clock and
re-signs once when its offset to the venue is large (a 401 proves nothing was executed).
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from gapless.model.errors import (
    AuthError,
    DuplicateClientOrderId,
    GaplessError,
    InsufficientFunds,
    InvalidOrder,
    OrderNotFound,
    RateLimited,
    Rejected,
    ServerError,
    VenueUnavailable,
)


class _ErrorBody(msgspec.Struct):
    error: str = ""
    message: str = ""
    error_details: str = ""


class _ErrItem(msgspec.Struct):
    id: str = ""
    message: str = ""


class _ErrorsBody(msgspec.Struct):
    errors: list[_ErrItem] = []


_decode_error = msgspec.json.Decoder(_ErrorBody).decode
_decode_errors = msgspec.json.Decoder(_ErrorsBody).decode

INSUFFICIENT = frozenset({"INSUFFICIENT_FUND", "INSUFFICIENT_FUNDS", "PREVIEW_INSUFFICIENT_FUND",
                          "PREVIEW_INSUFFICIENT_FUNDS", "INVALID_LEDGER_BALANCE"})


def _describe(body: bytes) -> tuple[str, str]:
    try:
        e = _decode_error(body)
        if e.error or e.message:
            return e.error, e.message or e.error_details
    except msgspec.DecodeError:
        pass
    try:
        es = _decode_errors(body)
        if es.errors:
            return es.errors[0].id, es.errors[0].message
    except msgspec.DecodeError:
        pass
    return "", body[:200].decode("utf-8", "replace")


def _retry_after(headers: Mapping[str, str]) -> float | None:
    raw = headers.get("Retry-After")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None


def map_error(status: int, headers: Mapping[str, str], body: bytes, *, mutating: bool,
              venue: str) -> GaplessError:
    code, msg = _describe(body)
    text = f"HTTP {status}: {msg}".strip()
    if status in (401, 403):
        return AuthError(text, venue=venue, code=code or status)
    if status == 429:
        return RateLimited(text, venue=venue, code=code or status,
                           retry_after=_retry_after(headers) or 1.0)
    if status == 404:
        return OrderNotFound(text, venue=venue, code=code or status)
    if 400 <= status < 500:
        return InvalidOrder(text, venue=venue, code=code or status)
    if status == 503 and not mutating:
        return VenueUnavailable(text, venue=venue, code=status, retry_after=_retry_after(headers))
    return ServerError(text, venue=venue, code=status)


def map_order_failure(error: str, message: str, preview: str, *, venue: str) -> Rejected:
    """A ``success:false`` create answer: the venue proved it did not accept the order."""
    text = message or error or preview or "order rejected"
    code = error or preview or "UNKNOWN_FAILURE_REASON"
    if error in INSUFFICIENT or preview in INSUFFICIENT:
        return InsufficientFunds(text, venue=venue, code=code)
    if "duplicate" in text.lower() and "client" in text.lower():
        return DuplicateClientOrderId(text, venue=venue, code=code)
    return InvalidOrder(text, venue=venue, code=code)


def map_cancel_failure(reason: str, *, venue: str) -> Rejected:
    if reason in ("UNKNOWN_CANCEL_ORDER", "INVALID_CANCEL_REQUEST", "DUPLICATE_CANCEL_REQUEST"):
        return OrderNotFound(f"cancel refused: {reason}", venue=venue, code=reason)
    return InvalidOrder(f"cancel refused: {reason}", venue=venue, code=reason)
