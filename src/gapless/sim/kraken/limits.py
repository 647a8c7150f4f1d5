"""Kraken's two decaying counters: the REST call counter per key and the trading-engine
counter per pair (docs §5.6). Defaults are the "Pro" tier. ``Faults.weight_limit``
overrides the REST maximum and ``Faults.order_limit_10s`` the trading threshold."""

from __future__ import annotations

import time

from ..core.faults import Faults
from . import errors
from .errors import KrakenError

#: REST counter cost per private method (AddOrder/CancelOrder are metered per pair instead)
REST_COST = {"TradesHistory": 2, "QueryTrades": 2, "Ledgers": 2, "QueryLedgers": 2,
             "AddOrder": 0, "CancelOrder": 0, "CancelAll": 0, "AddOrderBatch": 0}


def cancel_cost(age_s: float) -> int:
    for limit, cost in ((5, 8), (10, 6), (15, 5), (45, 4), (90, 2), (300, 1)):
        if age_s < limit:
            return cost
    return 0


class Counter:
    def __init__(self) -> None:
        self.value = 0.0
        self.at = time.monotonic()

    def level(self, decay: float) -> float:
        now = time.monotonic()
        self.value = max(0.0, self.value - (now - self.at) * decay)
        self.at = now
        return self.value


class Limits:
    def __init__(self, faults: Faults, *, rest_max: int = 20, rest_decay: float = 1.0,
                 trade_max: int = 180, trade_decay: float = 3.75) -> None:
        self.faults = faults
        self.rest_max_default = rest_max
        self.rest_decay = rest_decay
        self.trade_max_default = trade_max
        self.trade_decay = trade_decay
        self.reset()

    def reset(self) -> None:
        self.rest: dict[str, Counter] = {}
        self.trade: dict[str, Counter] = {}

    @property
    def rest_max(self) -> int:
        return self.faults.weight_limit if self.faults.weight_limit is not None else self.rest_max_default

    @property
    def trade_max(self) -> int:
        lim = self.faults.order_limit_10s
        return lim if lim is not None else self.trade_max_default

    def charge_rest(self, key: str, method: str) -> None:
        cost = REST_COST.get(method, 1)
        if cost == 0:
            return
        c = self.rest.setdefault(key, Counter())
        if c.level(self.rest_decay) + cost > self.rest_max:
            raise KrakenError(errors.API_RATE_LIMIT)
        c.value += cost

    def charge_trade(self, pair: str, cost: int) -> None:
        if cost == 0:
            return
        c = self.trade.setdefault(pair, Counter())
        if c.level(self.trade_decay) + cost > self.trade_max:
            raise KrakenError(errors.ORDER_RATE_LIMIT)
        c.value += cost

    def trade_level(self, pair: str) -> float:
        c = self.trade.get(pair)
        return c.level(self.trade_decay) if c else 0.0
