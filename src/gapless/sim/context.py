"""What a skin hands to the shared machinery (admin routes, cluster)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

from .core.exchange import Exchange
from .core.faults import Faults
from .core.liquidity import Liquidity


@dataclass
class VenueSim:
    venue: str
    app: web.Application
    exchange: Exchange
    faults: Faults
    liquidity: Liquidity
    api_key: str
    secret: str
    ed25519_api_key: str = ""
    ed25519_private_key_pem: str = ""
    passphrase: str = ""
    resolve_symbol: Callable[[str], str] = lambda s: s
    reset_hooks: list[Callable[[], None]] = field(default_factory=list)
    start_hooks: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    stop_hooks: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def reset(self) -> None:
        self.faults.clear()
        self.exchange.reset()
        self.liquidity.reset()
        for hook in self.reset_hooks:
            hook()
