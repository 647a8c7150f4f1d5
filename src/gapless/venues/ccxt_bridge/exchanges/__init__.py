"""One module per ccxt exchange id: ``exchanges/<ccxt id>.py`` holds everything the bridge
knows about that exchange beyond ccxt's unified API, so one exchange's quirks never leak
into the generic code or into another exchange's module:

* ``PROFILE``: a :class:`~gapless.venues.ccxt_bridge.profiles.Profile` (client id
  parameters and rules, ccxt options, usage headers, validity bound);
* ``QUIRKS`` (optional): a :class:`~gapless.venues.ccxt_bridge.quirks.Quirks` subclass,
  instantiated once per venue, for what a profile cannot say.

An exchange without a module gets the generic profile and the no-op quirks.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from types import ModuleType

from gapless.venues.ccxt_bridge.profiles import GENERIC, Profile
from gapless.venues.ccxt_bridge.quirks import Quirks


@dataclass(frozen=True, slots=True)
class Exchange:
    """What the bridge knows about one ccxt exchange id."""

    profile: Profile
    quirks: type[Quirks]


_GENERIC = Exchange(GENERIC, Quirks)


def _module(exchange_id: str) -> ModuleType | None:
    if not exchange_id.isidentifier():
        return None  # never a module name (and never a path into another package)
    try:
        return importlib.import_module(f"{__name__}.{exchange_id}")
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.endswith(f"exchanges.{exchange_id}"):
            return None
        raise  # the module exists but imports something missing: a bug, not "generic"


def exchange(exchange_id: str) -> Exchange:
    """The profile and quirks class of ``exchange_id`` (generic ones without a module)."""
    mod = _module(exchange_id)
    if mod is None:
        return _GENERIC
    profile = getattr(mod, "PROFILE", GENERIC)
    if not isinstance(profile, Profile):
        raise TypeError(f"{mod.__name__}.PROFILE must be a Profile")
    cls = getattr(mod, "QUIRKS", Quirks)
    if not (isinstance(cls, type) and issubclass(cls, Quirks)):
        raise TypeError(f"{mod.__name__}.QUIRKS must be a Quirks subclass")
    return Exchange(profile, cls)


def known() -> tuple[str, ...]:
    """The ccxt ids that have a module here."""
    return tuple(sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.ispkg))
