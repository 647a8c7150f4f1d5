"""Balances, paging parameters and the ``/v2`` routes ccxt uses (``time``, ``currencies``,
``exchange-rates``, ``accounts``), kept apart from the order routes in ``app.py``.

``FundsRoutes`` is a mixin of ``CoinbaseSkin``: the skin provides the exchange, the
liquidity (for rates) and the account ids; handlers have the skin's route signature.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from aiohttp import web

from ..core.exchange import Exchange
from ..core.liquidity import Liquidity
from . import errors
from .wire import fmt, iso

FIAT = {"USD": "US Dollar", "EUR": "Euro"}
CRYPTO_NAMES = {"BTC": "Bitcoin", "ETH": "Ethereum", "USDT": "Tether", "USDC": "USD Coin"}


class FundsRoutes:
    exchange: Exchange
    liquidity: Liquidity
    user_id: str
    portfolio_id: str

    # ------------------------------------------------------------ params
    @staticmethod
    def _first(params: dict[str, Any], name: str) -> str | None:
        v = params.get(name)
        if isinstance(v, list):
            return v[0] if v else None
        return v

    def _limit(self, params: dict[str, Any], default: int, cap: int) -> int:
        raw = self._first(params, "limit")
        if raw in (None, ""):
            return default
        try:
            n = int(raw)
        except ValueError:
            raise errors.invalid_argument("limit must be an integer") from None
        if n <= 0:
            return default
        return min(n, cap)

    @staticmethod
    def _cursor(params: dict[str, Any]) -> int:
        raw = FundsRoutes._first(params, "cursor")
        if not raw:
            return 0
        try:
            return max(0, int(raw))
        except ValueError:
            raise errors.invalid_argument("cursor is invalid") from None

    # ------------------------------------------------------------ accounts
    def _assets(self, a: str) -> list[tuple[str, Decimal, Decimal]]:
        acc = self.exchange.account(a)
        names = set(acc.free) | set(acc.locked)
        for spec in self.exchange.specs.values():
            names.update((spec.base, spec.quote))
        return [(n, acc.free[n], acc.locked[n]) for n in sorted(names)]

    def _account_uuid(self, asset: str) -> str:
        return str(uuid.uuid5(uuid.UUID(self.user_id), asset))

    async def accounts(self, request: web.Request, p: dict[str, Any], a: str | None) -> Any:
        assert a is not None
        rows = []
        created = iso(0)
        for asset, free, locked in self._assets(a):
            rows.append({
                "uuid": self._account_uuid(asset), "name": f"{asset} Wallet", "currency": asset,
                "available_balance": {"value": fmt(free), "currency": asset},
                "default": True, "active": True, "created_at": created, "updated_at": created,
                "deleted_at": None,
                "type": "ACCOUNT_TYPE_FIAT" if asset in FIAT else "ACCOUNT_TYPE_CRYPTO",
                "ready": True, "hold": {"value": fmt(locked), "currency": asset},
                "retail_portfolio_id": self.portfolio_id,
            })
        start, limit = self._cursor(p), self._limit(p, 49, 250)
        page = rows[start:start + limit]
        more = start + limit < len(rows)
        return {"accounts": page, "has_next": more, "cursor": str(start + limit) if more else "",
                "size": len(page)}

    async def transaction_summary(self, request: web.Request, p: dict[str, Any], a: str | None) -> Any:
        return {
            "total_volume": 0, "total_fees": 0,
            "fee_tier": {"pricing_tier": "Advanced 1", "usd_from": "0", "usd_to": "1000",
                         "taker_fee_rate": fmt(self.exchange.taker_fee),
                         "maker_fee_rate": fmt(self.exchange.maker_fee),
                         "aop_from": "", "aop_to": ""},
            "margin_rate": None, "goods_and_services_tax": None,
            "advanced_trade_only_volume": 0, "advanced_trade_only_fees": 0,
            "coinbase_pro_volume": 0, "coinbase_pro_fees": 0, "total_balance": "",
            "has_promo_fee": False,
        }

    # ------------------------------------------------------------------ v2
    async def v2_time(self, request: web.Request, p: dict[str, Any], a: str | None) -> Any:
        ms = self.exchange.time_ms()
        return {"data": {"iso": iso(ms)[:19] + "Z", "epoch": ms // 1000}}

    def _all_assets(self) -> list[str]:
        names: set[str] = set()
        for spec in self.exchange.specs.values():
            names.update((spec.base, spec.quote))
        return sorted(names)

    async def v2_currencies(self, request: web.Request, p: dict[str, Any], a: str | None) -> Any:
        return {"data": [{"id": c, "name": n, "min_size": "0.01"} for c, n in FIAT.items()]}

    async def v2_crypto(self, request: web.Request, p: dict[str, Any], a: str | None) -> Any:
        data = []
        for i, c in enumerate(a for a in self._all_assets() if a not in FIAT):
            data.append({"asset_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"coinbase-asset/{c}")),
                         "code": c, "name": CRYPTO_NAMES.get(c, c), "color": "#000000",
                         "sort_index": i, "exponent": 8, "type": "crypto",
                         "address_regex": "^.+$"})
        return {"data": data}

    async def v2_rates(self, request: web.Request, p: dict[str, Any], a: str | None) -> Any:
        rates: dict[str, str] = {"USD": "1"}
        for sym, mid in self.liquidity.mids.items():
            spec = self.exchange.specs[sym]
            if spec.quote == "USD" and mid > 0:
                rates[spec.base] = fmt((1 / mid).quantize(Decimal("0.000000000001")))
        rates.setdefault("USDT", "1")
        return {"data": {"currency": "USD", "rates": rates}}

    async def v2_accounts(self, request: web.Request, p: dict[str, Any], a: str | None) -> Any:
        assert a is not None
        data = []
        created = iso(0)[:19] + "Z"
        for asset, free, locked in self._assets(a):
            data.append({
                "id": self._account_uuid(asset), "name": f"{asset} Wallet", "primary": True,
                "type": "fiat" if asset in FIAT else "wallet",
                "currency": {"code": asset, "name": FIAT.get(asset, CRYPTO_NAMES.get(asset, asset)),
                             "type": "fiat" if asset in FIAT else "crypto"},
                "balance": {"amount": fmt(free + locked), "currency": asset},
                "created_at": created, "updated_at": created, "resource": "account",
                "resource_path": f"/v2/accounts/{self._account_uuid(asset)}",
                "allow_deposits": True, "allow_withdrawals": True,
            })
        return {"pagination": {"ending_before": None, "starting_after": None, "limit": 250,
                               "order": "desc", "previous_uri": None, "next_uri": None},
                "data": data}
