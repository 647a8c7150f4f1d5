"""Engine events: one ``OrderEvent`` per state change of an order, in journal order.

Observers (an arbitrage executor, the API stream, a dashboard, metrics) subscribe to these
instead of polling the engine. ``seq`` is the journal's sequence number, so a subscriber
that fell behind (it receives an ``EventGap``) re-reads what it missed from the journal.
"""

from __future__ import annotations

import msgspec

from gapless.model.schema import Fill, OrderState, StageTimes


class OrderEvent(msgspec.Struct, frozen=True, kw_only=True):
    """An order moved from ``previous`` to ``state`` (``previous`` None: first seen), or
    received a ``fill`` (``previous == state`` then). ``at`` is the engine clock (ns)."""

    seq: int
    intent_id: str
    venue: str
    client_order_id: str
    previous: OrderState | None
    state: OrderState
    fill: Fill | None = None
    reason: str = ""
    times: StageTimes = msgspec.field(default_factory=StageTimes)
    at: int = 0


class EventGap(msgspec.Struct, frozen=True, kw_only=True):
    """A slow subscriber's queue overflowed: events with ``after_seq < seq <= until_seq``
    were not delivered to it; read them back with ``Journal.events_since(after_seq)``."""

    after_seq: int
    until_seq: int
