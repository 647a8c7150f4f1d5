"""Request-weight and order-count metering (fixed windows, as Binance reports them)."""

from __future__ import annotations

import math
import time

from ..core.faults import Faults
from . import errors


class Limits:
    def __init__(self, faults: Faults, *, weight_limit: int = 6000, order_limit_10s: int = 50,
                 order_limit_1d: int = 160000, ban_seconds: int = 120) -> None:
        self.faults = faults
        self.default_weight_limit = weight_limit
        self.default_order_10s = order_limit_10s
        self.default_order_1d = order_limit_1d
        self.ban_seconds = ban_seconds
        self.reset()

    def reset(self) -> None:
        self.weight_window = -1
        self.weight_used = 0
        self.limited_window = -1  # window in which a 429 was answered
        self.banned_until = 0.0
        self.order_window_10s = -1
        self.orders_10s = 0
        self.order_day = -1
        self.orders_1d = 0

    @property
    def weight_limit(self) -> int:
        return self.faults.weight_limit if self.faults.weight_limit is not None else self.default_weight_limit

    @property
    def order_limit_10s(self) -> int:
        return self.faults.order_limit_10s if self.faults.order_limit_10s is not None else self.default_order_10s

    @property
    def order_limit_1d(self) -> int:
        return self.faults.order_limit_1d if self.faults.order_limit_1d is not None else self.default_order_1d

    def _roll(self, now: float) -> None:
        w = int(now // 60)
        if w != self.weight_window:
            self.weight_window = w
            self.weight_used = 0
        w10 = int(now // 10)
        if w10 != self.order_window_10s:
            self.order_window_10s = w10
            self.orders_10s = 0
        d = int(now // 86400)
        if d != self.order_day:
            self.order_day = d
            self.orders_1d = 0

    def used_weight(self) -> int:
        self._roll(time.time())
        return self.weight_used

    def charge(self, weight: int) -> None:
        """Count a request; raise 429 (then 418 if the client keeps going) when over."""
        now = time.time()
        self._roll(now)
        if now < self.banned_until:
            raise errors.banned(int(self.banned_until * 1000), math.ceil(self.banned_until - now))
        if self.weight_used + weight > self.weight_limit:
            if self.limited_window == self.weight_window:
                self.banned_until = now + self.ban_seconds
                raise errors.banned(int(self.banned_until * 1000), self.ban_seconds)
            self.limited_window = self.weight_window
            retry = max(1, math.ceil((self.weight_window + 1) * 60 - now))
            raise errors.too_much_weight(self.weight_limit, retry)
        self.weight_used += weight

    def charge_order(self) -> None:
        now = time.time()
        self._roll(now)
        if self.orders_10s + 1 > self.order_limit_10s:
            retry = max(1, math.ceil((self.order_window_10s + 1) * 10 - now))
            raise errors.too_many_orders(self.order_limit_10s, "10 SECOND", retry)
        if self.orders_1d + 1 > self.order_limit_1d:
            retry = max(1, math.ceil((self.order_day + 1) * 86400 - now))
            raise errors.too_many_orders(self.order_limit_1d, "1 DAY", retry)
        self.orders_10s += 1
        self.orders_1d += 1
