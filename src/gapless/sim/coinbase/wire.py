"""Wire formatting shared by the REST and WebSocket halves of the Coinbase skin."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from ..core.models import CANCELED, EXPIRED, FILLED, NEW, PARTIALLY_FILLED

STATUS = {NEW: "OPEN", PARTIALLY_FILLED: "OPEN", FILLED: "FILLED", CANCELED: "CANCELLED",
          EXPIRED: "EXPIRED"}


def fmt(d: Decimal | int | None) -> str:
    """Plain decimal string without exponent or trailing zeros (``"0"`` for zero)."""
    if d is None:
        return ""
    d = Decimal(d)
    if d == 0:
        return "0"
    s = format(d, "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


def iso(ms: int) -> str:
    dt = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond:06d}Z"


def status_of(order: object) -> str:
    """Venue status of a core order; a quote-sized market order that traded is FILLED."""
    core = getattr(order, "status", "")
    if core == EXPIRED and getattr(order, "qty", None) is None and getattr(order, "filled", 0) > 0:
        return "FILLED"
    return STATUS.get(core, "UNKNOWN_ORDER_STATUS")
