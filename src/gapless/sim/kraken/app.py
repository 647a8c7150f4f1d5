"""Build the Kraken spot skin: REST ``/0/...`` and WS v2 ``/v2`` over a fresh core."""

from __future__ import annotations

import base64
import secrets
from typing import Any

from aiohttp import web

from ..context import VenueSim
from ..core.exchange import Exchange
from ..core.faults import Faults
from ..core.liquidity import Liquidity
from ..faultware import make_fault_middleware
from .auth import KeyStore
from .limits import Limits
from .names import kraken_symbols
from .rest import MAKER_FEE, TAKER_FEE, RestApi
from .state import KrakenState
from .ws import WsApi


def build(*, seed: int = 1, tick_interval: float = 1.0, api_key: str | None = None,
          secret: str | None = None, rest_max: int = 20, rest_decay: float = 1.0,
          trade_max: int = 180, trade_decay: float = 3.75, nonce_window: int = 0,
          **_: Any) -> VenueSim:
    """Options: ``tick_interval`` (s between liquidity ticks, 0 = frozen), the REST call
    counter (``rest_max``/``rest_decay`` per s), the per-pair trading counter
    (``trade_max``/``trade_decay``), defaults Kraken's "Pro" tier, and the key's
    ``nonce_window`` (nonce units, default 0 as at Kraken)."""
    faults = Faults()
    exchange = Exchange(symbols=kraken_symbols(), maker_fee=MAKER_FEE, taker_fee=TAKER_FEE,
                        faults=faults)
    liquidity = Liquidity(exchange, seed=seed)
    key = api_key or base64.b64encode(secrets.token_bytes(42)).decode()
    sec = secret or base64.b64encode(secrets.token_bytes(64)).decode()
    state = KrakenState(exchange, salt=f"{seed}:{secrets.token_hex(4)}")
    keys = KeyStore(key, sec, nonce_window)
    limits = Limits(faults, rest_max=rest_max, rest_decay=rest_decay, trade_max=trade_max,
                    trade_decay=trade_decay)
    rest = RestApi(exchange, faults, state, keys, limits)
    ws = WsApi(exchange, faults, state)
    outage = b'{"error":["EService:Unavailable"]}'
    app = web.Application(middlewares=[make_fault_middleware(faults, outage, "application/json")])
    rest.routes(app)
    ws.routes(app)
    liquidity.reset()

    def resolve(name: str) -> str:
        p = state.by_name.get(name) or state.by_name.get(name.upper())
        return p.symbol if p is not None else name

    def reset() -> None:
        state.reset()
        keys.reset()
        limits.reset()

    async def start_liquidity() -> None:
        liquidity.start(tick_interval)

    async def stop() -> None:
        await ws.close_all()
        await liquidity.stop()

    sim = VenueSim(venue="kraken", app=app, exchange=exchange, faults=faults, liquidity=liquidity,
                   api_key=key, secret=sec, resolve_symbol=resolve)
    sim.reset_hooks.append(reset)
    sim.start_hooks.append(start_liquidity)
    sim.stop_hooks.append(stop)
    return sim
