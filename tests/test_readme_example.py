"""README.md's Python example, extracted from the README and run against the simulator,
so the README and what works cannot drift apart."""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gapless.config import write_config, write_credentials
from gapless.sim.cluster import SimCluster
from gapless.store import open_journal

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_example() -> str:
    """The first ```python block of the README's "## Python" section."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Python\n", 1)[1].split("\n## ", 1)[0]
    found = re.search(r"```python\n(.*?)```", section, re.S)
    assert found, "README.md's Python section has no python block"
    return found.group(1)


@pytest.fixture
async def sim_config(tmp_path: Path) -> AsyncIterator[tuple[SimCluster, Path]]:
    """What `gapless sim --config-out gapless.toml` leaves: a config beside its credentials."""
    async with SimCluster(["binance"], host="127.0.0.1", port_base=0, seed=8,
                          tick_interval=0) as cluster:
        creds = cluster.credentials()
        write_credentials(tmp_path / "creds.json", creds)
        write_config(tmp_path / "gapless.toml", "sqlite:///gapless-journal.sqlite",
                     {v: (v, c["rest_url"], c["ws_url"]) for v, c in creds.items()},
                     tmp_path / "creds.json")
        yield cluster, tmp_path / "gapless.toml"


RESTING_THEN_CANCELED = [("-", "created"), ("created", "submitted"), ("submitted", "accepted"),
                         ("accepted", "pending_cancel"), ("pending_cancel", "canceled")]
PARTIAL_THEN_CANCELED = [("-", "created"), ("created", "submitted"),
                         ("submitted", "partially_filled"),
                         ("partially_filled", "pending_cancel"), ("pending_cancel", "canceled")]


def printed(out: str) -> tuple[list[tuple[str, str]], dict[str, list[tuple[str, str]]],
                                dict[str, list[str]]]:
    """(intent id, state) per order line; per intent, (previous, state) per event line and
    the fills the event lines carry."""
    orders: list[tuple[str, str]] = []
    events: dict[str, list[tuple[str, str]]] = {}
    fills: dict[str, list[str]] = {}
    for line in out.splitlines():
        if line.startswith("  "):
            intent_id, previous, arrow, state, *fill = line.split()
            assert arrow == "->", line
            events.setdefault(intent_id, []).append((previous, state))
            if fill:
                fills.setdefault(intent_id, []).append(" ".join(fill))
        elif line.strip():
            intent_id, state = line.split()
            orders.append((intent_id, state))
    return orders, events, fills


def check_printed(out: str) -> tuple[str, str]:
    """The example's two orders and their event sequences; returns their intent ids."""
    orders, events, fills = printed(out)
    assert [state for _, state in orders] == [
        "accepted", "canceled", "partially_filled", "canceled"]
    resting, taking = orders[0][0], orders[2][0]
    assert orders[1][0] == resting and orders[3][0] == taking
    assert events[resting] == RESTING_THEN_CANCELED
    assert events[taking] == PARTIAL_THEN_CANCELED
    assert resting not in fills and len(fills[taking]) == 1  # the fill rode on its event
    return resting, taking


async def test_the_example_as_a_script_places_and_cancels_a_resting_order(
    sim_config: tuple[SimCluster, Path],
) -> None:
    """Run exactly as a user would: `python example.py` beside gapless.toml."""
    cluster, config = sim_config
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", readme_example(), cwd=config.parent,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    intent_id, taking = check_printed(out.decode())
    # the venue saw it, and the journal (next to the config) holds it and its events
    assert any(o.status == "CANCELED" for o in cluster["binance"].exchange.user_orders()), \
        "the simulator never saw the order"
    journal = open_journal("sqlite:///" + str(config.parent / "gapless-journal.sqlite"))
    await journal.open()
    try:
        stored = await journal.get(intent_id)
        journaled = await journal.events_since(0)
    finally:
        await journal.close()
    assert stored is not None and stored.state.value == "canceled"
    assert [(e.previous.value if e.previous else "-", e.state.value) for e in journaled
            if e.intent_id == intent_id] == RESTING_THEN_CANCELED
    assert [(e.previous.value if e.previous else "-", e.state.value) for e in journaled
            if e.intent_id == taking] == PARTIAL_THEN_CANCELED


async def test_the_example_in_process(
    sim_config: tuple[SimCluster, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """The same code in this process (its `__main__` guard off), awaited on this loop."""
    _, config = sim_config
    namespace: dict[str, Any] = {"__name__": "readme_example"}
    exec(compile(readme_example(), str(README), "exec"), namespace)
    await namespace["main"](str(config))
    check_printed(capsys.readouterr().out)
