"""Kraken wire spellings: asset codes (``XXBT``/``ZUSD``), pair keys, altnames, WS names, txids,
number strings."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal as D

from ..core.models import SymbolSpec

_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


@dataclass(frozen=True)
class AssetInfo:
    code: str  # REST asset code, e.g. XXBT
    altname: str  # e.g. XBT
    decimals: int
    display_decimals: int


#: canonical asset -> Kraken REST asset
ASSETS: dict[str, AssetInfo] = {
    "BTC": AssetInfo("XXBT", "XBT", 10, 5),
    "ETH": AssetInfo("XETH", "ETH", 10, 5),
    "USD": AssetInfo("ZUSD", "USD", 4, 2),
    "USDT": AssetInfo("USDT", "USDT", 8, 4),
}


@dataclass(frozen=True)
class PairInfo:
    symbol: str  # canonical BASE/QUOTE, also the WS v2 name
    key: str  # AssetPairs key, e.g. XXBTZUSD
    altname: str  # e.g. XBTUSD
    wsname: str  # legacy, e.g. XBT/USD
    base: AssetInfo
    quote: AssetInfo
    pair_decimals: int
    lot_decimals: int
    cost_decimals: int


def kraken_symbols() -> list[SymbolSpec]:
    """Kraken-like filters: lot precision 8 decimals, tick from ``pair_decimals``."""
    return [
        SymbolSpec("BTC", "USD", D("0.1"), D("0.00000001"), D("0.00005"), D("10000"), D("0.5"),
                   D("100000000"), D("0.1"), D("10000000"), D("60000")),
        SymbolSpec("ETH", "USD", D("0.01"), D("0.00000001"), D("0.002"), D("100000"), D("0.5"),
                   D("100000000"), D("0.01"), D("1000000"), D("3000")),
        SymbolSpec("BTC", "USDT", D("0.1"), D("0.00000001"), D("0.00005"), D("10000"), D("0.5"),
                   D("100000000"), D("0.1"), D("10000000"), D("60000")),
        SymbolSpec("ETH", "USDT", D("0.01"), D("0.00000001"), D("0.002"), D("100000"), D("0.5"),
                   D("100000000"), D("0.01"), D("1000000"), D("3000")),
        SymbolSpec("ETH", "BTC", D("0.00001"), D("0.00000001"), D("0.002"), D("100000"),
                   D("0.00002"), D("100000"), D("0.00001"), D("100"), D("0.05")),
    ]


def _decimals(step: D) -> int:
    exp = step.normalize().as_tuple().exponent
    return -exp if isinstance(exp, int) and exp < 0 else 0


def pair_info(spec: SymbolSpec) -> PairInfo:
    base, quote = ASSETS[spec.base], ASSETS[spec.quote]
    # classic pairs of X/Z assets are keyed XXBTZUSD; newer ones use the altname
    classic = base.code != base.altname and quote.code != quote.altname
    alt = base.altname + quote.altname
    return PairInfo(
        symbol=spec.symbol,
        key=base.code + quote.code if classic else alt,
        altname=alt,
        wsname=f"{base.altname}/{quote.altname}",
        base=base,
        quote=quote,
        pair_decimals=_decimals(spec.tick),
        lot_decimals=_decimals(spec.step),
        cost_decimals=quote.display_decimals + 3,
    )


def make_txid(kind: str, n: int, salt: str) -> str:
    """A Kraken-looking id ``OXXXXX-XXXXX-XXXXXX`` derived from a counter."""
    h = hashlib.sha256(f"{salt}:{kind}:{n}".encode()).digest()
    chars = "".join(_B32[b % 32] for b in h[:16])
    return f"{kind}{chars[:5]}-{chars[5:10]}-{chars[10:16]}"


def fmt(value: D, places: int) -> str:
    return f"{value.quantize(D(1).scaleb(-places)):f}" if places > 0 else f"{value.quantize(D(1)):f}"
