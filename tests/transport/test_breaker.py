from __future__ import annotations

import pytest

from gapless.model.errors import CircuitOpen, Outcome
from gapless.transport.breaker import (
    BreakerSet,
    BreakerState,
    CircuitBreaker,
    ConnKind,
    FailureKind,
)
from gapless.transport.clock import FakeClock


def make(**kw: object) -> tuple[CircuitBreaker, FakeClock]:
    clock = FakeClock()
    return CircuitBreaker("binance", ConnKind.REST_PRIVATE, clock=clock, **kw), clock  # type: ignore[arg-type]


def test_closed_until_threshold_consecutive_failures() -> None:
    b, _ = make(threshold=3)
    for _ in range(2):
        b.record_failure(FailureKind.VENUE_DOWN)
        b.check()
    b.record_success()  # resets
    for _ in range(2):
        b.record_failure(FailureKind.VENUE_DOWN)
    assert b.state is BreakerState.CLOSED
    b.record_failure(FailureKind.VENUE_DOWN)
    assert b.state is BreakerState.OPEN
    with pytest.raises(CircuitOpen) as ei:
        b.check()
    assert ei.value.outcome is Outcome.DENIED
    assert "venue_down" in str(ei.value)
    assert ei.value.retry_after == pytest.approx(5.0)


def test_kinds_count_separately_and_error_names_the_tripping_kind() -> None:
    b, _ = make(threshold=3)
    b.record_failure(FailureKind.CONNECTION)
    b.record_failure(FailureKind.CONNECTION)
    b.record_failure(FailureKind.BAD_DATA)
    b.record_failure(FailureKind.BAD_DATA)
    assert b.state is BreakerState.CLOSED  # 2 + 2, but no kind reached 3
    b.record_failure(FailureKind.BAD_DATA)
    assert b.state is BreakerState.OPEN and b.tripped_by is FailureKind.BAD_DATA
    with pytest.raises(CircuitOpen, match="bad_data"):
        b.check()


def test_per_kind_thresholds() -> None:
    b, _ = make(threshold=5, thresholds={FailureKind.BAD_DATA: 1})
    b.record_failure(FailureKind.BAD_DATA)
    assert b.state is BreakerState.OPEN


def test_half_open_allows_one_probe_then_closes_on_success() -> None:
    b, clock = make(threshold=1, reset_after=5.0)
    b.record_failure(FailureKind.CONNECTION)
    clock.advance(4.9)
    with pytest.raises(CircuitOpen):
        b.check()
    clock.advance(0.1)
    assert b.state is BreakerState.HALF_OPEN
    b.check()  # the probe
    with pytest.raises(CircuitOpen):
        b.check()  # only one probe in flight
    b.record_success()
    assert b.state is BreakerState.CLOSED
    b.check()


def test_half_open_probe_failure_reopens() -> None:
    b, clock = make(threshold=2, reset_after=5.0)
    b.record_failure(FailureKind.VENUE_DOWN)
    b.record_failure(FailureKind.VENUE_DOWN)
    clock.advance(5.0)
    b.check()
    b.record_failure(FailureKind.CONNECTION)  # a single failure in half-open re-opens
    assert b.state is BreakerState.OPEN and b.tripped_by is FailureKind.CONNECTION
    assert b.trips == 2


def test_lost_probe_allows_another_after_reset_after() -> None:
    b, clock = make(threshold=1, reset_after=2.0)
    b.record_failure(FailureKind.CONNECTION)
    clock.advance(2.0)
    b.check()
    clock.advance(2.0)
    b.check()  # the first probe never reported back


def test_breaker_set_is_per_kind_and_stable() -> None:
    s = BreakerSet("okx", FakeClock(), threshold=1)
    pub, priv = s.get(ConnKind.REST_PUBLIC), s.get(ConnKind.REST_PRIVATE)
    assert pub is s.get(ConnKind.REST_PUBLIC) and pub is not priv
    pub.record_failure(FailureKind.VENUE_DOWN)
    assert pub.state is BreakerState.OPEN and priv.state is BreakerState.CLOSED


def test_transport_success_does_not_clear_bad_data() -> None:
    """A venue answering 200 with garbage must still trip: the HTTP layer's success only
    vouches for the transport, and the parser's verdict decides BAD_DATA."""
    from gapless.transport.breaker import BreakerState, CircuitBreaker, ConnKind, FailureKind
    from gapless.transport.clock import FakeClock

    b = CircuitBreaker("v", ConnKind.REST_PRIVATE, threshold=3, clock=FakeClock())
    for _ in range(3):
        b.record_success(data_ok=False)  # HTTP 200 arrived
        b.record_failure(FailureKind.BAD_DATA)  # but did not parse
    assert b.state is BreakerState.OPEN and b.tripped_by is FailureKind.BAD_DATA
    b.record_success(data_ok=False)
    assert b.state is BreakerState.OPEN  # transport fine, data still unproven
    b.record_success()
    assert b.state is BreakerState.CLOSED and b.failures(FailureKind.BAD_DATA) == 0
