"""Every Bybit error lands in the error tree with the right outcome."""

from __future__ import annotations

import time

import pytest

from gapless.model.errors import (
    AuthError,
    DuplicateClientOrderId,
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
from gapless.venues.bybit.errors import map_code, map_status


@pytest.mark.parametrize(
    ("code", "cls", "outcome"),
    [
        (10001, InvalidOrder, Outcome.REJECTED),
        (10002, TimestampRejected, Outcome.REJECTED),
        (10003, AuthError, Outcome.REJECTED),
        (10004, AuthError, Outcome.REJECTED),
        (10005, AuthError, Outcome.REJECTED),
        (10006, RateLimited, Outcome.RETRYABLE),
        (10000, ServerError, Outcome.UNKNOWN),
        (170007, ServerError, Outcome.UNKNOWN),
        (110001, OrderNotFound, Outcome.REJECTED),
        (170213, OrderNotFound, Outcome.REJECTED),
        (170131, InsufficientFunds, Outcome.REJECTED),
        (170141, DuplicateClientOrderId, Outcome.REJECTED),
        (110072, DuplicateClientOrderId, Outcome.REJECTED),
        (170218, InvalidOrder, Outcome.REJECTED),
        (170134, InvalidOrder, Outcome.REJECTED),
        (170140, InvalidOrder, Outcome.REJECTED),
        (170121, InvalidOrder, Outcome.REJECTED),
        (170005, RateLimited, Outcome.RETRYABLE),
        (99999, Rejected, Outcome.REJECTED),
    ],
)
def test_ret_codes(code: int, cls: type, outcome: Outcome) -> None:
    err = map_code(code, "msg", {}, mutating=True)
    assert type(err) is cls and err.outcome is outcome and err.code == code


def test_busy_is_unknown_only_for_mutations() -> None:
    assert isinstance(map_code(10016, "Server error.", {}, mutating=True), ServerError)
    assert isinstance(map_code(10016, "Server error.", {}, mutating=False), VenueUnavailable)


def test_rate_limit_waits_until_reset_header() -> None:
    reset = int((time.time() + 3) * 1000)
    err = map_code(10006, "Too many visits!", {"x-bapi-limit-reset-timestamp": str(reset)})
    assert isinstance(err, RateLimited) and err.retry_after is not None
    assert 1.5 < err.retry_after <= 3.0


@pytest.mark.parametrize(
    ("status", "mutating", "cls", "outcome"),
    [
        (403, False, RateLimited, Outcome.RETRYABLE),
        (429, True, RateLimited, Outcome.RETRYABLE),
        (401, False, AuthError, Outcome.REJECTED),
        (503, False, VenueUnavailable, Outcome.RETRYABLE),
        (503, True, ServerError, Outcome.UNKNOWN),
        (502, False, ServerError, Outcome.UNKNOWN),
        (404, False, Rejected, Outcome.REJECTED),
        (302, False, MalformedResponse, Outcome.UNKNOWN),
    ],
)
def test_http_status(status: int, mutating: bool, cls: type, outcome: Outcome) -> None:
    err = map_status(status, {}, b"oops", mutating=mutating)
    assert type(err) is cls and err.outcome is outcome


def test_ip_limit_is_a_ban() -> None:
    err = map_status(403, {}, b"403, access too frequent")
    assert isinstance(err, RateLimited) and err.banned and err.retry_after == 600.0
