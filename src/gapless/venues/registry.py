"""Driver name -> adapter class. Imports are lazy so unused drivers cost nothing."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from gapless.model.errors import ConfigError
from gapless.venues.base import Venue, VenueConfig

#: driver -> "module:Class"
DRIVERS: dict[str, str] = {
    "binance": "gapless.venues.binance.adapter:BinanceVenue",
    "ccxt": "gapless.venues.ccxt_bridge.adapter:CcxtVenue",
    "bybit": "gapless.venues.bybit.adapter:BybitVenue",
    "okx": "gapless.venues.okx.adapter:OkxVenue",
    "kraken": "gapless.venues.kraken.adapter:KrakenVenue",
    "coinbase": "gapless.venues.coinbase.adapter:CoinbaseVenue",
}


#: third-party package (top-level module) -> the gapless extra that installs it
FEATURE_EXTRAS: dict[str, str] = {"ccxt": "ccxt"}


#: the native adapters, each with a simulator of the same name
NATIVE_VENUES: tuple[str, ...] = ("binance", "coinbase", "kraken", "bybit", "okx")


def register_driver(driver: str, target: str) -> None:
    """Add (or replace) a driver; ``target`` is ``"package.module:ClassName"``."""
    DRIVERS[driver] = target


def driver_class(driver: str) -> Callable[[VenueConfig], Venue]:
    try:
        target = DRIVERS[driver]
    except KeyError:
        raise ConfigError(
            f"unknown venue driver {driver!r} (known: {', '.join(sorted(DRIVERS))})"
        ) from None
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        extra = FEATURE_EXTRAS.get((exc.name or "").partition(".")[0])
        if extra is None:
            raise
        # a feature the core install leaves out: say which extra brings it, not a traceback
        raise ConfigError(
            f'driver "{driver}" needs the {extra} extra: pip install \'gapless[{extra}]\''
        ) from None
    cls = getattr(module, attr)
    if not (isinstance(cls, type) and issubclass(cls, Venue)):
        raise ConfigError(f"driver {driver!r} does not name a Venue class")
    return cls


def create_venue(config: VenueConfig) -> Venue:
    return driver_class(config.driver)(config)
