"""Every simulator skin has the same file layout, the registry spells every venue one way, and
no simulator module grows past 600 lines or reaches into the rest of gapless."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import gapless.sim
from gapless.sim.cluster import SKINS

SIM = Path(gapless.sim.__file__).parent
VENUES = ("binance", "bybit", "coinbase", "kraken", "okx")
# app: routes, request parsing, auth gate, build; rest: handlers; ws: streams; wire: JSON shapes
LAYOUT = {"__init__.py", "app.py", "rest.py", "ws.py", "auth.py", "errors.py", "limits.py",
          "wire.py"}


def test_registry_has_every_skin() -> None:
    assert set(VENUES) <= set(SKINS)


@pytest.mark.parametrize("venue", VENUES)
def test_skin_has_the_common_layout(venue: str) -> None:
    files = {p.name for p in (SIM / venue).glob("*.py")}
    assert files >= LAYOUT, f"{venue} lacks {sorted(LAYOUT - files)}"


@pytest.mark.parametrize("venue", VENUES)
def test_registry_builds_the_package_factory(venue: str) -> None:
    package = importlib.import_module(f"gapless.sim.{venue}")
    assert package.build.__module__ == f"gapless.sim.{venue}.app"
    sim = SKINS[venue](seed=1)
    assert sim.venue == venue


def _modules() -> list[Path]:
    return sorted(SIM.rglob("*.py"))


def test_no_sim_module_over_600_lines() -> None:
    long = {str(p.relative_to(SIM)): n for p in _modules()
            if (n := len(p.read_text().splitlines())) > 600}
    assert not long


def test_sim_imports_nothing_else_from_gapless() -> None:
    bad: list[str] = []
    for path in _modules():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            bad += [f"{path.relative_to(SIM)}: {n}" for n in names
                    if (n == "gapless" or n.startswith("gapless.")) and not n.startswith("gapless.sim")]
    assert not bad
