"""ccxt exceptions -> the gapless error tree, with ccxt's known mis-mappings corrected.

Corrections (see the bridge's docs page):

* ``DDoSProtection`` (what ccxt raises for Binance HTTP 429 and 418) and
  ``RateLimitExceeded`` are both ``RateLimited`` with ``retry_after`` from the
  ``Retry-After`` header; HTTP 418 (or a message saying the key/IP is banned) sets
  ``banned``.
* An unknown order is ``OrderNotFound`` whatever class ccxt chose: ccxt's
  ``OrderNotFound``, Kraken's "EOrder:Unknown order" (raised as ``InvalidOrder``),
  Coinbase's "... not found" (raised as plain ``ExchangeError``).
* Transport trouble on a request that changes state (create, cancel) is
  *outcome unknown*, never "failed": ``RequestTimeout`` -> ``RequestTimeout``,
  a 5xx -> ``ServerError``, a dropped connection -> ``Disconnected``. Only a connection
  that was never established (refused, DNS) is ``VenueUnavailable`` (provably not sent).
* ``DuplicateOrderId`` -> ``DuplicateClientOrderId``; ``InsufficientFunds``,
  ``InvalidOrder`` (incl. post-only would cross), ``AuthenticationError``,
  ``InvalidNonce`` (-> ``TimestampRejected``) map to the matching ``Rejected`` classes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import aiohttp
from ccxt.base import errors as cx

from gapless.model.errors import (
    AuthError,
    Disconnected,
    DuplicateClientOrderId,
    GaplessError,
    InsufficientFunds,
    InvalidIntent,
    InvalidOrder,
    MalformedResponse,
    OrderNotFound,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    RequestTimeout,
    ServerError,
    TimestampRejected,
    VenueUnavailable,
)

#: messages that mean "the venue does not know this order", whatever class ccxt picked
_UNKNOWN_ORDER = re.compile(
    r"unknown order|order\b.{0,80}\bnot\s*(?:be\s*)?found|order\s+does\s+not\s+exist"
    r"|order_not_found|not_found|order\s+not\s+exist|no\s+such\s+order|invalid\s+order\s*id"
    r"|order\s+(?:has\s+been\s+)?(?:filled|canceled|cancelled)\s+or\s+(?:does\s+)?not\s+exist",
    re.IGNORECASE,
)
_DUPLICATE = re.compile(r"duplicat|order id already exists|clordid already exists", re.IGNORECASE)
_BANNED = re.compile(r"\bbann?ed\b|\b418\b|\bIP\s+ban", re.IGNORECASE)


def header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if not headers:
        return None
    lname = name.lower()
    for k, v in headers.items():
        if k.lower() == lname:
            return v
    return None


def retry_after_s(headers: Mapping[str, str] | None) -> float | None:
    raw = header(headers, "retry-after")
    if raw is None:
        return None
    try:
        v = float(raw)
    except ValueError:
        return None
    return v if v >= 0 else None


def _cause_chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    cur: BaseException | None = exc.__cause__ or exc.__context__
    while cur is not None and len(out) < 8:
        out.append(cur)
        cur = cur.__cause__ or cur.__context__
    return out


def _never_connected(exc: BaseException) -> bool:
    """The request provably never reached the venue (refused / DNS / no route)."""
    for c in _cause_chain(exc):
        if isinstance(c, aiohttp.ClientConnectorError):
            return True
        if isinstance(c, OSError) and not isinstance(c, aiohttp.ClientError | TimeoutError):
            import socket

            if isinstance(c, socket.gaierror | ConnectionRefusedError):
                return True
    return False


def map_ccxt_error(
    exc: BaseException,
    *,
    venue: str,
    mutating: bool = False,
    op: str = "",
    status: int | None = None,
    headers: Mapping[str, str] | None = None,
) -> GaplessError:
    """Translate one exception raised by a ccxt call into the gapless tree.

    ``mutating`` says whether the request changes venue state (create/cancel): transport
    failures on those are outcome-unknown. ``op`` is ``"create"``, ``"cancel"``,
    ``"query"`` or ``""``; a create never maps to ``OrderNotFound``. ``status`` and
    ``headers`` are the HTTP status and headers of the failing answer, when known.
    """
    if isinstance(exc, GaplessError):
        return exc
    msg = str(exc) or type(exc).__name__
    if len(msg) > 500:
        msg = msg[:500] + "…"
    code = type(exc).__name__
    kw: dict[str, Any] = {"venue": venue, "code": code}

    # -- rate limits (ccxt raises DDoSProtection for 429/418: a sibling of RateLimitExceeded)
    if isinstance(exc, cx.RateLimitExceeded | cx.DDoSProtection):
        banned = status == 418 or bool(_BANNED.search(msg))
        return RateLimited(msg, banned=banned, retry_after=retry_after_s(headers), **kw)

    # -- clock skew: provably not executed, safe to re-sign
    if isinstance(exc, cx.InvalidNonce):
        return TimestampRejected(msg, **kw)

    # -- transport
    if isinstance(exc, cx.RequestTimeout):
        return RequestTimeout(msg, **kw)
    if isinstance(exc, cx.NetworkError):  # ExchangeNotAvailable, OnMaintenance, plain NetworkError
        if _never_connected(exc):
            return VenueUnavailable(msg, **kw)
        if status is not None and status >= 500:
            return ServerError(msg, **kw) if mutating else VenueUnavailable(msg, **kw)
        if mutating:
            return Disconnected(msg, **kw)
        return VenueUnavailable(msg, **kw)
    if isinstance(exc, cx.BadResponse):  # incl. NullResponse
        return MalformedResponse(msg, **kw)
    if isinstance(exc, cx.CancelPending):
        return OutcomeUnknown(msg, **kw)

    # -- definitive answers
    if isinstance(exc, cx.OrderNotFound) and op != "create":
        return OrderNotFound(msg, **kw)
    if op != "create" and isinstance(exc, cx.ExchangeError) and _UNKNOWN_ORDER.search(msg):
        # Kraken "EOrder:Unknown order" arrives as InvalidOrder, Coinbase "not found" as
        # plain ExchangeError: both mean the venue does not know the order
        return OrderNotFound(msg, **kw)
    if isinstance(exc, cx.DuplicateOrderId) or (
        op == "create" and isinstance(exc, cx.ExchangeError) and _DUPLICATE.search(msg)
    ):
        # Binance -2010 "Duplicate order sent." arrives as InvalidOrder
        return DuplicateClientOrderId(msg, **kw)
    if isinstance(exc, cx.InsufficientFunds):
        return InsufficientFunds(msg, **kw)
    if isinstance(exc, cx.AuthenticationError):  # PermissionDenied, AccountSuspended, ...
        return AuthError(msg, **kw)
    if isinstance(exc, cx.NotSupported | cx.ArgumentsRequired) and not isinstance(
        exc, cx.InvalidOrder
    ):
        # raised by ccxt before anything was sent
        return InvalidIntent(msg, venue=venue, code=code)
    if isinstance(
        exc, cx.InvalidOrder | cx.BadRequest | cx.OperationRejected | cx.InvalidAddress
    ):
        return InvalidOrder(msg, **kw)
    if isinstance(exc, cx.ExchangeError):
        if status is not None and status >= 500:
            return ServerError(msg, **kw) if mutating else VenueUnavailable(msg, **kw)
        return Rejected(msg, **kw)
    if isinstance(exc, cx.OperationFailed | cx.BaseError):
        # e.g. Binance -1000/-1001 "internal error": the execution status is unknown
        if status is not None and status >= 500:
            return ServerError(msg, **kw) if mutating else VenueUnavailable(msg, **kw)
        return OutcomeUnknown(msg, **kw) if mutating else VenueUnavailable(msg, **kw)

    # -- not a ccxt error: ccxt choked on the answer (parsing / wrong types)
    if isinstance(exc, TimeoutError):
        return RequestTimeout(msg, **kw)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return VenueUnavailable(msg, **kw)
    if isinstance(exc, aiohttp.ClientError | ConnectionError):
        return Disconnected(msg, **kw) if mutating else VenueUnavailable(msg, **kw)
    return MalformedResponse(f"could not interpret the answer: {code}: {msg}", **kw)
