"""The ``Journal`` interface: durable record of every order, written *before* sending.

Write-ahead rule: ``record_new`` must have returned (data on disk) before the order's
request may reach a socket. Backends: SQLite (default), PostgreSQL (later).
"""

from __future__ import annotations

import abc
import asyncio
from collections.abc import Sequence

from gapless.model import Fill, Order, OrderEvent


class Journal(abc.ABC):
    @abc.abstractmethod
    async def open(self) -> None: ...

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    async def record_new(self, order: Order, events: Sequence[OrderEvent] = ()) -> list[int]:
        """Durably insert a new order (state CREATED) and its events in one transaction.
        Raises if ``intent_id`` exists. Returns the events' assigned sequence numbers."""

    @abc.abstractmethod
    async def update(self, order: Order, events: Sequence[OrderEvent] = ()) -> list[int]:
        """Durably store the order's current state, ids, fills summary and times, with the
        events describing the change, in one transaction. Returns the events' sequence
        numbers (assigned by the journal: strictly increasing in commit order)."""

    def update_behind(
        self, order: Order, events: Sequence[OrderEvent] = ()
    ) -> asyncio.Future[list[int]]:
        """``update`` without waiting for it: written in order after every write queued
        before it, durable once the returned future is done, and seen by every later read.
        Only the write-ahead ``record_new`` must be awaited before a send; what follows it
        can be written behind (recovery re-derives it from the venue after a crash)."""
        return asyncio.ensure_future(self.update(order, events))

    def record_fill_behind(self, fill: Fill, intent_id: str) -> asyncio.Future[bool]:
        """``record_fill`` without waiting for it (same ordering rules as ``update_behind``)."""
        return asyncio.ensure_future(self.record_fill(fill, intent_id))

    @abc.abstractmethod
    async def events_since(self, after_seq: int = 0, limit: int = 10_000) -> list[OrderEvent]:
        """Events with ``seq > after_seq`` in sequence order (a subscriber's replay)."""

    @abc.abstractmethod
    async def last_event_seq(self) -> int:
        """The highest event sequence number journaled (0 if none)."""

    @abc.abstractmethod
    async def record_fill(self, fill: Fill, intent_id: str) -> bool:
        """Store a fill once per (venue, trade_id); returns False if already stored."""

    @abc.abstractmethod
    async def get(self, intent_id: str) -> Order | None: ...

    @abc.abstractmethod
    async def find_by_client_id(self, venue: str, client_order_id: str) -> Order | None: ...

    @abc.abstractmethod
    async def open_orders(self) -> list[Order]:
        """Every order not in a terminal state (what recovery must reconcile)."""

    @abc.abstractmethod
    async def all_orders(self) -> list[Order]: ...

    @abc.abstractmethod
    async def fills(self, intent_id: str) -> list[Fill]: ...
