"""The bridge's layout: one ccxt exchange id = one ``exchanges/<id>.py`` holding its profile
(and quirks), and exchange modules that use the venue only through ``quirks.Bridge``."""

from __future__ import annotations

import ast
import sys
import types
from pathlib import Path

import pytest

import gapless.venues.ccxt_bridge as bridge_pkg
from gapless.venues.ccxt_bridge import exchanges
from gapless.venues.ccxt_bridge.exchanges import exchange, known
from gapless.venues.ccxt_bridge.profiles import GENERIC, Profile, profile_for
from gapless.venues.ccxt_bridge.quirks import Bridge, Quirks, quirks_for

_PKG = Path(bridge_pkg.__file__).parent
_FIVE = ("binance", "bybit", "coinbase", "kraken", "okx")
#: what the protocol offers (a Protocol's public members)
_BRIDGE = {n for n in vars(Bridge) if not n.startswith("_")}


def test_each_exchange_module_carries_its_profile() -> None:
    assert set(_FIVE) <= set(known())
    for exchange_id in _FIVE:
        mod = __import__(f"gapless.venues.ccxt_bridge.exchanges.{exchange_id}", fromlist=["x"])
        assert isinstance(mod.PROFILE, Profile)
        assert profile_for(exchange_id) is mod.PROFILE
    # the five differ where they must: their own client id parameter
    assert len({profile_for(e).create_param for e in _FIVE}) == len(_FIVE)


@pytest.mark.parametrize("exchange_id", ["hyperliquid", "no_such_exchange", "os.path", "../x", ""])
def test_exchanges_without_a_module_are_generic(exchange_id: str) -> None:
    assert profile_for(exchange_id) is GENERIC
    assert type(quirks_for(exchange_id)) is Quirks


def test_a_module_without_quirks_gets_the_defaults() -> None:
    assert exchange("binance").quirks is Quirks  # binance.py is a profile only
    assert exchange("binance").profile is not GENERIC


def test_a_broken_exchange_module_is_an_error_not_generic(monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"{exchanges.__name__}.brokenx"
    mod = types.ModuleType(name)
    mod.QUIRKS = object  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, name, mod)
    with pytest.raises(TypeError, match="QUIRKS"):
        exchange("brokenx")
    mod.QUIRKS = Quirks  # type: ignore[attr-defined]
    mod.PROFILE = {"create_param": "x"}  # type: ignore[attr-defined]
    with pytest.raises(TypeError, match="PROFILE"):
        exchange("brokenx")


def _venue_attrs(tree: ast.AST) -> set[str]:
    """Every ``venue.<attr>`` in functions whose ``venue`` parameter is a ``Bridge``."""
    used: set[str] = set()
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        params = {a.arg: a.annotation for a in fn.args.args + fn.args.kwonlyargs}
        ann = params.get("venue")
        if ann is None or (isinstance(ann, ast.Name) and ann.id == "str"):
            continue  # no venue, or only its name (e.g. ``map_error``)
        assert isinstance(ann, ast.Name) and ann.id == "Bridge", (
            f"{fn.name}: the venue parameter must be typed as the Bridge protocol"
        )
        for node in ast.walk(fn):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id == "venue"):
                used.add(node.attr)
    return used


@pytest.mark.parametrize("path", sorted((_PKG / "exchanges").glob("*.py")), ids=lambda p: p.name)
def test_exchange_modules_use_only_the_bridge_protocol(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            assert node.module.rsplit(".", 1)[-1] not in ("adapter", "hooks", "streams"), (
                f"{path.name} imports the bridge's internals ({node.module})"
            )
    used = _venue_attrs(tree)
    assert used <= _BRIDGE, f"{path.name} uses {sorted(used - _BRIDGE)} beyond quirks.Bridge"


def test_the_protocol_check_can_fail() -> None:
    bad = ast.parse("async def f(venue: Bridge):\n    return venue._vid_by_cid\n")
    assert _venue_attrs(bad) - _BRIDGE == {"_vid_by_cid"}


def test_no_bridge_module_over_600_lines() -> None:
    for path in _PKG.rglob("*.py"):
        n = len(path.read_text(encoding="utf-8").splitlines())
        assert n <= 600, f"{path.relative_to(_PKG)}: {n} lines"
