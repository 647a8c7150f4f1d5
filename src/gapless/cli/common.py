"""Helpers shared by CLI commands: printing orders and JSON. Engines are built by
``gapless.runtime.open_engine``, the one composition root."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson

from gapless.model import Order


def order_dict(order: Order) -> dict[str, Any]:
    """One order as the `--json` output spells it: decimals as plain strings."""
    avg = order.avg_price
    return {
        "intent_id": order.intent_id,
        "venue": order.venue,
        "client_order_id": order.client_order_id,
        "venue_order_id": order.venue_order_id,
        "symbol": order.symbol,
        "side": order.side.value,
        "type": order.type.value,
        "tif": order.tif.value,
        "qty": f"{order.qty:f}",
        "price": None if order.price is None else f"{order.price:f}",
        "state": order.state.value,
        "filled_qty": f"{order.filled_qty:f}",
        "avg_price": None if avg is None else f"{avg.normalize():f}",
        "fees": {k: f"{v:f}" for k, v in order.fees.items()},
        "reject_reason": order.reject_reason,
    }


def dumps(obj: Any) -> str:
    def default(o: Any) -> Any:
        if isinstance(o, Decimal):
            return str(o)
        raise TypeError

    return orjson.dumps(obj, default=default, option=orjson.OPT_INDENT_2).decode()
