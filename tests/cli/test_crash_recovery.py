"""Kill the engine (a real `gapless order place` process) with SIGKILL between journal and ack;
a restarted engine must leave neither a lost nor a duplicated order."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import sys
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from gapless.config import write_config, write_credentials
from gapless.sim.cluster import start_venue_sim


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[tuple[Any, Path]]:
    sim = await start_venue_sim("binance", host="127.0.0.1", port=0, seed=3)
    creds = tmp_path / "creds.json"
    write_credentials(
        creds,
        {"binance": {"rest_url": sim.rest_url, "ws_url": sim.ws_url, "api_key": sim.api_key,
                     "secret": sim.secret, "passphrase": sim.passphrase}},
    )
    cfg = tmp_path / "gapless.toml"
    write_config(cfg, "sqlite:///journal.sqlite", {"binance": ("binance", sim.rest_url, sim.ws_url)}, creds)
    try:
        yield sim, cfg
    finally:
        await sim.stop()


async def gapless(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gapless", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    return proc.returncode or 0, out.decode(), err.decode()


def journal_has(db: Path, intent_id: str) -> bool:
    if not db.exists():
        return False
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.1)
        try:
            return con.execute("SELECT 1 FROM orders WHERE intent_id = ?", (intent_id,)).fetchone() is not None
        finally:
            con.close()
    except sqlite3.Error:
        return False


async def place_and_kill(cfg: Path, intent_id: str, price: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gapless", "order", "place", "--config", str(cfg), "--venue", "binance",
        "--symbol", "BTC/USDT", "--side", "buy", "--type", "limit", "--qty", "0.01", "--price", price,
        "--client-id", intent_id,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )
    db = cfg.parent / "journal.sqlite"
    for _ in range(1500):
        if journal_has(db, intent_id):
            break
        if proc.returncode is not None:
            break
        await asyncio.sleep(0.01)
    assert proc.returncode is None, "the engine finished before it could be killed"
    assert journal_has(db, intent_id), "order was not journaled"
    os.kill(proc.pid, signal.SIGKILL)
    await proc.wait()


async def listed(cfg: Path) -> dict[str, dict[str, Any]]:
    code, out, err = await gapless("order", "list", "--config", str(cfg), "--json")
    assert code == 0, err
    return {o["intent_id"]: o for o in json.loads(out)["orders"]}


def at_venue(sim: Any, cid: str) -> list[Any]:
    return [o for o in sim.exchange.user_orders() if o.client_order_id == cid]


def low_price(sim: Any) -> str:
    (bid, _), _ = sim.exchange.best_bid_ask("BTC/USDT")
    return str((bid * Decimal("0.9")).quantize(Decimal("0.01")))


def journaled_expiry(db: Path, intent_id: str) -> float:
    """The journaled validity bound (our clock, s) after which the order's request can no
    longer execute at the venue."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        (ns,) = con.execute("SELECT t_expires FROM orders WHERE intent_id = ?",
                            (intent_id,)).fetchone()
    finally:
        con.close()
    return float(ns) / 1e9


async def after_the_bound(cfg: Path, intent_id: str) -> None:
    """Wait until the order's journaled validity bound has passed (not a guess: the rule)."""
    expires = journaled_expiry(cfg.parent / "journal.sqlite", intent_id)
    assert expires > 0, "recovery must journal the bound of an order it could not settle"
    await asyncio.sleep(max(0.0, expires - time.time()) + 0.05)


async def test_kill_after_send_before_ack(setup: tuple[Any, Path]) -> None:
    """Killed right after the journal write, with the venue slow: the command run
    immediately afterwards must not call the order rejected while its request may still
    execute; once the bound has passed, the journal agrees with the venue."""
    sim, cfg = setup
    sim.faults.latency_ms = 1500  # the ack is slow: the kill lands while the request is in flight
    await place_and_kill(cfg, "crash-sent", low_price(sim))
    orders = await listed(cfg)  # immediately, a fresh engine: recovery runs first
    assert orders["crash-sent"]["state"] in ("unknown", "accepted")
    sim.faults.latency_ms = 0
    if orders["crash-sent"]["state"] == "unknown":
        await after_the_bound(cfg, "crash-sent")
        orders = await listed(cfg)
    order = orders["crash-sent"]
    venue_side = at_venue(sim, order["client_order_id"])
    assert len(venue_side) <= 1, "duplicated at the venue"
    if venue_side:
        assert order["state"] == "accepted"
        assert order["venue_order_id"] == str(venue_side[0].order_id)
    else:
        assert order["state"] == "rejected"
    # placing the same intent again must not send a second order
    code, _out, err = await gapless("order", "place", "--config", str(cfg), "--venue", "binance",
                                   "--symbol", "BTC/USDT", "--side", "buy", "--qty", "0.01",
                                   "--price", low_price(sim), "--client-id", "crash-sent", "--json")
    assert code == (0 if venue_side else 3) and "Traceback" not in err, err
    assert len(at_venue(sim, order["client_order_id"])) == len(venue_side)


async def test_kill_between_journal_and_send(setup: tuple[Any, Path]) -> None:
    """Killed while backing off from 429s, before anything was accepted: unless the dead
    process had journaled the venue's refusal, the next command cannot know whether a last
    attempt is in flight, so the order stays UNKNOWN until its bound passes; then it is
    REJECTED, never re-sent, and the venue never had it."""
    sim, cfg = setup
    # the venue refuses every new order (429, too many orders): the engine holds the
    # journaled order and backs off; it is killed meanwhile, before anything was accepted
    sim.faults.order_limit_10s = 0
    await place_and_kill(cfg, "crash-unsent", low_price(sim))
    sim.faults.order_limit_10s = None
    orders = await listed(cfg)
    # REJECTED already only if the killed process journaled the venue's 429 refusal
    assert orders["crash-unsent"]["state"] in ("unknown", "rejected")
    if orders["crash-unsent"]["state"] == "unknown":
        await after_the_bound(cfg, "crash-unsent")
        orders = await listed(cfg)
    order = orders["crash-unsent"]
    assert at_venue(sim, order["client_order_id"]) == []
    assert order["state"] == "rejected"  # proven absent after its bound, never re-sent


async def test_kill_while_the_create_is_held_in_transit(tmp_path: Path) -> None:
    """The issue's case: the create is held 3 s by a proxy (within Binance's 5 s
    recvWindow), `gapless order place` is SIGKILLed while it is on the wire, and
    `gapless order status` runs at once. It must say UNKNOWN (exit 4), never rejected;
    the held create then lands, and once the bound has passed the journal agrees with the
    venue: accepted, one order."""
    from venues.hostile import HostileProxy  # tests/ is on sys.path (test packages)

    sim = await start_venue_sim("binance", host="127.0.0.1", port=0, seed=4)
    proxy = await HostileProxy(sim.rest_url).start()
    try:
        creds = tmp_path / "creds.json"
        write_credentials(creds, {"binance": {
            "rest_url": proxy.url, "ws_url": sim.ws_url, "api_key": sim.api_key,
            "secret": sim.secret, "passphrase": sim.passphrase}})
        cfg = tmp_path / "gapless.toml"
        write_config(cfg, "sqlite:///journal.sqlite",
                     {"binance": ("binance", proxy.url, sim.ws_url)}, creds)
        proxy.hold(3.0, "/api/v3/order", method="POST", count=1)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "gapless", "order", "place", "--config", str(cfg),
            "--venue", "binance", "--symbol", "BTC/USDT", "--side", "buy", "--type", "limit",
            "--qty", "0.01", "--price", low_price(sim), "--client-id", "held-kill",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        async with asyncio.timeout(30):
            while proxy.held < 1:  # the create is on the wire, held by the proxy
                assert proc.returncode is None, "place ended before its create was sent"
                await asyncio.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        await proc.wait()
        code, out, err = await gapless("order", "status", "--config", str(cfg),
                                       "--client-id", "held-kill", "--json")
        assert "Traceback" not in err, err
        assert code == 4 and json.loads(out)["state"] == "unknown", (code, out, err)
        await proxy.wait_delivered(1)
        assert proxy.delivered[0][1] == 200, "the held create landed"
        await after_the_bound(cfg, "held-kill")
        code, out, err = await gapless("order", "status", "--config", str(cfg),
                                       "--client-id", "held-kill", "--json")
        assert code == 0 and json.loads(out)["state"] == "accepted", (code, out, err)
        cid = json.loads(out)["client_order_id"]
        assert len(at_venue(sim, cid)) == 1
    finally:
        await proxy.stop()
        await sim.stop()
