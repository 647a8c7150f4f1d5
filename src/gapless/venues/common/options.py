"""Adapter options shared by the native venues (``VenueConfig.options`` holds strings).

Each venue declares its options once, as a :class:`VenueOptions` struct in its own
``options.py``; ``parse`` refuses a key the venue does not know and converts every value,
so a typo in the configuration is a ``ConfigError`` naming the option and the venue when
the config is loaded (and again when an adapter is built from a hand-made ``VenueConfig``),
never a silently ignored setting or an ``int()`` traceback at the first order.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from typing import ClassVar, Self

import msgspec

from gapless.model.errors import ConfigError

#: default request validity bound (ms), the one Binance and Bybit apply when none is sent
DEFAULT_RECV_WINDOW_MS = 5000
_MAX_DIGITS = 12  # far above any bound; keeps int() away from huge digit strings
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


def int_option(
    options: Mapping[str, str],
    name: str,
    default: int,
    *,
    low: int,
    high: int,
    family: str,
    venue: str | None = None,
) -> int:
    """``options[name]`` as a whole number in ``[low, high]``, or ``default`` if absent."""
    raw = options.get(name)
    if raw is None:
        return default
    text = str(raw).strip()
    valid = text.isascii() and text.isdigit() and len(text) <= _MAX_DIGITS
    if not valid or not low <= int(text) <= high:
        raise ConfigError(
            f"{family}: option {name} must be a whole number from {low} to {high}, got {raw!r}",
            venue=venue,
        )
    return int(text)


def float_option(
    options: Mapping[str, str],
    name: str,
    default: float,
    *,
    low: float,
    high: float,
    family: str,
    venue: str | None = None,
) -> float:
    """``options[name]`` as a finite number of (usually) seconds in ``(low, high]``."""
    raw = options.get(name)
    if raw is None:
        return default
    text = str(raw).strip()
    try:
        value = float(text) if len(text) <= 32 else math.nan
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and low < value <= high):
        raise ConfigError(
            f"{family}: option {name} must be a number above {low:g} and at most {high:g}, "
            f"got {raw!r}",
            venue=venue,
        )
    return value


def bool_option(
    options: Mapping[str, str],
    name: str,
    default: bool,
    *,
    family: str,
    venue: str | None = None,
) -> bool:
    """``options[name]`` as a yes/no switch (``true/false``, ``1/0``, ``yes/no``, ``on/off``)."""
    raw = options.get(name)
    if raw is None:
        return default
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigError(
        f"{family}: option {name} must be true or false, got {raw!r}", venue=venue
    )


def recv_window_ms(
    options: Mapping[str, str], *, maximum: int, family: str, venue: str | None = None
) -> int:
    """The ``recv_window`` option (ms a signed request stays valid at the venue)."""
    return int_option(
        options, "recv_window", DEFAULT_RECV_WINDOW_MS,
        low=1, high=maximum, family=family, venue=venue,
    )


def reject_unknown(
    options: Mapping[str, str], known: Collection[str], *, family: str, venue: str | None = None
) -> None:
    """A key the venue does not read is a mistake (usually a typo): say which one."""
    unknown = sorted(set(options) - set(known))
    if unknown:
        name = f" of venue {venue!r}" if venue else ""
        raise ConfigError(
            f"{family}: unknown option(s) {', '.join(unknown)}{name} "
            f"(known options: {', '.join(sorted(known))})",
            venue=venue,
        )


class VenueOptions(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of a venue's typed options: every field is one option key, with its default.

    Subclasses set ``family`` and implement ``_convert`` (string values -> typed fields,
    with the option's rules); ``parse`` is the one entry point adapters and the config
    loader call.
    """

    family: ClassVar[str] = "venue"

    @classmethod
    def known(cls) -> tuple[str, ...]:
        """The option keys this venue reads."""
        return cls.__struct_fields__

    @classmethod
    def parse(cls, options: Mapping[str, str], *, venue: str | None = None) -> Self:
        """Typed options from ``VenueConfig.options``; a ``ConfigError`` names a bad key."""
        reject_unknown(options, cls.known(), family=cls.family, venue=venue)
        return cls._convert(options, venue)

    @classmethod
    def _convert(cls, options: Mapping[str, str], venue: str | None) -> Self:
        raise NotImplementedError
