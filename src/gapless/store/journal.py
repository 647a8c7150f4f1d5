"""The ``Journal`` interface: durable record of every order, written *before* sending.

Write-ahead rule: ``record_new`` must have returned (data on disk) before the order's
request may reach a socket. Backends: SQLite (default), PostgreSQL (later).
"""

from __future__ import annotations

import abc

from gapless.model import Fill, Order


class Journal(abc.ABC):
    @abc.abstractmethod
    async def open(self) -> None: ...

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    async def record_new(self, order: Order) -> None:
        """Durably insert a new order (state CREATED). Raises if ``intent_id`` exists."""

    @abc.abstractmethod
    async def update(self, order: Order) -> None:
        """Durably store the order's current state, ids, fills summary and times."""

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
