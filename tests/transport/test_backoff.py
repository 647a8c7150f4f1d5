from __future__ import annotations

import asyncio
import random

import pytest

from gapless.model.errors import (
    CircuitOpen,
    Disconnected,
    InvalidOrder,
    RateLimited,
    RequestTimeout,
    VenueUnavailable,
)
from gapless.transport.backoff import Backoff, retry
from gapless.transport.clock import FakeClock


def test_delay_is_full_jitter_within_exponential_capped_bounds() -> None:
    b = Backoff(base=0.1, cap=2.0, rng=random.Random(7))
    for attempt in range(12):
        ceiling = min(2.0, 0.1 * 2**attempt)
        assert b.ceiling(attempt) == pytest.approx(ceiling)
        draws = [b.delay(attempt) for _ in range(300)]
        assert all(0.0 <= d <= ceiling for d in draws)
        # jitter: spread over the whole range, not clustered at the ceiling
        assert min(draws) < 0.2 * ceiling and max(draws) > 0.8 * ceiling
    assert b.ceiling(10_000) == 2.0  # no overflow for huge attempt numbers


def test_delay_is_reproducible_with_seeded_rng() -> None:
    a = Backoff(rng=random.Random(1))
    b = Backoff(rng=random.Random(1))
    assert [a.delay(i) for i in range(8)] == [b.delay(i) for i in range(8)]


class Flaky:
    def __init__(self, errors: list[Exception]) -> None:
        self.errors = errors
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


async def _run(fn: Flaky, clock: FakeClock, **kw: object) -> asyncio.Task[str]:
    task = asyncio.create_task(
        retry(fn, attempts=kw.pop("attempts", 5), backoff=Backoff(rng=random.Random(3)), clock=clock, **kw)  # type: ignore[arg-type]
    )
    await clock.run_for(1000.0)
    return task


async def test_retries_retryable_then_succeeds() -> None:
    clock = FakeClock()
    fn = Flaky([VenueUnavailable("down"), RateLimited("slow")])
    task = await _run(fn, clock)
    assert task.result() == "ok" and fn.calls == 3


async def test_honours_retry_after_as_minimum_delay() -> None:
    clock = FakeClock()
    fn = Flaky([RateLimited("429", retry_after=30.0)])
    task = asyncio.create_task(retry(fn, attempts=3, backoff=Backoff(), clock=clock))
    await clock.settle()
    assert clock.next_deadline() == pytest.approx(30.0)
    clock.advance(29.0)
    await clock.settle()
    assert fn.calls == 1
    clock.advance(1.0)
    await clock.settle()
    assert task.result() == "ok"


@pytest.mark.parametrize(
    "err",
    [
        InvalidOrder("rejected"),  # REJECTED
        CircuitOpen("denied locally"),  # DENIED (even though "retryable later")
        RequestTimeout("unknown"),  # UNKNOWN: must be resolved by query, never resent
        Disconnected("unknown"),
        RateLimited("banned", banned=True, retry_after=120.0),  # bans are not waited out
    ],
)
async def test_never_retries_non_retryable_outcomes(err: Exception) -> None:
    clock = FakeClock()
    fn = Flaky([err])
    task = await _run(fn, clock)
    with pytest.raises(type(err)):
        task.result()
    assert fn.calls == 1


async def test_gives_up_after_attempts_with_last_error() -> None:
    clock = FakeClock()
    fn = Flaky([VenueUnavailable(str(i)) for i in range(10)])
    task = await _run(fn, clock, attempts=4)
    with pytest.raises(VenueUnavailable, match="3"):
        task.result()
    assert fn.calls == 4


async def test_max_wait_reraises_instead_of_long_sleep() -> None:
    clock = FakeClock()
    fn = Flaky([RateLimited("429", retry_after=600.0)])
    task = await _run(fn, clock, max_wait=10.0)
    with pytest.raises(RateLimited):
        task.result()
    assert fn.calls == 1


async def test_non_gapless_exceptions_propagate() -> None:
    clock = FakeClock()
    fn = Flaky([KeyError("bug")])
    task = await _run(fn, clock)
    with pytest.raises(KeyError):
        task.result()
