"""`gapless.__all__` is the strategy author's API: it must say exactly what the package
exports, hold what the issue promised, and re-export objects, never copies."""

from __future__ import annotations

import inspect
import subprocess
import sys
import types

import gapless
import gapless.model.errors

PROMISED = {
    "OrderIntent", "Order", "OrderState", "Side", "OrderType", "TimeInForce", "OrderEvent",
    "EventGap", "GaplessError", "load_config", "Engine", "open_engine",
}
DUNDERS_EXPORTED = {"__version__"}


def test_all_public_names_are_exported_and_sorted() -> None:
    """A name imported into the package without a line in `__all__` (or the reverse) fails."""
    public = [
        name for name, value in vars(gapless).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    ]
    assert gapless.__all__ == sorted(public, key=str.casefold)
    assert len(set(gapless.__all__)) == len(gapless.__all__)
    assert all(hasattr(gapless, name) for name in DUNDERS_EXPORTED)


def test_the_promised_names_are_there() -> None:
    assert set(gapless.__all__) >= PROMISED


def test_the_whole_error_tree_is_exported() -> None:
    """Every error class the tree defines can be caught by its public name."""
    tree = {
        name for name, value in vars(gapless.model.errors).items()
        if inspect.isclass(value) and issubclass(value, gapless.GaplessError)
        and value.__module__ == gapless.model.errors.__name__
    }
    assert tree and tree <= set(gapless.__all__)


def test_exports_are_the_objects_their_home_modules_define() -> None:
    for name in gapless.__all__:
        value = getattr(gapless, name)
        module = sys.modules[value.__module__]
        assert value.__module__.startswith("gapless.") and getattr(module, name) is value, name


def test_star_import_gives_exactly_all_and_no_optional_dependency() -> None:
    code = (
        "import sys\n"
        "before = set(globals())\n"
        "from gapless import *\n"
        "print(sorted(set(globals()) - before - {'before'}))\n"
        "print('ccxt' in sys.modules, 'gapless.sim' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout.splitlines()
    assert out[0] == repr(sorted(gapless.__all__))
    assert out[1] == "False False"  # the API pulls in neither ccxt nor the simulators
