"""Helpers shared by CLI commands: building an engine from a config, printing orders."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from gapless.config import load_config
from gapless.engine import Engine
from gapless.model import Order
from gapless.store import open_journal
from gapless.venues.registry import create_venue


@contextlib.asynccontextmanager
async def engine_from_config(
    config_path: Path, venues: list[str] | None = None, *, load_balances: bool = True
) -> AsyncIterator[Engine]:
    """A short-lived engine: journal opened, venues started, recovery done before use."""
    cfg = load_config(config_path)
    names = venues or list(cfg.venues)
    chosen = {}
    for name in names:
        if name not in cfg.venues:
            from gapless.model.errors import ConfigError

            raise ConfigError(f"venue {name!r} is not in {config_path}")
        chosen[name] = create_venue(cfg.venues[name])
    journal = open_journal(cfg.journal)
    await journal.open()
    engine = Engine(journal, chosen)
    try:
        await engine.start(load_balances=load_balances)
        yield engine
    finally:
        await engine.close()
        await journal.close()


def order_dict(order: Order) -> dict[str, Any]:
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
