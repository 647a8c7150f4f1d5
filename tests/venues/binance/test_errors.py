from __future__ import annotations

import orjson
import pytest

from gapless.model.errors import (
    AuthError,
    DuplicateClientOrderId,
    GaplessError,
    InsufficientFunds,
    InvalidOrder,
    MalformedResponse,
    OrderNotFound,
    Outcome,
    RateLimited,
    Rejected,
    ServerError,
    TimestampRejected,
    VenueUnavailable,
)
from gapless.venues.binance.errors import map_error


def body(code: int, msg: str) -> bytes:
    return orjson.dumps({"code": code, "msg": msg})


TABLE: list[tuple[int, bytes, type[GaplessError]]] = [
    (400, body(-2010, "Account has insufficient balance for requested action."), InsufficientFunds),
    (400, body(-2010, "Duplicate order sent."), DuplicateClientOrderId),
    (400, body(-2010, "Order would immediately match and take."), InvalidOrder),
    (400, body(-2010, "Market is closed."), InvalidOrder),
    (400, body(-1013, "Filter failure: PRICE_FILTER"), InvalidOrder),
    (400, body(-1111, "Parameter 'price' has too much precision."), InvalidOrder),
    (400, body(-1121, "Invalid symbol."), InvalidOrder),
    (400, body(-1102, "Mandatory parameter 'side' was not sent."), InvalidOrder),
    (400, body(-2011, "Unknown order sent."), OrderNotFound),
    (400, body(-2013, "Order does not exist."), OrderNotFound),
    (400, body(-1021, "Timestamp for this request is outside of the recvWindow."), TimestampRejected),
    (400, body(-1022, "Signature for this request is not valid."), AuthError),
    (401, body(-2014, "API-key format invalid."), AuthError),
    (401, body(-2015, "Invalid API-key, IP, or permissions for action."), AuthError),
    (429, body(-1003, "Too much request weight used"), RateLimited),
    (429, body(-1015, "Too many new orders."), RateLimited),
    (418, body(-1003, "Way too much request weight used; IP banned"), RateLimited),
    (500, body(-1001, "Internal error"), ServerError),
    (502, b"<html>bad gateway</html>", ServerError),
    (504, body(-1007, "Timeout waiting for response from backend server."), ServerError),
    (400, body(-1007, "Timeout waiting for response from backend server."), ServerError),
    (400, b"<html>nope</html>", MalformedResponse),
    (400, b'{"code":"not-int","msg":1}', MalformedResponse),
    (403, b"<html>WAF</html>", AuthError),
    (400, body(-9999, "something new"), Rejected),
]


@pytest.mark.parametrize(("status", "raw", "expected"), TABLE)
def test_error_table(status: int, raw: bytes, expected: type[GaplessError]) -> None:
    err = map_error(status, {}, raw, mutating=True)
    assert type(err) is expected
    assert err.venue == "binance"


def test_rate_limit_retry_after_and_ban() -> None:
    err = map_error(429, {"Retry-After": "7"}, body(-1003, "x"))
    assert isinstance(err, RateLimited) and err.retry_after == 7.0 and not err.banned
    assert err.outcome is Outcome.RETRYABLE
    ban = map_error(418, {"retry-after": "120"}, body(-1003, "banned"))
    assert isinstance(ban, RateLimited) and ban.banned and ban.retry_after == 120.0
    odd = map_error(429, {"RETRY-AFTER": "soon"}, b"")
    assert isinstance(odd, RateLimited) and odd.retry_after is None


def test_503_depends_on_whether_the_request_mutates() -> None:
    # a create/cancel may already be in the book: outcome unknown
    create = map_error(503, {}, b"Service Unavailable", mutating=True)
    assert isinstance(create, ServerError) and create.outcome is Outcome.UNKNOWN
    # a read that got 503 did nothing: retryable
    read = map_error(503, {}, b"Service Unavailable", mutating=False)
    assert isinstance(read, VenueUnavailable) and read.outcome is Outcome.RETRYABLE


def test_codes_are_kept() -> None:
    err = map_error(400, {}, body(-2013, "Order does not exist."))
    assert err.code == -2013 and "does not exist" in str(err)


def test_503_with_internal_error_body() -> None:
    raw = body(-1001, "Internal error; unable to process your request. Please try again.")
    assert isinstance(map_error(503, {}, raw, mutating=False), VenueUnavailable)
    assert isinstance(map_error(503, {}, raw, mutating=True), ServerError)
