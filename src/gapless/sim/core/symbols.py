"""Default instruments and the pre-funded test account."""

from __future__ import annotations

from decimal import Decimal as D

from .models import SymbolSpec


def default_symbols() -> list[SymbolSpec]:
    return [
        SymbolSpec("BTC", "USDT", D("0.01"), D("0.00001"), D("0.00001"), D("9000"), D("5"),
                   D("90000000"), D("0.01"), D("1000000"), D("60000")),
        SymbolSpec("ETH", "USDT", D("0.01"), D("0.0001"), D("0.0001"), D("9000"), D("5"),
                   D("90000000"), D("0.01"), D("1000000"), D("3000")),
        SymbolSpec("BTC", "USD", D("0.01"), D("0.00001"), D("0.00001"), D("9000"), D("5"),
                   D("90000000"), D("0.01"), D("1000000"), D("60000")),
        SymbolSpec("ETH", "USD", D("0.01"), D("0.0001"), D("0.0001"), D("9000"), D("5"),
                   D("90000000"), D("0.01"), D("1000000"), D("3000")),
        SymbolSpec("ETH", "BTC", D("0.00001"), D("0.0001"), D("0.0001"), D("100000"), D("0.0001"),
                   D("9000000"), D("0.00001"), D("922327"), D("0.05")),
    ]


def default_balances() -> dict[str, D]:
    return {"BTC": D("100"), "ETH": D("1000"), "USDT": D("10000000"), "USD": D("10000000")}
