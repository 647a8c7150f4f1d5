"""Request-rate metering: fixed one-second windows per scope (private per key, public per IP).

Documented values: 30 requests/s for private endpoints, 10 requests/s for public ones.
Every private answer carries ``x-ratelimit-limit``/``-remaining``/``-reset``.
``Faults.weight_limit`` (if set) overrides both per-second limits and
``Faults.order_limit_10s`` adds a create-order count per 10 s (the venue documents no such
limit; it exists so tests can tighten limits on the order path alone).
"""

from __future__ import annotations

import math
import time

from ..core.faults import Faults
from . import errors


class Limits:
    def __init__(self, faults: Faults, *, private_per_s: int = 30, public_per_s: int = 10) -> None:
        self.faults = faults
        self.default_private = private_per_s
        self.default_public = public_per_s
        self.reset()

    def reset(self) -> None:
        self.windows: dict[str, tuple[int, int]] = {}  # scope -> (second, used)
        self.order_window = -1
        self.orders = 0

    def limit(self, private: bool) -> int:
        if self.faults.weight_limit is not None:
            return self.faults.weight_limit
        return self.default_private if private else self.default_public

    def charge(self, scope: str, private: bool) -> dict[str, str]:
        """Count one request; raise 429 when over; return the rate-limit headers."""
        now = time.time()
        sec = int(now)
        window, used = self.windows.get(scope, (sec, 0))
        if window != sec:
            window, used = sec, 0
        limit = self.limit(private)
        reset = str(sec + 1)
        if used + 1 > limit:
            self.windows[scope] = (window, used)
            err = errors.rate_limited(1)
            err.headers.update({"x-ratelimit-limit": str(limit), "x-ratelimit-remaining": "0",
                                "x-ratelimit-reset": reset})
            raise err
        used += 1
        self.windows[scope] = (window, used)
        return {"x-ratelimit-limit": str(limit), "x-ratelimit-remaining": str(limit - used),
                "x-ratelimit-reset": reset}

    def charge_order(self) -> None:
        cap = self.faults.order_limit_10s
        if cap is None:
            return
        now = time.time()
        w = int(now // 10)
        if w != self.order_window:
            self.order_window, self.orders = w, 0
        if self.orders + 1 > cap:
            raise errors.rate_limited(max(1, math.ceil((w + 1) * 10 - now)))
        self.orders += 1
