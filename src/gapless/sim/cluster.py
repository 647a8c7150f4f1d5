"""Start and stop venue simulators on loopback sockets.

``SKINS`` maps a venue name to a factory ``(seed=..., **options) -> VenueSim``; each built-in
skin is the package ``gapless.sim.<venue>`` and its ``build``; ``register_skin`` adds others.
"""

from __future__ import annotations

import asyncio
import importlib
import socket
from collections.abc import Callable
from types import TracebackType
from typing import Any

from aiohttp import web

from .admin import add_admin_routes
from .context import VenueSim
from .core.exchange import Exchange
from .core.faults import Faults
from .core.liquidity import Liquidity


def _skin(venue: str) -> Callable[..., VenueSim]:
    """Every skin is the package ``gapless.sim.<venue>`` exporting ``build``; imported on first
    use so starting one venue never loads the others."""

    def factory(**kw: Any) -> VenueSim:
        module = importlib.import_module(f"{__package__}.{venue}")
        build: Callable[..., VenueSim] = module.build
        return build(**kw)

    return factory


SKINS: dict[str, Callable[..., VenueSim]] = {
    venue: _skin(venue) for venue in ("binance", "bybit", "okx", "kraken", "coinbase")
}


def register_skin(venue: str, factory: Callable[..., VenueSim]) -> None:
    SKINS[venue] = factory


class RunningSim:
    """One running venue simulator.

    It listens on two ports: the venue's (``rest_url``/``ws_url``, REST + WS + ``/__sim/``)
    and an admin one (``admin_url``, ``/__sim/`` reachable even while an outage in "refuse"
    mode has closed the venue's listening socket).
    """

    def __init__(self, sim: VenueSim, runner: web.AppRunner, site: web.TCPSite, host: str,
                 port: int, admin_port: int) -> None:
        self._sim = sim
        self._runner = runner
        self._site: web.BaseSite | None = site
        self.venue = sim.venue
        self.host = host
        self.port = port
        self.rest_url = f"http://{host}:{port}"
        self.ws_url = f"ws://{host}:{port}"
        self.admin_url = f"http://{host}:{admin_port}"
        self._pending: set[asyncio.Task[None]] = set()  # site bookkeeping in flight
        sim.faults.on_outage_change(self._on_outage)
        self.api_key = sim.api_key
        self.secret = sim.secret
        self.ed25519_api_key = sim.ed25519_api_key
        self.ed25519_private_key_pem = sim.ed25519_private_key_pem
        self.passphrase = sim.passphrase

    @property
    def exchange(self) -> Exchange:
        return self._sim.exchange

    @property
    def faults(self) -> Faults:
        return self._sim.faults

    @property
    def liquidity(self) -> Liquidity:
        return self._sim.liquidity

    def reset(self) -> None:
        self._sim.reset()

    def credentials(self) -> dict[str, str]:
        return {"rest_url": self.rest_url, "ws_url": self.ws_url, "api_key": self.api_key,
                "secret": self.secret, "passphrase": self.passphrase}

    def _on_outage(self, mode: str | None) -> None:
        """"refuse": stop listening and drop every connection to the venue port, so clients
        get connection-refused (provably nothing sent); otherwise listen again.

        Both happen synchronously, so the very next client call already sees the change;
        only the runner's bookkeeping is finished in a task."""
        loop = asyncio.get_running_loop()
        if mode == "refuse" and self._site is not None:
            site, self._site = self._site, None
            server = site._server
            if server is not None:
                server.close()  # the listening socket is closed now
            for transport in list(getattr(self._runner.server, "_connections", {}).values()):
                sockname = transport.get_extra_info("sockname")
                if sockname is not None and sockname[1] == self.port:
                    transport.abort()
            self._track(loop.create_task(site.stop()))
        elif mode != "refuse" and self._site is None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
            sock.listen(128)  # connections queue in the backlog until the site serves
            site = web.SockSite(self._runner, sock)
            self._site = site
            self._track(loop.create_task(site.start()))

    def _track(self, task: asyncio.Task[None]) -> None:
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def stop(self) -> None:
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        for hook in self._sim.stop_hooks:
            await hook()
        await self._runner.cleanup()


async def start_venue_sim(venue: str, *, host: str = "127.0.0.1", port: int = 0, seed: int = 1,
                          **options: Any) -> RunningSim:
    """Start one venue simulator. ``options`` go to the skin factory (binance: tick_interval
    seconds between liquidity ticks, 0 = frozen mid; ping_interval; ban_seconds)."""
    try:
        factory = SKINS[venue]
    except KeyError:
        raise ValueError(f"no simulator skin for venue {venue!r}; have {sorted(SKINS)}") from None
    sim = factory(seed=seed, **options)
    add_admin_routes(sim.app, sim)
    runner = web.AppRunner(sim.app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True)
    await site.start()
    admin = web.TCPSite(runner, host, 0)
    await admin.start()
    bound, admin_port = _bound_port(site), _bound_port(admin)
    for hook in sim.start_hooks:
        await hook()
    return RunningSim(sim, runner, site, host, bound, admin_port)


def _bound_port(site: web.TCPSite) -> int:
    server = site._server
    assert server is not None
    return int(server.sockets[0].getsockname()[1])  # type: ignore[attr-defined]


class SimCluster:
    """Several venue sims; ``port_base=0`` binds ephemeral ports, otherwise base, base+1, ..."""

    def __init__(self, venues: list[str], *, host: str = "127.0.0.1", port_base: int = 0,
                 seed: int = 1, **options: Any) -> None:
        self.venues = venues
        self.host = host
        self.port_base = port_base
        self.seed = seed
        self.options = options
        self.sims: dict[str, RunningSim] = {}

    async def start(self) -> SimCluster:
        for i, v in enumerate(self.venues):
            port = self.port_base + i if self.port_base else 0
            self.sims[v] = await start_venue_sim(v, host=self.host, port=port, seed=self.seed,
                                                 **self.options)
        return self

    async def stop(self) -> None:
        for s in self.sims.values():
            await s.stop()
        self.sims.clear()

    def __getitem__(self, venue: str) -> RunningSim:
        return self.sims[venue]

    def credentials(self) -> dict[str, dict[str, str]]:
        return {v: s.credentials() for v, s in self.sims.items()}

    async def __aenter__(self) -> SimCluster:
        return await self.start()

    async def __aexit__(self, et: type[BaseException] | None, e: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.stop()
