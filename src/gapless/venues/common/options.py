"""Adapter options shared by the native venues (``VenueConfig.options`` holds strings).

A bad value is a ``ConfigError`` naming the option, raised when the adapter is built,
so a typo in the configuration never surfaces as an ``int()`` traceback at the first
order.
"""

from __future__ import annotations

from collections.abc import Mapping

from gapless.model.errors import ConfigError

#: default request validity bound (ms), the one Binance and Bybit apply when none is sent
DEFAULT_RECV_WINDOW_MS = 5000
_MAX_DIGITS = 12  # far above any bound; keeps int() away from huge digit strings


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


def recv_window_ms(
    options: Mapping[str, str], *, maximum: int, family: str, venue: str | None = None
) -> int:
    """The ``recv_window`` option (ms a signed request stays valid at the venue)."""
    return int_option(
        options, "recv_window", DEFAULT_RECV_WINDOW_MS,
        low=1, high=maximum, family=family, venue=venue,
    )
