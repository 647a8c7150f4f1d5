"""Exponential backoff with full jitter and a cap, and the one retry policy.

``Backoff.delay(attempt)`` draws uniformly from ``[0, min(cap, base * 2**attempt)]``
("full jitter"): clients that failed together spread out instead of retrying in lockstep,
and the cap keeps a long outage from growing the delay without bound.

``retry`` retries only errors whose outcome is ``Outcome.RETRYABLE`` (the request
provably did not execute). REJECTED, DENIED and UNKNOWN outcomes are re-raised at once:
an UNKNOWN create must be resolved by querying, never by blind resending.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from gapless.model.errors import GaplessError, Outcome, RateLimited
from gapless.transport.clock import Clock

T = TypeVar("T")


class Backoff:
    __slots__ = ("base", "cap", "rng")

    def __init__(self, base: float = 0.05, cap: float = 5.0, rng: random.Random | None = None) -> None:
        if base <= 0 or cap < base:
            raise ValueError("need 0 < base <= cap")
        self.base = base
        self.cap = cap
        self.rng = rng or random.Random()

    def ceiling(self, attempt: int) -> float:
        """Upper bound of the delay for ``attempt`` (0-based)."""
        if attempt >= 64:
            return self.cap
        return min(self.cap, self.base * (1 << max(0, attempt)))

    def delay(self, attempt: int) -> float:
        return self.rng.uniform(0.0, self.ceiling(attempt))


async def retry(
    fn: Callable[[], Awaitable[T]],
    *,
    attempts: int,
    backoff: Backoff,
    clock: Clock,
    max_wait: float | None = None,
) -> T:
    """Call ``fn`` up to ``attempts`` times, sleeping between RETRYABLE failures.

    The sleep is ``max(retry_after, backoff.delay(i))``. Bans (``RateLimited`` with
    ``banned=True``) are not waited out here: they last minutes to days and are re-raised.
    With ``max_wait`` set, a failure that would need a longer sleep is re-raised too.
    """
    if attempts < 1:
        raise ValueError("attempts must be >= 1")
    last = attempts - 1
    for i in range(attempts):
        try:
            return await fn()
        except GaplessError as e:
            if e.outcome is not Outcome.RETRYABLE or i == last:
                raise
            if isinstance(e, RateLimited) and e.banned:
                raise
            d = backoff.delay(i)
            if e.retry_after is not None and e.retry_after > d:
                d = e.retry_after
            if max_wait is not None and d > max_wait:
                raise
            await clock.sleep(d)
    raise AssertionError("unreachable")  # pragma: no cover
