"""The CLI as a user runs it: `gapless sim` in one process, order commands in others."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest


def gapless(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "gapless", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=90)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def running_sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    d = tmp_path_factory.mktemp("cli")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gapless", "sim", "--venues", "binance", "--seed", "5",
         "--credentials-out", "creds.json", "--config-out", "gapless.toml"],
        cwd=d, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    line = ""
    for _ in range(20):
        line = proc.stdout.readline()
        if "simulators running" in line:
            break
    assert "simulators running" in line, proc.stderr.read() if proc.poll() is not None else line
    try:
        yield d
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0


def test_sim_writes_private_credentials_and_a_secret_free_config(running_sim: Path) -> None:
    creds = json.loads((running_sim / "creds.json").read_text())
    assert set(creds["binance"]) >= {"rest_url", "ws_url", "api_key", "secret", "passphrase"}
    assert stat.S_IMODE(os.stat(running_sim / "creds.json").st_mode) == 0o600
    config = (running_sim / "gapless.toml").read_text()
    assert creds["binance"]["secret"] not in config
    assert creds["binance"]["api_key"] not in config
    assert 'driver = "binance"' in config


def test_place_list_status_cancel_balances(running_sim: Path) -> None:
    secret = json.loads((running_sim / "creds.json").read_text())["binance"]["secret"]
    placed = gapless("order", "place", "--config", "gapless.toml", "--venue", "binance",
                     "--symbol", "BTC/USDT", "--side", "buy", "--type", "limit", "--qty", "0.01",
                     "--price", "30000", "--client-id", "cli-a", "--json", cwd=running_sim)
    order = json.loads(placed.stdout)
    assert order["state"] == "accepted" and order["venue_order_id"]

    listed = json.loads(gapless("order", "list", "--config", "gapless.toml", "--json",
                                cwd=running_sim).stdout)
    row = next(o for o in listed if o["intent_id"] == "cli-a")
    for key in ("intent_id", "venue", "client_order_id", "venue_order_id", "symbol", "side",
                "state", "filled_qty"):
        assert key in row
    assert row["client_order_id"] == order["client_order_id"]

    status = json.loads(gapless("order", "status", "--config", "gapless.toml", "--client-id",
                                "cli-a", "--json", cwd=running_sim).stdout)
    assert status["state"] == "accepted"
    bal = json.loads(gapless("balances", "--config", "gapless.toml", "--venue", "binance",
                             "--json", cwd=running_sim).stdout)
    assert bal["USDT"]["locked"] == "300.00000000"

    cancelled = gapless("order", "cancel", "--config", "gapless.toml", "--client-id", "cli-a",
                        "--json", cwd=running_sim)
    assert json.loads(cancelled.stdout)["state"] == "canceled"
    for out in (placed, cancelled):
        assert secret not in out.stdout + out.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--symbol", "DOGE/USDT", "--qty", "1", "--price", "1"], "UnknownSymbol"),
        (["--symbol", "BTC/USDT", "--qty", "0.0000001", "--price", "30000"], "FilterViolation"),
        (["--symbol", "BTC/USDT", "--qty", "abc", "--price", "30000"], "decimal"),
    ],
)
def test_bad_input_is_a_clear_error(running_sim: Path, args: list[str], needle: str) -> None:
    proc = gapless("order", "place", "--config", "gapless.toml", "--venue", "binance",
                   "--side", "buy", *args, cwd=running_sim, check=False)
    assert proc.returncode != 0
    assert needle in proc.stderr


def test_bad_config_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text('journal = "sqlite:///j.sqlite"\n[venues.x]\ndriver = "binance"\n'
                                       'rest_url = "http://127.0.0.1:1"\nsecret = "hunter2"\n')
    proc = gapless("order", "list", "--config", "bad.toml", cwd=tmp_path, check=False)
    assert proc.returncode == 2
    assert "ConfigError" in proc.stderr and "hunter2" not in proc.stderr


def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    proc = gapless("demo", "--journal", str(tmp_path / "demo.sqlite"), cwd=tmp_path)
    out = proc.stdout
    for word in ("accepted", "filled", "partially_filled", "canceled"):
        assert word in out
    assert "dead letters: 0 parked, 0 reconciled" in out
    assert (tmp_path / "demo.sqlite").exists()


def test_bench_reports_the_three_way_comparison(tmp_path: Path) -> None:
    """Only the shape of the report: speed itself is judged by reading the bench, not here."""
    out = tmp_path / "bench.json"
    gapless("bench", "--orders", "40", "--json", str(out), cwd=tmp_path)
    data = json.loads(out.read_text())
    for key in ("baseline_orders_per_s", "adapter_orders_per_s", "ccxt_orders_per_s",
                "ratio_to_baseline", "ratio_to_ccxt", "cpu_us_per_order", "bridge_orders_per_s"):
        assert data[key] is not None and data[key] > 0, key
