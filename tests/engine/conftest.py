from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gapless.engine import Engine
from gapless.sim.cluster import start_venue_sim
from gapless.store.sqlite import SqliteJournal
from gapless.venues.base import Credentials, VenueConfig
from gapless.venues.registry import create_venue


def venue_config(sim: Any, name: str = "binance", timeout: float = 2.0) -> VenueConfig:
    return VenueConfig(
        name=name,
        driver=name,
        rest_url=sim.rest_url,
        ws_url=sim.ws_url,
        credentials=Credentials(api_key=sim.api_key, secret=sim.secret, passphrase=sim.passphrase),
        request_timeout=timeout,
    )


@pytest.fixture
async def sim() -> AsyncIterator[Any]:
    s = await start_venue_sim("binance", host="127.0.0.1", port=0, seed=7)
    try:
        yield s
    finally:
        await s.stop()


@pytest.fixture
async def engine(sim: Any, tmp_path: Path) -> AsyncIterator[Engine]:
    journal = SqliteJournal(tmp_path / "journal.sqlite")
    await journal.open()
    venue = create_venue(venue_config(sim))
    eng = Engine(journal, {"binance": venue})  # default settings: what users run
    await eng.start()
    try:
        yield eng
    finally:
        await eng.close()
        await journal.close()
