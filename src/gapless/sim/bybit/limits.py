"""Per-UID, per-endpoint, per-second request limits (Bybit V5 ``X-Bapi-Limit*`` model).

Fault knobs: ``Faults.weight_limit`` overrides every endpoint's per-second limit and
``Faults.order_limit_10s`` overrides the limit of ``/v5/order/create`` (both read as
"requests per second" by this skin).
"""

from __future__ import annotations

import time

from ..core.faults import Faults

#: endpoint path -> requests per second (spot defaults, docs §6.6)
DEFAULT_LIMITS: dict[str, int] = {
    "/v5/order/create": 20,
    "/v5/order/cancel": 20,
    "/v5/order/cancel-all": 20,
    "/v5/order/realtime": 50,
    "/v5/order/history": 50,
    "/v5/execution/list": 50,
    "/v5/account/wallet-balance": 50,
    "/v5/user/query-api": 10,
    "/v5/account/info": 50,
    "/v5/asset/coin/query-info": 5,
}
ORDER_CREATE = "/v5/order/create"


class Limits:
    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.reset()

    def reset(self) -> None:
        self._windows: dict[tuple[str, str], tuple[int, int]] = {}

    def limit_for(self, path: str) -> int | None:
        base = DEFAULT_LIMITS.get(path)
        if base is None:
            return None
        if path == ORDER_CREATE and self.faults.order_limit_10s is not None:
            return self.faults.order_limit_10s
        if self.faults.weight_limit is not None:
            return self.faults.weight_limit
        return base

    def charge(self, uid: str, path: str) -> tuple[bool, dict[str, str]]:
        """Count one request. Returns (allowed, X-Bapi-Limit* headers)."""
        limit = self.limit_for(path)
        if limit is None:
            return True, {}
        now_ms = int(time.time() * 1000)
        sec = now_ms // 1000
        key = (uid, path)
        window, used = self._windows.get(key, (sec, 0))
        if window != sec:
            window, used = sec, 0
        allowed = used < limit
        if allowed:
            used += 1
        self._windows[key] = (window, used)
        reset_ms = (window + 1) * 1000
        headers = {
            "X-Bapi-Limit": str(limit),
            "X-Bapi-Limit-Status": str(max(0, limit - used)),
            "X-Bapi-Limit-Reset-Timestamp": str(reset_ms if not allowed else now_ms),
        }
        return allowed, headers
