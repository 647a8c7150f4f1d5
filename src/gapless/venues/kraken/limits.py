"""Kraken's rate-limit model as data (docs §5.6).

Kraken meters with *decaying counters*: the REST call counter per API key (max ``M``,
decay ``d``/s; most calls +1, ledger/trade-history calls +2, AddOrder/CancelOrder exempt)
and the trading counter per pair (threshold ``T``, decay ``t``/s; add +1, cancel by order
age up to +8). Each becomes a :class:`DecayRule` of the shared limiter, the same leaky
bucket the venue keeps, so a burst up to the (adaptive) maximum goes at once and the
sustained rate is the decay.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from gapless.model.errors import ConfigError
from gapless.transport.ratelimit import DecayRule
from gapless.venues.common.endpoints import AuthKind, Endpoint, table

REST = "rest_counter"


@dataclass(frozen=True)
class Tier:
    rest_max: float
    rest_decay: float
    trade_max: float
    trade_decay: float


TIERS: Mapping[str, Tier] = {
    "starter": Tier(15, 0.33, 60, 1.0),
    "intermediate": Tier(20, 0.5, 125, 2.34),
    "pro": Tier(20, 1.0, 180, 3.75),
}
#: the lowest tier: a key's tier is not visible through the API, so assume the strictest
DEFAULT_TIER = "starter"

#: REST counter cost per private method (order entry is metered per pair instead)
REST_COST: Mapping[str, int] = {
    "TradesHistory": 2, "QueryTrades": 2, "Ledgers": 2, "QueryLedgers": 2,
    "AddOrder": 0, "CancelOrder": 0, "CancelAll": 0,
}


PUBLIC_METHODS = ("Time", "Assets", "AssetPairs", "Depth")
PRIVATE_METHODS = ("AddOrder", "CancelOrder", "QueryOrders", "QueryTrades", "OpenOrders",
                   "ClosedOrders", "BalanceEx", "TradesHistory", "GetWebSocketsToken")


def _rest_cost(method: str) -> dict[str, int]:
    cost = REST_COST.get(method, 1)
    return {REST: cost} if cost else {}


#: the REST endpoints the adapter sends to, by Kraken method name. Public calls are not
#: metered; a trade's per-pair cost is added per request (it depends on the pair and, for
#: a cancel, on the order's age)
ENDPOINTS: Mapping[str, Endpoint] = table((
    *(Endpoint(m, "GET", f"/0/public/{m}", AuthKind.PUBLIC) for m in PUBLIC_METHODS),
    *(Endpoint(m, "POST", f"/0/private/{m}", AuthKind.SIGNED, _rest_cost(m))
      for m in PRIVATE_METHODS),
))


def cancel_cost(age_s: float | None) -> int:
    """Trading-counter cost of a cancel by order age (unknown age: the worst case)."""
    if age_s is None:
        return 8
    for limit, cost in ((5, 8), (10, 6), (15, 5), (45, 4), (90, 2), (300, 1)):
        if age_s < limit:
            return cost
    return 0


def trade_rule(pair: str) -> str:
    return f"trade:{pair}"


def _positive(opts: Mapping[str, str], name: str, default: float) -> float:
    raw = opts.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise ConfigError(f"kraken: option {name} must be a positive number, not {raw!r}")
    return value


def tier_from_options(opts: Mapping[str, str]) -> Tier:
    """``tier`` (starter/intermediate/pro, default starter), then explicit overrides."""
    name = opts.get("tier", DEFAULT_TIER).strip().lower()
    base = TIERS.get(name)
    if base is None:
        raise ConfigError(f"kraken: option tier must be one of {', '.join(TIERS)}, not {name!r}")
    return Tier(
        _positive(opts, "rest_counter_max", base.rest_max),
        _positive(opts, "rest_counter_decay", base.rest_decay),
        _positive(opts, "trade_counter_max", base.trade_max),
        _positive(opts, "trade_counter_decay", base.trade_decay),
    )


class KrakenLimits:
    def __init__(self, tier: Tier, pairs: Iterable[str] = ()) -> None:
        self.tier = tier
        rules = [DecayRule(REST, tier.rest_max, tier.rest_decay)]
        rules += [DecayRule(trade_rule(p), tier.trade_max, tier.trade_decay) for p in pairs]
        self.rules: tuple[DecayRule, ...] = tuple(rules)
        self._rest_costs: dict[str, dict[str, int]] = {}

    def rest(self, method: str) -> dict[str, int]:
        c = self._rest_costs.get(method)
        if c is None:
            cost = REST_COST.get(method, 1)
            c = {REST: cost} if cost else {}
            self._rest_costs[method] = c
        return c

    def trade(self, pair: str, cost: int) -> dict[str, int]:
        return {trade_rule(pair): cost} if cost else {}
