from __future__ import annotations

import asyncio

import pytest

from gapless.model.errors import ConfigError, RateLimited
from gapless.transport.clock import FakeClock
from gapless.transport.ratelimit import DecayRule, LimitRule, Priority, RateLimiter

BINANCE = [
    LimitRule("weight", 6000, 60.0),
    LimitRule("orders_10s", 50, 10.0),
    LimitRule("orders_1d", 160000, 86400.0),
]
ORDER = {"weight": 1, "orders_10s": 1, "orders_1d": 1}


def make(rules=None, start=0.0, **kw) -> tuple[RateLimiter, FakeClock]:
    clock = FakeClock(start)
    return RateLimiter("binance", rules or BINANCE, clock=clock, **kw), clock


async def test_starts_at_70_percent_and_fast_path_needs_no_sleep() -> None:
    lim, clock = make()
    assert lim.effective_limit("weight") == 4200
    assert lim.effective_limit("orders_10s") == 35
    for _ in range(35):
        await lim.acquire(ORDER, Priority.ORDER)  # never suspends
    assert lim.used("orders_10s") == 35
    assert clock.pending == 0


async def test_computed_wait_sleeps_exactly_until_window_end() -> None:
    lim, clock = make(rules=[LimitRule("w", 10, 10.0)], start=3.0, start_fraction=1.0)
    for _ in range(10):
        await lim.acquire({"w": 1})
    task = asyncio.create_task(lim.acquire({"w": 1}))
    await clock.settle()
    assert not task.done()
    assert clock.pending == 1  # exactly one timer, no polling
    assert clock.next_deadline() == pytest.approx(10.0)  # window [0, 10) ends at 10
    clock.advance(6.999)
    await clock.settle()
    assert not task.done()
    clock.advance(0.001)
    await clock.settle()
    assert task.done()
    assert lim.used("w") == 1


async def test_cancel_jumps_the_queue() -> None:
    lim, clock = make(rules=[LimitRule("w", 2, 1.0)], start_fraction=1.0)
    await lim.acquire({"w": 2})
    served: list[str] = []

    async def req(tag: str, prio: Priority) -> None:
        await lim.acquire({"w": 1}, prio)
        served.append(tag)

    tasks = [asyncio.create_task(req("q1", Priority.QUERY))]
    await clock.settle()
    tasks.append(asyncio.create_task(req("o1", Priority.ORDER)))
    await clock.settle()
    tasks.append(asyncio.create_task(req("q2", Priority.QUERY)))
    await clock.settle()
    tasks.append(asyncio.create_task(req("c1", Priority.CANCEL)))
    await clock.settle()
    assert served == []
    assert lim.queued == 4
    clock.advance(1.0)
    await clock.settle()
    assert served == ["c1", "o1"]  # two fit in the new window: cancel first, then order
    clock.advance(1.0)
    await clock.settle()
    assert served == ["c1", "o1", "q1", "q2"]  # FIFO within a lane
    await asyncio.gather(*tasks)


async def test_new_cancel_goes_immediately_when_it_fits_ahead_of_queries() -> None:
    lim, clock = make(rules=[LimitRule("w", 10, 1.0), LimitRule("o", 1, 10.0)], start_fraction=1.0)
    await lim.acquire({"o": 1})
    blocked = asyncio.create_task(lim.acquire({"w": 1, "o": 1}, Priority.ORDER))
    await clock.settle()
    assert not blocked.done()
    await asyncio.wait_for(lim.acquire({"w": 1}, Priority.CANCEL), 1)  # not stuck behind order
    blocked.cancel()


async def test_cancelled_waiter_does_not_block_the_next() -> None:
    lim, clock = make(rules=[LimitRule("w", 1, 1.0)], start_fraction=1.0)
    await lim.acquire({"w": 1})
    a = asyncio.create_task(lim.acquire({"w": 1}))
    b = asyncio.create_task(lim.acquire({"w": 1}))
    await clock.settle()
    a.cancel()
    await clock.settle()
    clock.advance(1.0)
    await clock.settle()
    assert b.done() and not b.cancelled()


async def test_adapts_upward_per_clean_period_up_to_full() -> None:
    lim, clock = make(rules=[LimitRule("o", 100, 10.0)])
    assert lim.effective_limit("o") == 70
    lim.on_success()
    assert lim.effective_limit("o") == 70  # no clean period yet
    for expected in (75, 80, 85, 90, 95, 100, 100):
        clock.advance(10.0)
        lim.on_success()
        assert lim.effective_limit("o") == expected
    assert lim.fraction("o") == 1.0


async def test_429_cuts_and_blocks_until_retry_after() -> None:
    lim, clock = make(rules=[LimitRule("w", 100, 60.0)])
    lim.on_rate_limited(7.0)
    assert lim.effective_limit("w") == 35  # 70 % x 0.5
    task = asyncio.create_task(lim.acquire({"w": 1}))
    await clock.settle()
    assert clock.next_deadline() == pytest.approx(7.0)
    clock.advance(6.5)
    await clock.settle()
    assert not task.done()
    clock.advance(0.5)
    await clock.settle()
    assert task.done()
    # repeated cuts floor at 10 %
    for _ in range(10):
        lim.on_rate_limited(None)
    assert lim.effective_limit("w") == 10


async def test_429_on_one_rule_only_cuts_that_rule() -> None:
    lim, _ = make()
    lim.on_rate_limited(None, rule="orders_10s")
    assert lim.effective_limit("orders_10s") == 17
    assert lim.effective_limit("weight") == 4200
    # no Retry-After: the named pool counts as full until its window ends
    assert lim.used("orders_10s") >= 17


async def test_429_without_retry_after_waits_for_window_end() -> None:
    lim, clock = make(rules=[LimitRule("w", 100, 10.0)], start=2.0)
    lim.on_rate_limited(None)
    task = asyncio.create_task(lim.acquire({"w": 1}))
    await clock.settle()
    assert clock.next_deadline() == pytest.approx(10.0)
    clock.advance(8.0)
    await clock.settle()
    assert task.done()


async def test_418_ban_raises_immediately_then_resumes() -> None:
    lim, clock = make()
    lim.on_rate_limited(120.0, banned=True)
    with pytest.raises(RateLimited) as ei:
        await lim.acquire(ORDER, Priority.CANCEL)
    assert ei.value.banned and ei.value.retry_after == pytest.approx(120.0)
    clock.advance(100.0)
    with pytest.raises(RateLimited) as ei:
        await lim.acquire(ORDER)
    assert ei.value.retry_after == pytest.approx(20.0)
    clock.advance(20.0)
    await lim.acquire(ORDER)  # ban over
    assert lim.banned_for() == 0.0


async def test_ban_wakes_queued_waiters_with_error() -> None:
    lim, clock = make(rules=[LimitRule("w", 1, 60.0)], start_fraction=1.0)
    await lim.acquire({"w": 1})
    task = asyncio.create_task(lim.acquire({"w": 1}))
    await clock.settle()
    lim.on_rate_limited(300.0, banned=True)
    await clock.settle()
    with pytest.raises(RateLimited) as ei:
        await task
    assert ei.value.banned


async def test_sync_adopts_higher_venue_count_only() -> None:
    lim, clock = make(rules=[LimitRule("weight", 1000, 60.0)], start_fraction=1.0)
    await lim.acquire({"weight": 10})
    lim.sync("weight", 995)
    assert lim.used("weight") == 995
    lim.sync("weight", 5)  # lower than ours: ignored
    assert lim.used("weight") == 995
    lim.sync("nope", 3)  # pools this limiter does not meter are ignored
    task = asyncio.create_task(lim.acquire({"weight": 10}))
    await clock.settle()
    assert not task.done()
    clock.advance(60.0)
    await clock.settle()
    assert task.done()


async def test_unknown_cost_key_is_config_error() -> None:
    lim, _ = make()
    with pytest.raises(ConfigError):
        await lim.acquire({"wieght": 1})


async def test_oversized_request_fits_an_empty_window() -> None:
    lim, _ = make(rules=[LimitRule("w", 10, 1.0)])
    await lim.acquire({"w": 9})  # > 70 % of 10, but the window is empty


async def test_many_waiters_are_served_across_windows_without_polling() -> None:
    lim, clock = make(rules=[LimitRule("o", 10, 10.0)], start_fraction=1.0)
    tasks = [asyncio.create_task(lim.acquire({"o": 1}, Priority.ORDER)) for _ in range(35)]
    await clock.settle()
    assert sum(t.done() for t in tasks) == 10
    assert clock.pending == 1
    await clock.run_for(30.0)
    assert all(t.done() for t in tasks)


# -- decaying counters (Kraken's REST counter: max 15, -0.33/s for "Starter") -----------
STARTER = [DecayRule("rest", 15, 0.33)]


async def test_decay_rule_starts_at_70_percent_of_its_max_and_drains_continuously() -> None:
    lim, clock = make(rules=STARTER)
    assert lim.effective_limit("rest") == pytest.approx(10.5)
    for _ in range(10):
        await lim.acquire({"rest": 1})  # a burst up to 70 % of the max goes at once
    assert clock.pending == 0 and lim.waits == 0
    assert lim.used("rest") == pytest.approx(10)
    clock.advance(3.0)
    assert lim.used("rest") == pytest.approx(10 - 0.99)  # no window boundary: a steady drain


async def test_decay_rule_wait_is_computed_as_the_drain_time() -> None:
    lim, clock = make(rules=[DecayRule("rest", 20, 1.0)], start=5.0, start_fraction=1.0)
    await lim.acquire({"rest": 20})
    task = asyncio.create_task(lim.acquire({"rest": 2}))
    await clock.settle()
    assert clock.pending == 1  # one timer armed, no polling
    assert clock.next_deadline() == pytest.approx(7.0)  # 2 units drain in 2 s
    assert lim.waits == 1 and lim.recent_waits[-1] == (Priority.QUERY, {"rest": 2})
    clock.advance(1.999)
    await clock.settle()
    assert not task.done()
    clock.advance(0.001)
    await clock.settle()
    assert task.done()
    assert lim.used("rest") == pytest.approx(20)


async def test_decay_rule_sustains_exactly_the_decay_rate() -> None:
    lim, clock = make(rules=[DecayRule("rest", 20, 1.0)], start_fraction=1.0)
    tasks = [asyncio.create_task(lim.acquire({"rest": 1})) for _ in range(40)]
    await clock.settle()
    assert sum(t.done() for t in tasks) == 20  # the burst
    await clock.run_for(10.0)
    assert sum(t.done() for t in tasks) == 30  # then one per second
    await clock.run_for(10.0)
    assert all(t.done() for t in tasks)


async def test_decay_rule_feedback_sync_cut_and_full_on_429() -> None:
    lim, clock = make(rules=[DecayRule("rest", 20, 1.0)], start_fraction=1.0)
    lim.sync("rest", 12)
    assert lim.used("rest") == pytest.approx(12)
    lim.sync("rest", 3)  # lower than ours: ignored
    assert lim.used("rest") == pytest.approx(12)
    lim.on_rate_limited(None)  # no hint: the counter is full at the (cut) allowance
    assert lim.effective_limit("rest") == pytest.approx(10)
    assert lim.used("rest") == pytest.approx(12)
    task = asyncio.create_task(lim.acquire({"rest": 1}))
    await clock.settle()
    assert clock.next_deadline() == pytest.approx(3.0)  # 12 -> 9 leaves room for 1
    await clock.run_for(3.0)
    assert task.done()


async def test_decay_rule_adapts_upward_per_drain_period() -> None:
    lim, clock = make(rules=[DecayRule("rest", 20, 1.0)])
    assert lim.effective_limit("rest") == pytest.approx(14)
    clock.advance(20.0)  # a full counter drains in 20 s: one clean period
    lim.on_success()
    assert lim.effective_limit("rest") == pytest.approx(15)


async def test_try_acquire_takes_only_what_fits_now_and_never_queues() -> None:
    lim, clock = make(rules=[DecayRule("rest", 15, 0.33)])
    assert lim.try_acquire({"rest": 10})
    assert not lim.try_acquire({"rest": 1})  # 11 > 10.5: would have to wait
    assert lim.used("rest") == pytest.approx(10)  # nothing taken
    assert lim.waits == 0 and clock.pending == 0 and lim.queued == 0
    clock.advance(10.0)
    assert lim.try_acquire({"rest": 1})
    lim.on_rate_limited(60.0, banned=True)
    assert not lim.try_acquire({"rest": 1})  # a ban is a "no", not an exception


async def test_try_acquire_does_not_overtake_a_waiter_of_equal_priority() -> None:
    lim, clock = make(rules=[DecayRule("rest", 10, 1.0)], start_fraction=1.0)
    await lim.acquire({"rest": 9})
    waiting = asyncio.create_task(lim.acquire({"rest": 5}))
    await clock.settle()
    assert not lim.try_acquire({"rest": 1})  # would fit, but a query waits first
    assert lim.try_acquire({"rest": 1}, Priority.CANCEL)
    waiting.cancel()


async def test_invalid_decay_rule_is_config_error() -> None:
    for bad in (DecayRule("r", 0, 1.0), DecayRule("r", 10, 0.0), DecayRule("r", 10, float("nan"))):
        with pytest.raises(ConfigError):
            make(rules=[bad])


async def test_window_and_decay_rules_mix_in_one_limiter() -> None:
    lim, clock = make(rules=[LimitRule("w", 2, 10.0), DecayRule("d", 100, 1.0)], start_fraction=1.0)
    await lim.acquire({"w": 1, "d": 1})
    await lim.acquire({"w": 1, "d": 1})
    task = asyncio.create_task(lim.acquire({"w": 1, "d": 1}))
    await clock.settle()
    assert clock.next_deadline() == pytest.approx(10.0)  # the window rule binds
    await clock.run_for(10.0)
    assert task.done()
