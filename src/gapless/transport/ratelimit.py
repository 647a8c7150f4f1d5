"""Client-side rate limiting with priority lanes, venue feedback and adaptive headroom.

Design
------
* **Limits are data.** A :class:`RateLimiter` owns one bucket per :class:`LimitRule`
  (e.g. Binance ``weight`` 6000/60 s per IP, ``orders_10s`` 50/10 s and ``orders_1d``
  160000/day per account). Each request states what it costs in each bucket
  (``{"weight": 1, "orders_10s": 1, "orders_1d": 1}``). One limiter instance models one
  metering scope and is meant to be shared by every client in that scope.
* **Fixed windows aligned to wall time.** The venues we model meter with fixed windows
  (Binance counts weight per calendar minute and reports the running count of *that*
  window in ``X-MBX-USED-WEIGHT-1M``). Counting the same windows makes :meth:`sync` an
  exact "adopt the higher count", makes the wait for a full bucket exactly "until the
  window ends", and costs O(1) memory and time per rule (a sliding log for 160000/day
  would not). The known weakness of fixed windows (two windows' worth of bursts around a
  boundary) is the venue's own accounting, so it cannot cause a rejection.
* **Decaying counters.** Kraken meters with a counter that every request raises by its cost
  and that drains continuously at a fixed rate, capped at a maximum (a leaky bucket). A
  :class:`DecayRule` models exactly that: the wait for a request is the time the level needs
  to drain to ``allowed - cost``, computed, never polled. Fixed-window rules and decay rules
  mix freely in one limiter.
* **Computed waits, no polling.** When the request at the head of the queue does not fit,
  the limiter computes when it will (window end, or the end of a ``Retry-After`` block)
  and arms exactly one timer on the injected clock for that instant.
* **Priority lanes.** Waiters are served strictly by (priority, arrival): a waiting
  CANCEL goes before any waiting ORDER, which goes before any waiting QUERY. A newly
  arriving request never overtakes an equal-or-higher-priority waiter.
* **Adaptive headroom.** Each bucket starts at ``start_fraction`` of the published limit
  and gains ``raise_step`` of the limit after every clean period (``min(window, 60 s)``
  with successes and without a rate-limit rejection), up to 100 %. A 429 multiplies the
  fraction by ``cut_factor`` (floor ``floor_fraction``) and blocks all requests until
  ``Retry-After``; a 418 ban halts the limiter: :meth:`RateLimiter.acquire` raises
  ``RateLimited(banned=True)`` at once until the ban ends.
"""

from __future__ import annotations

import asyncio
import enum
import heapq
import itertools
import math
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gapless.model.errors import ConfigError, RateLimited
from gapless.transport.clock import REAL_CLOCK, Clock

_EPS = 1e-9


class Priority(enum.IntEnum):
    """Lower value is served first."""

    CANCEL = 0
    ORDER = 1
    QUERY = 2


@dataclass(frozen=True, slots=True)
class LimitRule:
    """``limit`` units per fixed window of ``window_s`` seconds, keyed by ``name``."""

    name: str
    limit: int
    window_s: float


@dataclass(frozen=True, slots=True)
class DecayRule:
    """A counter raised by each request's cost and drained at ``decay_per_s`` units per
    second; a request may go while the level stays within ``capacity`` (a leaky bucket)."""

    name: str
    capacity: float
    decay_per_s: float


Rule = LimitRule | DecayRule


class _Bucket:
    """Shared adaptive headroom: ``allowed`` is ``fraction`` of the published limit."""

    __slots__ = ("allowed", "fraction", "last_change", "limit", "period", "rule")

    def __init__(self, rule: Rule, limit: float, period: float, fraction: float,
                 now_m: float) -> None:
        self.rule = rule
        self.limit = limit
        self.period = period
        self.last_change = now_m
        self.fraction = 0.0
        self.allowed: float = 0
        self.set_fraction(fraction)

    def set_fraction(self, fraction: float) -> None:
        self.fraction = min(1.0, fraction)
        self.allowed = self._allowed()

    def _allowed(self) -> float:
        raise NotImplementedError

    def wait(self, now_w: float, now_m: float, cost: int) -> float:
        raise NotImplementedError

    def take(self, cost: int) -> None:
        raise NotImplementedError

    def level(self, now_w: float, now_m: float) -> float:
        raise NotImplementedError

    def adopt(self, now_w: float, now_m: float, used: float) -> None:
        """Raise our count to ``used`` (never lower it)."""
        raise NotImplementedError


class _WindowBucket(_Bucket):
    __slots__ = ("used", "window", "window_idx")

    def __init__(self, rule: LimitRule, fraction: float, now_m: float) -> None:
        if rule.limit <= 0 or rule.window_s <= 0:
            raise ConfigError(f"invalid limit rule {rule!r}")
        self.window = float(rule.window_s)
        self.window_idx = -1
        self.used = 0.0
        super().__init__(rule, rule.limit, min(self.window, 60.0), fraction, now_m)

    def _allowed(self) -> float:
        return max(1, int(self.limit * self.fraction + _EPS))

    def roll(self, now_w: float) -> None:
        idx = math.floor(now_w / self.window + _EPS)
        if idx != self.window_idx:
            self.window_idx = idx
            self.used = 0

    def wait(self, now_w: float, now_m: float, cost: int) -> float:
        self.roll(now_w)
        # An empty window admits any single request, or a request bigger than the
        # effective limit could never be served.
        if self.used + cost <= self.allowed or self.used == 0:
            return 0.0
        return max((self.window_idx + 1) * self.window - now_w, _EPS)

    def take(self, cost: int) -> None:
        self.used += cost

    def level(self, now_w: float, now_m: float) -> float:
        self.roll(now_w)
        return self.used

    def adopt(self, now_w: float, now_m: float, used: float) -> None:
        self.roll(now_w)
        if used > self.used:
            self.used = used


class _DecayBucket(_Bucket):
    """Level drains continuously on the monotonic clock; stored as (value, at)."""

    __slots__ = ("at", "decay", "value")

    def __init__(self, rule: DecayRule, fraction: float, now_m: float) -> None:
        if not (rule.capacity > 0 and rule.decay_per_s > 0
                and math.isfinite(rule.capacity) and math.isfinite(rule.decay_per_s)):
            raise ConfigError(f"invalid limit rule {rule!r}")
        self.decay = float(rule.decay_per_s)
        self.value = 0.0
        self.at = now_m
        # one clean period = the time a full counter needs to drain (at most a minute)
        super().__init__(rule, float(rule.capacity), min(rule.capacity / self.decay, 60.0),
                         fraction, now_m)

    def _allowed(self) -> float:
        return max(1.0, self.limit * self.fraction)

    def level(self, now_w: float, now_m: float) -> float:
        if now_m > self.at:
            self.value = max(0.0, self.value - (now_m - self.at) * self.decay)
            self.at = now_m
        return self.value

    def wait(self, now_w: float, now_m: float, cost: int) -> float:
        lvl = self.level(now_w, now_m)
        # An empty counter admits any single request (as an empty window does).
        if lvl + cost <= self.allowed + _EPS or lvl <= _EPS:
            return 0.0
        target = max(0.0, self.allowed - cost)
        return max((lvl - target) / self.decay, _EPS)

    def take(self, cost: int) -> None:
        self.value += cost

    def adopt(self, now_w: float, now_m: float, used: float) -> None:
        if used > self.level(now_w, now_m):
            self.value = float(used)


def _bucket(rule: Rule, fraction: float, now_m: float, scale: int) -> _Bucket:
    if isinstance(rule, DecayRule):
        if scale != 1:
            rule = DecayRule(rule.name, rule.capacity * scale, rule.decay_per_s * scale)
        return _DecayBucket(rule, fraction, now_m)
    if scale != 1:
        rule = LimitRule(rule.name, rule.limit * scale, rule.window_s)
    return _WindowBucket(rule, fraction, now_m)


class RateLimiter:
    """Shared, prioritised, adaptive limiter for one venue metering scope."""

    def __init__(
        self,
        venue: str,
        rules: Sequence[Rule],
        *,
        clock: Clock | None = None,
        start_fraction: float = 0.7,
        raise_step: float = 0.05,
        cut_factor: float = 0.5,
        floor_fraction: float = 0.1,
        default_ban_s: float = 120.0,
        scale: int = 1,
    ) -> None:
        """``scale`` multiplies every rule's limit (and a decay rule's drain): 1 in real
        use; ``gapless bench`` raises it to measure client paths, not published limits."""
        if not rules:
            raise ConfigError("a rate limiter needs at least one rule", venue=venue)
        if not 0 < start_fraction <= 1:
            raise ConfigError("start_fraction must be in (0, 1]", venue=venue)
        if scale < 1:
            raise ConfigError("scale must be a positive integer", venue=venue)
        self.venue = venue
        self._clock: Clock = clock or REAL_CLOCK
        now_m = self._clock.monotonic()
        self._buckets: dict[str, _Bucket] = {}
        for r in rules:
            if r.name in self._buckets:
                raise ConfigError(f"duplicate limit rule {r.name!r}", venue=venue)
            self._buckets[r.name] = _bucket(r, start_fraction, now_m, scale)
        self._all_full = start_fraction >= 1.0
        self._raise_step = raise_step
        self._cut_factor = cut_factor
        self._floor = floor_fraction
        self._default_ban_s = default_ban_s
        self._blocked_until = 0.0  # monotonic; set by 429 Retry-After
        self._banned_until = 0.0  # monotonic; set by 418
        self._seq = itertools.count()
        # heap entries: (priority, seq, costs, future)
        self._heap: list[tuple[int, int, Mapping[str, int], asyncio.Future[None]]] = []
        self._timer: asyncio.Task[None] | None = None
        self._timer_deadline = 0.0
        #: acquires that had to queue (a wait on budget), in total and the latest ones as
        #: (priority, costs): what callers and tests read to know whether anyone waited
        self.waits = 0
        self.recent_waits: deque[tuple[Priority, Mapping[str, int]]] = deque(maxlen=64)

    # ------------------------------------------------------------------ queries
    @property
    def rules(self) -> list[Rule]:
        return [b.rule for b in self._buckets.values()]

    def effective_limit(self, rule_name: str) -> float:
        return self._buckets[rule_name].allowed

    def fraction(self, rule_name: str) -> float:
        return self._buckets[rule_name].fraction

    def used(self, rule_name: str) -> float:
        """Units counted now: this window's count, or a decay rule's current level."""
        return self._buckets[rule_name].level(self._clock.time(), self._clock.monotonic())

    @property
    def queued(self) -> int:
        return sum(1 for e in self._heap if not e[3].done())

    def banned_for(self) -> float:
        """Seconds of ban left (0.0 when not banned)."""
        return max(0.0, self._banned_until - self._clock.monotonic())

    # ------------------------------------------------------------------ hot path
    async def acquire(self, costs: Mapping[str, int], priority: Priority = Priority.QUERY) -> None:
        """Wait until ``costs`` fit every bucket, then consume them.

        Raises ``RateLimited(banned=True)`` immediately while a ban is in force (and
        wakes queued waiters with the same error when a ban starts).
        """
        now_m = self._clock.monotonic()
        if self._banned_until > now_m:
            raise self._ban_error(now_m)
        w = self._wait(costs, now_m)
        heap = self._heap
        if w <= 0.0 and (not heap or priority < heap[0][0]):
            self._take(costs)
            return
        self.waits += 1
        self.recent_waits.append((Priority(priority), dict(costs)))
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(heap, (int(priority), next(self._seq), costs, fut))
        self._drain()
        try:
            await fut
        except asyncio.CancelledError:
            # The head may have changed; let the next waiter be evaluated.
            self._drain()
            raise

    def try_acquire(self, costs: Mapping[str, int], priority: Priority = Priority.QUERY) -> bool:
        """Consume ``costs`` if they fit right now (and nobody of equal or higher priority
        waits); otherwise take nothing and return False. Never waits, never raises a ban:
        for optional reads that must not delay an answer already in hand."""
        now_m = self._clock.monotonic()
        if self._banned_until > now_m:
            return False
        heap = self._heap
        if self._wait(costs, now_m) <= 0.0 and (not heap or priority < heap[0][0]):
            self._take(costs)
            return True
        return False

    def _wait(self, costs: Mapping[str, int], now_m: float) -> float:
        now_w = self._clock.time()
        w = self._blocked_until - now_m
        buckets = self._buckets
        for name, cost in costs.items():
            b = buckets.get(name)
            if b is None:
                raise ConfigError(f"unknown limit rule {name!r}", venue=self.venue)
            if cost:
                bw = b.wait(now_w, now_m, cost)
                if bw > w:
                    w = bw
        return w

    def _take(self, costs: Mapping[str, int]) -> None:
        buckets = self._buckets
        for name, cost in costs.items():
            if cost:
                buckets[name].take(cost)

    # ------------------------------------------------------------------ queue
    def _drain(self) -> None:
        heap = self._heap
        while heap:
            _, _, costs, fut = heap[0]
            if fut.done():  # cancelled waiter
                heapq.heappop(heap)
                continue
            now_m = self._clock.monotonic()
            if self._banned_until > now_m:
                self._fail_all_banned()
                return
            w = self._wait(costs, now_m)
            if w > 0.0:
                self._arm(now_m + w, w)
                return
            heapq.heappop(heap)
            self._take(costs)
            fut.set_result(None)
        self._disarm()

    def _arm(self, deadline: float, wait: float) -> None:
        if self._timer is not None and not self._timer.done():
            if self._timer_deadline <= deadline + _EPS:
                return  # an earlier wake-up re-evaluates anyway
            self._timer.cancel()
        self._timer_deadline = deadline
        self._timer = asyncio.get_running_loop().create_task(self._tick(wait))

    def _disarm(self) -> None:
        if self._timer is not None:
            if not self._timer.done() and self._timer is not asyncio.current_task():
                self._timer.cancel()
            self._timer = None

    async def _tick(self, wait: float) -> None:
        await self._clock.sleep(wait)
        if self._timer is asyncio.current_task():
            self._timer = None
        self._drain()

    def _fail_all_banned(self) -> None:
        heap, self._heap = self._heap, []
        now_m = self._clock.monotonic()
        for _, _, _, fut in heap:
            if not fut.done():
                fut.set_exception(self._ban_error(now_m))  # one instance per waiter
        self._disarm()

    def _ban_error(self, now_m: float) -> RateLimited:
        remaining = self._banned_until - now_m
        return RateLimited(
            f"venue ban in force for {remaining:.1f}s more",
            banned=True,
            venue=self.venue,
            retry_after=remaining,
        )

    # ------------------------------------------------------------------ feedback
    def sync(self, rule_name: str, used: float) -> None:
        """Adopt the venue-reported usage of the current window when it exceeds ours.

        Unknown rule names are ignored (a response may report pools this scope's
        limiter does not meter).
        """
        b = self._buckets.get(rule_name)
        if b is None:
            return
        b.adopt(self._clock.time(), self._clock.monotonic(), used)

    def on_success(self) -> None:
        """A request went through without a rate-limit rejection: maybe widen headroom."""
        if self._all_full:
            return
        now_m = self._clock.monotonic()
        full = True
        raised = False
        for b in self._buckets.values():
            if b.fraction < 1.0:
                if now_m - b.last_change >= b.period:
                    b.set_fraction(b.fraction + self._raise_step)
                    b.last_change = now_m
                    raised = True
                if b.fraction < 1.0:
                    full = False
        self._all_full = full
        if raised and self._heap:
            self._drain()

    def on_rate_limited(
        self,
        retry_after: float | None,
        *,
        banned: bool = False,
        rule: str | None = None,
    ) -> None:
        """The venue rejected a request for rate (429) or banned us (418).

        ``rule`` names the pool the venue said was exceeded (e.g. ``orders_10s`` for
        Binance -1015); ``None`` cuts every pool.
        """
        now_m = self._clock.monotonic()
        if rule is not None and rule in self._buckets:
            targets = [self._buckets[rule]]
        else:
            targets = list(self._buckets.values())
        for b in targets:
            b.set_fraction(max(self._floor, b.fraction * self._cut_factor))
            b.last_change = now_m
        self._all_full = False
        if banned:
            dur = retry_after if retry_after is not None and retry_after > 0 else self._default_ban_s
            self._banned_until = max(self._banned_until, now_m + dur)
            self._fail_all_banned()
            return
        if retry_after is not None and retry_after > 0:
            self._blocked_until = max(self._blocked_until, now_m + retry_after)
        else:
            # No hint: the venue says the pool is full, so treat it as full until the
            # window ends.
            now_w = self._clock.time()
            for b in targets:
                b.adopt(now_w, now_m, b.allowed)
        if self._heap:
            self._drain()
