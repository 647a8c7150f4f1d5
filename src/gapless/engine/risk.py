"""Pre-trade checks as objects: the engine runs its list of ``RiskCheck``s on every intent
before anything is journaled. Today's two are the venue's filters and the balance check;
the risk engine (limits, exposure, trading states) adds more without touching the engine.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

from gapless.engine.checks import BalanceBook, check_intent
from gapless.model import Instrument, OrderIntent


class RiskCheck(abc.ABC):
    """Refuse an intent by raising a ``LocalDenial`` from ``check``; nothing was sent then.
    ``release`` is called once the intent's send has finished (or the intent was refused
    by a later check), for checks that hold a reservation."""

    name: str = "risk"

    @abc.abstractmethod
    def check(self, intent: OrderIntent, instrument: Instrument) -> None: ...

    def release(self, intent_id: str) -> None:  # noqa: B027 - optional hook
        """Drop whatever ``check`` reserved for this intent (default: nothing)."""


class FilterCheck(RiskCheck):
    """The venue's instrument filters (tick, step, min qty, min notional) and intent shape."""

    name = "filters"

    def check(self, intent: OrderIntent, instrument: Instrument) -> None:
        check_intent(intent, instrument)


class BalanceCheck(RiskCheck):
    """Known free balance minus what in-flight intents reserved must cover the intent."""

    name = "balance"

    def __init__(self, book: BalanceBook) -> None:
        self.book = book

    def check(self, intent: OrderIntent, instrument: Instrument) -> None:
        self.book.reserve(intent, instrument, None)

    def release(self, intent_id: str) -> None:
        self.book.release(intent_id)


def run_checks(checks: Sequence[RiskCheck], intent: OrderIntent, instrument: Instrument) -> None:
    """Run every check in order; on a refusal, release what the earlier ones reserved."""
    passed: list[RiskCheck] = []
    try:
        for check in checks:
            check.check(intent, instrument)
            passed.append(check)
    except BaseException:
        for check in passed:
            check.release(intent.intent_id)
        raise
