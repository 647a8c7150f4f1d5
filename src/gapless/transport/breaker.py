"""Circuit breakers per venue x connection kind.

States: CLOSED (requests flow) -> OPEN (requests denied locally with ``CircuitOpen``)
-> after ``reset_after`` seconds HALF_OPEN (one probe request allowed) -> CLOSED on a
probe success, OPEN again on a probe failure.

Failures are counted per :class:`FailureKind`, consecutively (any success resets them):

* VENUE_DOWN - the venue answered 5xx/503 or announced an outage;
* CONNECTION - our connection broke (refused, reset, timeout);
* BAD_DATA   - the venue answered, but with something we could not parse.

Each kind trips on its own counter, so a run of malformed answers opens the breaker
even though every request "connected" fine, and the ``CircuitOpen`` error names the kind
that tripped it.
"""

from __future__ import annotations

import enum

from gapless.model.errors import CircuitOpen
from gapless.transport.clock import REAL_CLOCK, Clock


class ConnKind(enum.Enum):
    REST_PUBLIC = "rest_public"
    REST_PRIVATE = "rest_private"
    WS_PUBLIC = "ws_public"
    WS_PRIVATE = "ws_private"


class FailureKind(enum.Enum):
    VENUE_DOWN = "venue_down"
    CONNECTION = "connection"
    BAD_DATA = "bad_data"


class BreakerState(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    def __init__(
        self,
        venue: str,
        kind: ConnKind,
        *,
        threshold: int = 5,
        reset_after: float = 5.0,
        clock: Clock | None = None,
        thresholds: dict[FailureKind, int] | None = None,
    ) -> None:
        self.venue = venue
        self.kind = kind
        self.reset_after = reset_after
        self._clock: Clock = clock or REAL_CLOCK
        self._thresholds = {k: threshold for k in FailureKind}
        if thresholds:
            self._thresholds.update(thresholds)
        self._counts = dict.fromkeys(FailureKind, 0)
        self._any_failures = False
        self._state = BreakerState.CLOSED
        self._opened_at = 0.0
        self._probe_at: float | None = None
        self.tripped_by: FailureKind | None = None
        self.trips = 0

    @property
    def state(self) -> BreakerState:
        if self._state is BreakerState.OPEN and (
            self._clock.monotonic() - self._opened_at >= self.reset_after
        ):
            self._state = BreakerState.HALF_OPEN
            self._probe_at = None
        return self._state

    def failures(self, kind: FailureKind) -> int:
        return self._counts[kind]

    def check(self) -> None:
        """Raise ``CircuitOpen`` unless a request may be sent now.

        In HALF_OPEN exactly one probe is let through; if it never reports back, another
        probe is allowed after ``reset_after``.
        """
        if self._state is BreakerState.CLOSED:
            return
        state = self.state
        now = self._clock.monotonic()
        if state is BreakerState.HALF_OPEN:
            if self._probe_at is None or now - self._probe_at >= self.reset_after:
                self._probe_at = now
                return
            wait = self._probe_at + self.reset_after - now
        else:
            wait = self._opened_at + self.reset_after - now
        kind = self.tripped_by.value if self.tripped_by else "unknown"
        raise CircuitOpen(
            f"{self.kind.value} circuit open (tripped by {kind})",
            venue=self.venue,
            code=kind,
            retry_after=max(0.0, wait),
        )

    def record_success(self, *, data_ok: bool = True) -> None:
        """A request succeeded. ``data_ok=False`` means only the transport is known good
        (the HTTP layer has not judged the payload yet): it clears connection and
        venue-down counts but leaves BAD_DATA to whoever parses the answer, so a venue
        that answers 200 with garbage still trips the breaker."""
        if not (self._any_failures or self._state is not BreakerState.CLOSED):
            return
        if not data_ok:
            self._counts[FailureKind.CONNECTION] = 0
            self._counts[FailureKind.VENUE_DOWN] = 0
            if self.tripped_by is FailureKind.BAD_DATA and self._state is not BreakerState.CLOSED:
                return
            self._any_failures = self._counts[FailureKind.BAD_DATA] > 0
            self._state = BreakerState.CLOSED
            self._probe_at = None
            return
        for k in self._counts:
            self._counts[k] = 0
        self._any_failures = False
        self._state = BreakerState.CLOSED
        self._probe_at = None

    def record_failure(self, kind: FailureKind) -> None:
        self._any_failures = True
        self._counts[kind] += 1
        state = self.state
        if state is BreakerState.HALF_OPEN or (
            state is BreakerState.CLOSED and self._counts[kind] >= self._thresholds[kind]
        ):
            self._trip(kind)

    def _trip(self, kind: FailureKind) -> None:
        self._state = BreakerState.OPEN
        self._opened_at = self._clock.monotonic()
        self._probe_at = None
        self.tripped_by = kind
        self.trips += 1


class BreakerSet:
    """The breakers of one venue, one per connection kind, created on first use."""

    def __init__(
        self,
        venue: str,
        clock: Clock | None = None,
        *,
        threshold: int = 5,
        reset_after: float = 5.0,
    ) -> None:
        self.venue = venue
        self._clock = clock
        self._threshold = threshold
        self._reset_after = reset_after
        self._breakers: dict[ConnKind, CircuitBreaker] = {}

    def get(self, kind: ConnKind) -> CircuitBreaker:
        b = self._breakers.get(kind)
        if b is None:
            b = CircuitBreaker(
                self.venue,
                kind,
                threshold=self._threshold,
                reset_after=self._reset_after,
                clock=self._clock,
            )
            self._breakers[kind] = b
        return b
