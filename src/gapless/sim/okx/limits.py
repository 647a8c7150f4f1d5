"""OKX rate limits: "N requests per 2 seconds" per endpoint, fixed 2 s windows.

Public endpoints count per IP (the simulator has one client IP), private ones per
UserID, and trading endpoints per UserID + instrument. Faults tighten them:
``order_limit_10s`` replaces every trading limit (per 2 s, per instrument) and
``weight_limit`` replaces every other endpoint's limit (per 2 s).
"""

from __future__ import annotations

import time

from ..core.faults import Faults

WINDOW_S = 2.0

#: endpoint -> (requests per 2 s, is_trading)
ENDPOINTS: dict[str, tuple[int, bool]] = {
    "public/time": (10, False),
    "public/instruments": (20, False),
    "market/books": (40, False),
    "market/tickers": (20, False),
    "market/ticker": (20, False),
    "asset/currencies": (6, False),
    "account/balance": (10, False),
    "account/config": (5, False),
    "account/trade-fee": (5, False),
    "trade/order": (60, True),  # place
    "trade/order-query": (60, True),
    "trade/batch-orders": (300, True),  # counted per order
    "trade/cancel-order": (60, True),
    "trade/cancel-batch-orders": (300, True),
    "trade/orders-pending": (60, False),
    "trade/orders-history": (40, False),
    "trade/fills": (60, False),
    "trade/fills-history": (10, False),
}


class Limits:
    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.reset()

    def reset(self) -> None:
        self._window = -1
        self._used: dict[tuple[str, str], int] = {}

    def limit_of(self, endpoint: str) -> int:
        base, trading = ENDPOINTS.get(endpoint, (20, False))
        if trading and self.faults.order_limit_10s is not None:
            return self.faults.order_limit_10s
        if not trading and self.faults.weight_limit is not None:
            return self.faults.weight_limit
        return base

    def take(self, endpoint: str, inst_id: str = "", count: int = 1) -> bool:
        """Count ``count`` requests; False when the window's budget is exhausted."""
        w = int(time.time() // WINDOW_S)
        if w != self._window:
            self._window = w
            self._used.clear()
        key = (endpoint, inst_id)
        used = self._used.get(key, 0)
        if used + count > self.limit_of(endpoint):
            return False
        self._used[key] = used + count
        return True
