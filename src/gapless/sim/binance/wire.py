"""Binance Spot JSON shapes: 8-decimal number strings and the order rows that several
endpoints (and cancel answers) share."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..core.models import (
    MARKET,
    Order,
)

ZERO8 = "0.00000000"


def fmt(d: Decimal | None) -> str:
    return ZERO8 if d is None else f"{d:.8f}"

class Shapes:
    """Order rows from core state, named with the skin's symbol spelling."""

    names: dict[str, str]

    def order_json(self, o: Order) -> dict[str, Any]:
        return {
            "symbol": self.names[o.symbol], "orderId": o.order_id, "orderListId": -1,
            "clientOrderId": o.client_id, "price": fmt(o.price if o.type != MARKET else None),
            "origQty": fmt(o.qty if o.qty is not None else o.filled), "executedQty": fmt(o.filled),
            "cummulativeQuoteQty": fmt(o.cum_quote), "status": o.status, "timeInForce": o.tif,
            "type": o.type, "side": o.side, "stopPrice": ZERO8, "icebergQty": ZERO8,
            "time": o.created, "updateTime": o.updated, "isWorking": True, "workingTime": o.created,
            "origQuoteOrderQty": fmt(o.quote_qty), "selfTradePreventionMode": "EXPIRE_MAKER",
        }

    def _cancel_json(self, o: Order, cancel_cid: str | None) -> dict[str, Any]:
        j = self.order_json(o)
        out = {"symbol": j["symbol"], "origClientOrderId": o.client_id, "orderId": o.order_id,
               "orderListId": -1, "clientOrderId": cancel_cid or f"cancel{o.order_id}",
               "transactTime": o.updated}
        for k in ("price", "origQty", "executedQty", "origQuoteOrderQty", "cummulativeQuoteQty",
                  "status", "timeInForce", "type", "side", "selfTradePreventionMode"):
            out[k] = j[k]
        return out
