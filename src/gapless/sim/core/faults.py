"""Fault state of one running venue simulator (venue-neutral).

Skins consult it on every request / WS frame; tests flip it in-process or over
``/__sim/faults`` (see docs/sim.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

OUTAGE_MODES = ("refuse", "503")
DROP_MODES = ("close", "hang")


@dataclass
class Faults:
    outage: str | None = None  # None | "refuse" (listener closed: connections refused) | "503"
    latency_ms: int = 0  # added before every REST answer and WS frame
    ws_stall: bool = False  # keep sockets open, send nothing (no data, no pings)
    weight_limit: int | None = None  # overrides the request-weight limit per minute
    order_limit_10s: int | None = None  # overrides the 10 s order-count limit
    order_limit_1d: int | None = None  # overrides the daily order-count limit
    partial_fill_next: int = 0  # next N taker orders fill only `partial_fill_fraction`
    partial_fill_fraction: Decimal = Decimal("0.5")
    clock_skew_ms: int = 0  # the venue's clock runs this far ahead (negative: behind)
    drop_response_next: int = 0  # next N order-mutating requests: executed, answer never sent
    drop_mode: str = "close"  # "close" the connection, or "hang" until the client gives up
    _ws_disconnect_hooks: list[Callable[[], Any]] = field(default_factory=list, repr=False)
    _outage_hooks: list[Callable[[str | None], Any]] = field(default_factory=list, repr=False)

    def __setattr__(self, name: str, value: Any) -> None:
        old = getattr(self, name, None)
        object.__setattr__(self, name, value)
        if name == "outage" and value != old:
            for hook in list(getattr(self, "_outage_hooks", ())):
                hook(value)

    def on_outage_change(self, hook: Callable[[str | None], Any]) -> None:
        """Called with the new mode whenever ``outage`` changes (the server refuses
        connections for "refuse" by closing its listening socket)."""
        self._outage_hooks.append(hook)

    def clear(self) -> None:
        hooks, outage_hooks = self._ws_disconnect_hooks, self._outage_hooks
        self._outage_hooks = []
        self.__init__()  # type: ignore[misc]
        self._ws_disconnect_hooks = hooks
        self._outage_hooks = outage_hooks
        if self.outage is None:
            for hook in list(outage_hooks):
                hook(None)

    def disconnect_ws(self) -> None:
        """Drop every WebSocket connection of this sim now."""
        for hook in list(self._ws_disconnect_hooks):
            hook()

    def on_ws_disconnect(self, hook: Callable[[], Any]) -> None:
        self._ws_disconnect_hooks.append(hook)

    def take_partial_fill(self) -> Decimal | None:
        if self.partial_fill_next > 0:
            self.partial_fill_next -= 1
            return self.partial_fill_fraction
        return None

    def take_drop_response(self) -> str | None:
        if self.drop_response_next > 0:
            self.drop_response_next -= 1
            return self.drop_mode
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "outage": self.outage,
            "latency_ms": self.latency_ms,
            "ws_stall": self.ws_stall,
            "weight_limit": self.weight_limit,
            "order_limit_10s": self.order_limit_10s,
            "order_limit_1d": self.order_limit_1d,
            "partial_fill_next": self.partial_fill_next,
            "partial_fill_fraction": str(self.partial_fill_fraction),
            "clock_skew_ms": self.clock_skew_ms,
            "drop_response_next": self.drop_response_next,
            "drop_mode": self.drop_mode,
        }
