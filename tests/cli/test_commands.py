"""The CLI as a user runs it: `gapless sim` in one process, order commands in others."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
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
                                cwd=running_sim).stdout)["orders"]
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


def place(cwd: Path, *args: str, config: str = "gapless.toml") -> subprocess.CompletedProcess[str]:
    return gapless("order", "place", "--config", config, "--venue", "binance", *args, cwd=cwd,
                   check=False)


def no_traceback(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    assert "InvalidOperation" not in proc.stderr, proc.stderr


def journaled_ids(cwd: Path, config: str = "gapless.toml") -> set[str]:
    proc = gapless("order", "list", "--config", config, "--json", cwd=cwd)
    return {o["intent_id"] for o in json.loads(proc.stdout)["orders"]}


def sim_admin(cwd: Path, path: str, body: dict[str, object]) -> None:
    rest = json.loads((cwd / "creds.json").read_text())["binance"]["rest_url"]
    req = urllib.request.Request(f"{rest}/__sim/{path}", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=10) as answer:
        assert answer.status == 200


BTC = ["--symbol", "BTC/USDT", "--side", "buy"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--qty", "1e30", "--price", "30000"], "qty must be a plain decimal"),
        (["--qty", "12345678901234567890123456789", "--price", "30000"], "qty is absurdly large"),
        (["--qty", "0.01", "--price", "1E+999999"], "price must be a plain decimal"),
        (["--qty", "0.0_1", "--price", "30000"], "got '0.0_1'"),
        (["--qty", "NaN", "--price", "30000"], "qty must be"),
        (["--qty", "0.01", "--price", "Infinity"], "price must be"),
        (["--qty", "-0", "--price", "30000"], "negative zero"),
        (["--qty", " 0.01", "--price", "30000"], "qty must be"),
        (["--qty", "\u0661", "--price", "30000"], "qty must be"),
        (["--qty", "abc", "--price", "30000"], "qty must be a plain decimal"),
        (["--qty", "0.01", "--price", "30000", "--client-id", ""], "--client-id must not be empty"),
        (["--qty", "0.01", "--price", "30000", "--client-id", "x" * 65], "--client-id must be"),
        (["--qty", "0.01", "--price", "30000", "--tif", "day"], "tif must be one of"),
        (["--qty", "0.01"], "limit orders need a positive price"),
        (["--qty", "0.01", "--price", "30000", "--type", "market"], "market orders take no price"),
    ],
)
def test_bad_input_exits_2_with_a_message_and_sends_nothing(
    running_sim: Path, args: list[str], needle: str
) -> None:
    before = journaled_ids(running_sim)
    proc = place(running_sim, *BTC, *args)
    assert proc.returncode == 2, proc.stderr
    no_traceback(proc)
    assert needle in proc.stderr and "InvalidIntent" in proc.stderr
    assert journaled_ids(running_sim) == before  # nothing journaled, so nothing sent


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--symbol", "DOGE/USDT", "--side", "buy", "--qty", "1", "--price", "1"], "UnknownSymbol"),
        ([*BTC, "--qty", "0.0000001", "--price", "30000"], "FilterViolation"),
        ([*BTC, "--qty", "0.01", "--price", "1"], "notional"),
    ],
)
def test_denied_by_gapless_exits_3(running_sim: Path, args: list[str], needle: str) -> None:
    proc = place(running_sim, *args)
    assert proc.returncode == 3, proc.stderr
    no_traceback(proc)
    assert needle in proc.stderr and "(denied)" in proc.stderr


def test_rejected_by_the_venue_exits_3_and_is_journaled(running_sim: Path) -> None:
    """A post-only buy far above the market would take: the venue refuses it (-2010)."""
    proc = place(running_sim, *BTC, "--qty", "0.001", "--price", "90000", "--tif", "post_only",
                 "--client-id", "cli-rejected", "--json")
    assert proc.returncode == 3, proc.stderr
    no_traceback(proc)
    assert json.loads(proc.stdout)["state"] == "rejected"
    assert "rejected" in proc.stderr
    status = gapless("order", "status", "--config", "gapless.toml", "--client-id",
                     "cli-rejected", cwd=running_sim, check=False)
    assert status.returncode == 3, status.stderr
    again = place(running_sim, *BTC, "--qty", "0.001", "--price", "90000", "--tif",
                  "post_only", "--client-id", "cli-rejected")  # idempotent: the same answer
    assert again.returncode == 3, again.stderr


def test_filled_ioc_exits_0(running_sim: Path) -> None:
    proc = place(running_sim, *BTC, "--qty", "0.001", "--price", "90000", "--tif", "ioc",
                 "--client-id", "cli-ioc", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["state"] == "filled"


def sim_order_ids(cwd: Path) -> set[int]:
    rest = json.loads((cwd / "creds.json").read_text())["binance"]["rest_url"]
    with urllib.request.urlopen(f"{rest}/__sim/state", timeout=10) as answer:
        return {o["order_id"] for o in json.loads(answer.read())["orders"]}


def test_unknown_outcome_exits_4_then_status_settles_it(running_sim: Path) -> None:
    """The venue executes the create but its answer never comes, and every query then gets
    a 503: the order is journaled UNKNOWN and the exit code says so (4, not 0, not 3);
    once the venue answers again, status finds the live order."""
    slow = (running_sim / "gapless.toml").read_text().replace(
        'credentials_file = "creds.json"', 'credentials_file = "creds.json"\nrequest_timeout = 2')
    (running_sim / "slow.toml").write_text(slow)
    before = sim_order_ids(running_sim)
    sim_admin(running_sim, "faults/drop_response", {"count": 1, "mode": "hang"})
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gapless", "order", "place", "--config", "slow.toml",
             "--venue", "binance", *BTC, "--qty", "0.01", "--price", "30000", "--client-id",
             "cli-unknown", "--json"], cwd=running_sim, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        for _ in range(600):  # until the venue holds the order (its answer is being held)
            if sim_order_ids(running_sim) - before or proc.poll() is not None:
                break
            time.sleep(0.05)
        assert sim_order_ids(running_sim) - before, "the create never reached the venue"
        sim_admin(running_sim, "faults/outage", {"mode": "503"})  # the queries fail too
        out, err = proc.communicate(timeout=90)
    finally:
        sim_admin(running_sim, "faults/clear", {})
    assert proc.returncode == 4, err
    assert "Traceback" not in err
    assert json.loads(out)["state"] == "unknown"
    assert "gapless order status" in err
    status = gapless("order", "status", "--config", "gapless.toml", "--client-id",
                     "cli-unknown", "--json", cwd=running_sim, check=False)
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["state"] == "accepted"
    cancel = gapless("order", "cancel", "--config", "gapless.toml", "--client-id",
                     "cli-unknown", cwd=running_sim, check=False)
    assert cancel.returncode == 0, cancel.stderr


def test_status_and_cancel_of_an_unknown_intent_exit_2(running_sim: Path) -> None:
    for action in ("status", "cancel"):
        proc = gapless("order", action, "--config", "gapless.toml", "--client-id", "no-such",
                       cwd=running_sim, check=False)
        assert proc.returncode == 2, proc.stderr
        no_traceback(proc)
        assert "no order with intent id 'no-such'" in proc.stderr


def test_one_venue_down_blocks_nothing(running_sim: Path) -> None:
    """A second venue on a closed port: list still shows the journal and names it; an
    order on the live venue goes through; one on the dead venue is denied (nothing sent);
    status and cancel of an order whose venue is down say so with their codes."""
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    two = (running_sim / "gapless.toml").read_text() + (
        f'\n[venues.okx]\ndriver = "okx"\nrest_url = "http://127.0.0.1:{port}"\n'
        'credentials_file = "creds.json"\ncredentials_entry = "binance"\n')
    (running_sim / "two.toml").write_text(two)
    down = (running_sim / "gapless.toml").read_text()
    rest = json.loads((running_sim / "creds.json").read_text())["binance"]["rest_url"]
    (running_sim / "down.toml").write_text(down.replace(
        'credentials_file = "creds.json"',
        f'credentials_file = "creds.json"\nrest_url = "http://127.0.0.1:{port}"').replace(
        f'rest_url = "{rest}"\n', ""))

    placed = place(running_sim, *BTC, "--qty", "0.01", "--price", "30000", "--client-id",
                   "cli-two", config="two.toml")
    assert placed.returncode == 0, placed.stderr
    for config, unreachable in (("two.toml", {"okx"}), ("down.toml", {"binance"})):
        proc = gapless("order", "list", "--config", config, "--json", cwd=running_sim,
                       check=False)
        assert proc.returncode == 0, proc.stderr
        no_traceback(proc)
        data = json.loads(proc.stdout)
        assert "cli-two" in {o["intent_id"] for o in data["orders"]}
        assert set(data["not_reconciled"]) == unreachable
        for name in unreachable:
            assert f"venue {name} not reconciled" in proc.stderr
    dead = gapless("order", "place", "--config", "two.toml", "--venue", "okx", *BTC, "--qty",
                   "0.01", "--price", "30000", cwd=running_sim, check=False)
    assert dead.returncode == 3, dead.stderr
    no_traceback(dead)
    status = gapless("order", "status", "--config", "down.toml", "--client-id", "cli-two",
                     "--json", cwd=running_sim, check=False)
    assert status.returncode == 4, status.stderr  # accepted in the journal, not confirmable
    assert json.loads(status.stdout)["state"] == "accepted"
    cancel = gapless("order", "cancel", "--config", "down.toml", "--client-id", "cli-two",
                     cwd=running_sim, check=False)
    assert cancel.returncode == 3, cancel.stderr  # the cancel was never sent
    assert "cancel not done" in cancel.stderr
    cancel = gapless("order", "cancel", "--config", "gapless.toml", "--client-id", "cli-two",
                     cwd=running_sim, check=False)
    assert cancel.returncode == 0, cancel.stderr


def test_bad_config_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text('journal = "sqlite:///j.sqlite"\n[venues.x]\ndriver = "binance"\n'
                                       'rest_url = "http://127.0.0.1:1"\nsecret = "hunter2"\n')
    proc = gapless("order", "list", "--config", "bad.toml", cwd=tmp_path, check=False)
    assert proc.returncode == 2
    assert "ConfigError" in proc.stderr and "hunter2" not in proc.stderr
    no_traceback(proc)


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (lambda t: re.sub(r'rest_url = "http://127.0.0.1:\d+"', 'rest_url = "http://127.0.0.1:99999"', t),
         "Port out of range"),
        (lambda t: re.sub(r'rest_url = "[^"]*"', 'rest_url = "htp:/bad url"', t), "must start with"),
        (lambda t: t + 'options = { recv_window = "abc" }\n', "recv_window"),
        (lambda t: t + 'options = { recv_window = "0" }\n', "recv_window"),
        (lambda t: t.replace('driver = "binance"', 'driver = "nosuch"'), "unknown venue driver"),
    ],
)
def test_config_mistakes_exit_2_for_every_command(
    running_sim: Path, edit: Callable[[str], str], needle: str
) -> None:
    (running_sim / "edited.toml").write_text(edit((running_sim / "gapless.toml").read_text()))
    for args in (["order", "list"], ["order", "place", "--venue", "binance", *BTC, "--qty",
                                     "0.01", "--price", "30000"], ["balances", "--venue", "binance"]):
        proc = gapless(*args, "--config", "edited.toml", cwd=running_sim, check=False)
        assert proc.returncode == 2, (args, proc.stderr)
        no_traceback(proc)
        assert "ConfigError" in proc.stderr and needle in proc.stderr


def test_credentials_readable_by_others_exit_2_with_the_fix(running_sim: Path) -> None:
    creds = running_sim / "creds.json"
    creds.chmod(0o644)
    try:
        proc = gapless("order", "list", "--config", "gapless.toml", cwd=running_sim, check=False)
    finally:
        creds.chmod(0o600)
    assert proc.returncode == 2, proc.stderr
    no_traceback(proc)
    assert "mode 0644" in proc.stderr and f"chmod 600 {creds.resolve()}" in proc.stderr


def test_sim_port_out_of_range_is_a_usage_error(tmp_path: Path) -> None:
    proc = gapless("sim", "--venues", "binance", "--port-base", "99999", cwd=tmp_path, check=False)
    assert proc.returncode == 2
    no_traceback(proc)
    assert "--port-base" in proc.stderr


def test_help_documents_the_exit_codes(tmp_path: Path) -> None:
    for args in (["order", "place", "--help"], ["order", "status", "--help"],
                 ["order", "cancel", "--help"]):
        out = gapless(*args, cwd=tmp_path).stdout
        for words in ("0 ", "2 bad input or config", "3 rejected", "4 outcome still unknown"):
            assert words in " ".join(out.split()), (args, words)


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
