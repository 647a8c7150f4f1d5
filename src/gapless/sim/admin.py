"""The ``/__sim/`` admin routes shared by every skin (see docs/sim.md)."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web

from .context import VenueSim
from .core.faults import DROP_MODES, OUTAGE_MODES
from .core.models import BUY, SELL, Rejection


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, body=json.dumps(data), content_type="application/json")


def _bad(msg: str) -> web.Response:
    return _json({"error": msg}, status=400)


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    raw = await request.read()
    if not raw:
        return {}
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError("body must be a JSON object")
    return data


def add_admin_routes(app: web.Application, sim: VenueSim) -> None:
    ex, faults = sim.exchange, sim.faults

    async def state(request: web.Request) -> web.Response:
        account = request.query.get("account", ex.TEST_ACCOUNT)
        data = ex.state(account)
        data["venue"] = sim.venue
        data["mids"] = {s: str(m) for s, m in sim.liquidity.mids.items()}
        data["faults"] = faults.to_json()
        return _json(data)

    async def reset(request: web.Request) -> web.Response:
        sim.reset()
        return _json({"ok": True})

    async def set_mid(request: web.Request) -> web.Response:
        try:
            body = await _body(request)
            symbol = sim.resolve_symbol(str(body["symbol"]))
            price = Decimal(str(body["price"]))
        except (ValueError, KeyError, InvalidOperation) as e:
            return _bad(f"need symbol and price: {e}")
        if symbol not in ex.specs or price <= 0:
            return _bad("unknown symbol or bad price")
        sim.liquidity.set_mid(symbol, price)
        return _json({"symbol": symbol, "mid": str(sim.liquidity.mids[symbol])})

    async def trade(request: web.Request) -> web.Response:
        try:
            body = await _body(request)
            symbol = sim.resolve_symbol(str(body["symbol"]))
            side = str(body["side"]).upper()
            qty = Decimal(str(body["qty"]))
            price = Decimal(str(body["price"])) if body.get("price") is not None else None
        except (ValueError, KeyError, InvalidOperation) as e:
            return _bad(f"need symbol, side, qty: {e}")
        if symbol not in ex.specs or side not in (BUY, SELL) or qty <= 0:
            return _bad("unknown symbol, bad side or qty")
        try:
            order = ex.synthetic_take(symbol, side, qty, price,
                                      user_only=bool(body.get("user_only", True)))
        except Rejection as r:
            return _bad(str(r))
        return _json({"filled": str(order.filled), "trade_ids": [f.trade_id for f in order.fills],
                      "avg_price": str(order.cum_quote / order.filled) if order.filled else None})

    async def get_faults(request: web.Request) -> web.Response:
        return _json(faults.to_json())

    async def set_faults(request: web.Request) -> web.Response:
        """Set any subset of the fault fields in one call (same names as GET)."""
        try:
            body = await _body(request)
            _apply(body)
        except (ValueError, KeyError, InvalidOperation, TypeError) as e:
            return _bad(str(e))
        return _json(faults.to_json())

    def _apply(body: dict[str, Any]) -> None:
        for k, v in body.items():
            if k == "outage":
                if v is not None and v not in OUTAGE_MODES:
                    raise ValueError(f"outage must be null or one of {OUTAGE_MODES}")
                faults.outage = v
                if v is not None:
                    faults.disconnect_ws()
            elif k in ("latency_ms", "clock_skew_ms", "partial_fill_next", "drop_response_next"):
                setattr(faults, k, int(v))
            elif k in ("weight_limit", "order_limit_10s", "order_limit_1d"):
                setattr(faults, k, None if v is None else int(v))
            elif k == "ws_stall":
                faults.ws_stall = bool(v)
            elif k == "partial_fill_fraction":
                frac = Decimal(str(v))
                if not Decimal(0) < frac < Decimal(1):
                    raise ValueError("partial_fill_fraction must be in (0, 1)")
                faults.partial_fill_fraction = frac
            elif k == "drop_mode":
                if v not in DROP_MODES:
                    raise ValueError(f"drop_mode must be one of {DROP_MODES}")
                faults.drop_mode = v
            else:
                raise ValueError(f"unknown fault {k}")

    def shortcut(fields: dict[str, str]) -> Any:
        async def handler(request: web.Request) -> web.Response:
            try:
                body = await _body(request)
                _apply({dst: body[src] for src, dst in fields.items() if src in body})
            except (ValueError, KeyError, InvalidOperation, TypeError) as e:
                return _bad(str(e))
            return _json(faults.to_json())
        return handler

    async def ws_disconnect(request: web.Request) -> web.Response:
        faults.disconnect_ws()
        return _json({"ok": True})

    async def clear(request: web.Request) -> web.Response:
        faults.clear()
        return _json(faults.to_json())

    r = app.router
    r.add_get("/__sim/state", state)
    r.add_post("/__sim/reset", reset)
    r.add_post("/__sim/mid", set_mid)
    r.add_post("/__sim/trade", trade)
    r.add_get("/__sim/faults", get_faults)
    r.add_post("/__sim/faults", set_faults)
    r.add_post("/__sim/faults/clear", clear)
    r.add_post("/__sim/faults/outage", shortcut({"mode": "outage"}))
    r.add_post("/__sim/faults/latency", shortcut({"ms": "latency_ms"}))
    r.add_post("/__sim/faults/ws_disconnect", ws_disconnect)
    r.add_post("/__sim/faults/ws_stall", shortcut({"on": "ws_stall"}))
    r.add_post("/__sim/faults/rate_limits", shortcut({
        "weight_limit": "weight_limit", "order_limit_10s": "order_limit_10s",
        "order_limit_1d": "order_limit_1d"}))
    r.add_post("/__sim/faults/partial_fills", shortcut({
        "count": "partial_fill_next", "fraction": "partial_fill_fraction"}))
    r.add_post("/__sim/faults/clock_skew", shortcut({"ms": "clock_skew_ms"}))
    r.add_post("/__sim/faults/drop_response", shortcut({
        "count": "drop_response_next", "mode": "drop_mode"}))
