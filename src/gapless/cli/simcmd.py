"""``gapless sim``: run simulators until a signal, optionally writing credentials/config."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path


def install_signal_stop(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """SIGINT/SIGTERM end the run cleanly (simulators stop, sockets close)."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


async def run_sim(
    venues: list[str],
    host: str,
    port_base: int,
    seed: int,
    credentials_out: Path | None,
    config_out: Path | None,
    journal: str,
) -> None:
    from gapless.config import write_config, write_credentials
    from gapless.sim.cluster import SimCluster

    async with SimCluster(venues, host=host, port_base=port_base, seed=seed) as cluster:
        creds = cluster.credentials()
        if credentials_out is not None:
            write_credentials(credentials_out, creds)
        if config_out is not None:
            cred_path = credentials_out or config_out.with_suffix(".credentials.json")
            if credentials_out is None:
                write_credentials(cred_path, creds)
            journal_url = journal or "sqlite:///gapless-journal.sqlite"
            write_config(
                config_out,
                journal_url,
                {v: (v, c["rest_url"], c["ws_url"]) for v, c in creds.items()},
                cred_path,
            )
        for v, c in creds.items():
            print(f"{v}: rest {c['rest_url']}  ws {c['ws_url']}", flush=True)
        print("simulators running; Ctrl-C to stop", flush=True)
        stop = asyncio.Event()
        install_signal_stop(asyncio.get_running_loop(), stop)
        await stop.wait()
