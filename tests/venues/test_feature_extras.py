"""Packaging by feature: the core install leaves ccxt out, and a configured ccxt venue without
it is a ConfigError naming the extra to install (CLI exit 2, no traceback)."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from gapless.venues import registry

ROOT = Path(__file__).resolve().parents[2]
MESSAGE = "driver \"ccxt\" needs the ccxt extra: pip install 'gapless[ccxt]'"
NO_CCXT = "import sys; sys.modules['ccxt'] = None  # as if the extra were not installed\n"


def _python(code: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", NO_CCXT + code], cwd=cwd, capture_output=True,
                          text=True, timeout=60, check=False, env={**os.environ, **(env or {})})


def test_every_feature_extra_exists_and_the_core_leaves_them_out() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    core = " ".join(project["dependencies"])
    for package, extra in registry.FEATURE_EXTRAS.items():
        assert any(r.startswith(package) for r in extras[extra]), (extra, extras[extra])
        assert package not in core
        assert f"gapless[{extra}]" in extras["dev"]  # the tests still get everything


def test_the_ccxt_driver_without_ccxt_names_the_extra(tmp_path: Path) -> None:
    proc = _python(
        "from gapless.model.errors import ConfigError\n"
        "from gapless.venues.registry import driver_class\n"
        "driver_class('binance')  # native drivers need no extra\n"
        "try:\n"
        "    driver_class('ccxt')\n"
        "except ConfigError as exc:\n"
        "    print(exc)\n",
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == MESSAGE


def test_order_place_on_a_ccxt_venue_without_ccxt_exits_2(tmp_path: Path) -> None:
    (tmp_path / "gapless.toml").write_text(
        'journal = "sqlite:///journal.sqlite"\n'
        "[venues.spare]\n"
        'driver = "ccxt"\n'
        'exchange = "binance"\n'
        'rest_url = "http://127.0.0.1:9"\n'
        'api_key_env = "CX_KEY"\n'
        'secret_env = "CX_SECRET"\n'
    )
    argv = ["gapless", "order", "place", "--config", "gapless.toml", "--venue", "spare",
            "--symbol", "BTC/USDT", "--side", "buy", "--type", "limit", "--qty", "0.01",
            "--price", "50000"]
    proc = _python(f"sys.argv = {argv!r}\nfrom gapless.cli.main import main\nmain()\n",
                   tmp_path, env={"CX_KEY": "k", "CX_SECRET": "s"})
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert MESSAGE in proc.stderr
    assert "venues.spare" in proc.stderr  # which configured venue wants it
    assert "Traceback" not in proc.stderr


def test_venues_without_ccxt_lists_the_native_ones_and_names_the_extra(tmp_path: Path) -> None:
    argv = ["gapless", "venues", "--json"]
    proc = _python(f"sys.argv = {argv!r}\nfrom gapless.cli.main import main\nmain()\n", tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and "gapless[ccxt]" in proc.stderr
    import orjson

    rows = orjson.loads(proc.stdout)
    assert {r["driver"] for r in rows} == {"binance", "bybit", "coinbase", "kraken", "okx"}


def test_a_missing_module_that_is_no_feature_still_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry.DRIVERS, "broken", "gapless_no_such_module:Venue")
    with pytest.raises(ModuleNotFoundError):
        registry.driver_class("broken")
