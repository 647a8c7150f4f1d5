"""Pre-trade checks: instrument filters and available balance, before anything is journaled."""

from __future__ import annotations

from decimal import Decimal

from gapless.model import (
    Balance,
    Instrument,
    InsufficientBalance,
    OrderIntent,
    OrderType,
    Side,
)


class BalanceBook:
    """Venue balances minus what our own in-flight orders have reserved.

    Venue balances already lock funds of resting orders; we only reserve for orders
    between submission and the venue's next balance report, so two concurrent intents
    cannot both spend the same funds.
    """

    def __init__(self) -> None:
        self._free: dict[tuple[str, str], Decimal] = {}
        self._reserved: dict[str, tuple[str, str, Decimal]] = {}  # intent -> (venue, asset, amt)
        self.known: set[str] = set()

    def set_balances(self, venue: str, balances: dict[str, Balance]) -> None:
        self.known.add(venue)
        for asset, b in balances.items():
            self._free[(venue, asset)] = b.free

    def update(self, venue: str, balance: Balance) -> None:
        self._free[(venue, balance.asset)] = balance.free

    def available(self, venue: str, asset: str) -> Decimal:
        reserved = sum(
            (amt for v, a, amt in self._reserved.values() if v == venue and a == asset),
            Decimal(0),
        )
        return self._free.get((venue, asset), Decimal(0)) - reserved

    def reserve(self, intent: OrderIntent, instrument: Instrument, ref_price: Decimal | None) -> None:
        """Raise ``InsufficientBalance`` unless the intent is covered; then reserve it."""
        if intent.venue not in self.known:
            return  # balances not loaded: the venue's own check is the backstop
        if intent.side is Side.SELL:
            asset, need = instrument.base, intent.qty
        else:
            price = intent.price if intent.type is OrderType.LIMIT else ref_price
            if price is None:
                return
            asset, need = instrument.quote, intent.qty * price
        have = self.available(intent.venue, asset)
        if need > have:
            raise InsufficientBalance(
                f"{intent.symbol}: needs {need} {asset}, {have} available", venue=intent.venue
            )
        self._reserved[intent.intent_id] = (intent.venue, asset, need)

    def release(self, intent_id: str) -> None:
        self._reserved.pop(intent_id, None)


def check_intent(intent: OrderIntent, instrument: Instrument) -> None:
    """Structural and filter checks; raise a ``LocalDenial`` subclass on failure."""
    intent.check()
    instrument.validate(intent.qty, intent.price)
