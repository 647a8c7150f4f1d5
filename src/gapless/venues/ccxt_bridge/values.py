"""Value checks the bridge applies to what ccxt hands back: decimals that must be finite
numbers, ccxt precisions as tick sizes, and how much a raw answer held (so that entries
ccxt drops silently are noticed). Kept apart from ``adapter.py`` to keep it readable."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from gapless.model.errors import MalformedResponse

ZERO = Decimal(0)


def hollow(obj: Any) -> bool:
    """An answer with no content at all: ``{}``, ``[{}]``, ``{"a": {}}``..."""
    if isinstance(obj, dict):
        return all(hollow(v) for v in obj.values())
    if isinstance(obj, list):
        return bool(obj) and all(hollow(v) for v in obj)
    return False


def raw_items(obj: Any, depth: int = 3) -> int:
    """Entries in the biggest list of objects within ``depth`` levels of a raw answer
    (how many orders/balances/trades the venue sent, whatever the envelope)."""
    if isinstance(obj, list):
        n = len(obj) if obj and all(isinstance(v, dict) for v in obj) else 0
        if depth > 0:
            n = max([n, *(raw_items(v, depth - 1) for v in obj[:50])])
        return n
    if isinstance(obj, dict) and depth > 0:
        return max([0, *(raw_items(v, depth - 1) for v in obj.values())])
    return 0


def to_decimal(value: Any, what: str, venue: str) -> Decimal | None:
    if value is None:
        return None
    try:
        if isinstance(value, bool):
            raise TypeError
        if isinstance(value, float):
            d = Decimal(repr(value))
        elif isinstance(value, int | str | Decimal):
            d = Decimal(value)
        else:
            raise TypeError
    except (TypeError, InvalidOperation):
        raise MalformedResponse(f"{what} is not a number: {str(value)[:40]!r}", venue=venue) from None
    if not d.is_finite():
        raise MalformedResponse(f"{what} is not finite", venue=venue)
    return d


def tick_size(value: Any, mode: int, venue: str) -> Decimal:
    """A ccxt precision value as a tick/step size (0 when unknown)."""
    if value is None:
        return ZERO
    d = to_decimal(value, "precision", venue) or ZERO
    if mode == 2:  # DECIMAL_PLACES
        return Decimal(1).scaleb(-int(d))
    if mode == 4:  # TICK_SIZE
        return d.normalize() if d > 0 else ZERO
    return ZERO  # SIGNIFICANT_DIGITS: no fixed step
