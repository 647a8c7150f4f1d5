"""Helpers shared by CLI commands: building an engine from a config, printing orders."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from gapless.config import load_config
from gapless.engine import Engine
from gapless.model import Order
from gapless.model.errors import ConfigError
from gapless.model.redact import scrub
from gapless.store import open_journal
from gapless.venues.base import Venue, VenueConfig
from gapless.venues.registry import create_venue


@contextlib.asynccontextmanager
async def engine_from_config(
    config_path: Path, venues: list[str] | None = None, *, load_balances: bool = True
) -> AsyncIterator[Engine]:
    """A short-lived engine: journal opened, venues started, recovery done before use."""
    cfg = load_config(config_path)
    names = venues or list(cfg.venues)
    chosen: dict[str, Venue] = {}
    try:
        for name in names:
            if name not in cfg.venues:
                known = ", ".join(sorted(cfg.venues)) or "none"
                raise ConfigError(f"venue {name!r} is not in {config_path} (configured: {known})")
            chosen[name] = _build(cfg.venues[name], str(config_path))
        journal = open_journal(cfg.journal)
        await journal.open()
    except BaseException:
        await asyncio.gather(*(v.close() for v in chosen.values()), return_exceptions=True)
        raise
    engine = Engine(journal, chosen)
    try:
        await engine.start(load_balances=load_balances)
        yield engine
    finally:
        await engine.close()
        await journal.close()


def _build(config: VenueConfig, source: str) -> Venue:
    """An adapter, or a ``ConfigError`` naming the venue: building one sends nothing, so
    whatever goes wrong here (an option ``int()`` cannot read, say) is a config problem."""
    try:
        return create_venue(config)
    except ConfigError as exc:
        if exc.venue or config.name in str(exc):
            raise
        raise ConfigError(f"{source}: venues.{config.name}: {exc}") from None
    except Exception as exc:
        raise ConfigError(
            f"{source}: venues.{config.name}: the {config.driver!r} adapter refused its "
            f"settings: {type(exc).__name__}: {scrub(str(exc))}"
        ) from None


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
