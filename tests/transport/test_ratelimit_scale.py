"""The benchmark's limit scale is an explicit per-limiter parameter, carried per venue by
``VenueConfig.limit_scale``: nothing module-global, so one venue's bench setting can never
leak into another limiter."""

from __future__ import annotations

import pytest

from gapless.model.errors import ConfigError
from gapless.transport.clock import FakeClock
from gapless.transport.ratelimit import DecayRule, LimitRule, RateLimiter
from gapless.venues.base import VenueConfig
from gapless.venues.registry import NATIVE_VENUES, create_venue

RULES = [LimitRule("weight", 100, 60.0), DecayRule("counter", 20.0, 0.5)]


def test_scale_multiplies_every_rule_of_that_limiter_only() -> None:
    clock = FakeClock(start=1000.0)
    plain = RateLimiter("v", RULES, clock=clock, start_fraction=1.0)
    scaled = RateLimiter("v", RULES, clock=clock, start_fraction=1.0, scale=1000)
    assert plain.rules == RULES
    assert scaled.rules == [LimitRule("weight", 100_000, 60.0), DecayRule("counter", 20_000.0, 500.0)]
    assert scaled.effective_limit("weight") == 1000 * plain.effective_limit("weight")
    assert RateLimiter("v", RULES, clock=clock).rules == RULES  # the scaled one changed nothing


async def test_a_scaled_limiter_admits_beyond_the_published_limit_without_waiting() -> None:
    clock = FakeClock(start=1000.0)  # frozen: an unscaled limiter would queue the 11th forever
    scaled = RateLimiter("v", [LimitRule("w", 10, 60.0)], clock=clock, start_fraction=1.0, scale=10)
    for _ in range(50):
        await scaled.acquire({"w": 1})
    assert scaled.waits == 0 and scaled.used("w") == 50


@pytest.mark.parametrize("scale", [0, -1])
def test_scale_must_be_positive(scale: int) -> None:
    with pytest.raises(ConfigError):
        RateLimiter("v", RULES, scale=scale)


@pytest.mark.parametrize("driver", [*NATIVE_VENUES, "ccxt"])
def test_every_adapter_builds_its_limiter_with_the_configured_scale(driver: str) -> None:
    options = {"exchange": "binance"} if driver == "ccxt" else {}

    def rules(scale: int) -> list[object]:
        venue = create_venue(VenueConfig(name=driver, driver=driver, rest_url="http://127.0.0.1:9",
                                         options=options, limit_scale=scale))
        return list(venue.limiter.rules)  # type: ignore[attr-defined]

    plain, scaled = rules(1), rules(1000)
    assert len(plain) == len(scaled) > 0
    for a, b in zip(plain, scaled, strict=True):
        if isinstance(a, LimitRule):
            assert isinstance(b, LimitRule) and b.limit == 1000 * a.limit
        else:
            assert isinstance(a, DecayRule) and isinstance(b, DecayRule)
            assert b.capacity == 1000 * a.capacity
