"""Balances with funds locked by open orders."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

ZERO = Decimal(0)


class InsufficientFunds(Exception):
    pass


class Account:
    def __init__(self, name: str, balances: dict[str, Decimal] | None = None,
                 *, unlimited: bool = False) -> None:
        self.name = name
        self.unlimited = unlimited
        self.free: dict[str, Decimal] = defaultdict(lambda: ZERO)
        self.locked: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for asset, amount in (balances or {}).items():
            self.free[asset] = Decimal(amount)

    def available(self, asset: str) -> Decimal:
        return self.free[asset]

    def lock(self, asset: str, amount: Decimal) -> None:
        if self.unlimited or amount <= 0:
            return
        if self.free[asset] < amount:
            raise InsufficientFunds(asset)
        self.free[asset] -= amount
        self.locked[asset] += amount

    def unlock(self, asset: str, amount: Decimal) -> None:
        if self.unlimited or amount <= 0:
            return
        self.locked[asset] -= amount
        self.free[asset] += amount

    def spend_locked(self, asset: str, amount: Decimal) -> None:
        if self.unlimited:
            return
        self.locked[asset] -= amount

    def credit(self, asset: str, amount: Decimal) -> None:
        if self.unlimited:
            return
        self.free[asset] += amount

    def snapshot(self, assets: set[str] | None = None) -> dict[str, tuple[Decimal, Decimal]]:
        names = assets if assets is not None else set(self.free) | set(self.locked)
        return {a: (self.free[a], self.locked[a]) for a in sorted(names)}
