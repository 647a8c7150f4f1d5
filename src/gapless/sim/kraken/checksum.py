"""WS v2 book checksum: CRC32 over the top 10 asks then bids, each level written as
price then qty at the pair's precision with the dot and leading zeros removed."""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from decimal import Decimal

from .wire import fmt


def _level(price: Decimal, qty: Decimal, price_dp: int, qty_dp: int) -> str:
    return (fmt(price, price_dp).replace(".", "").lstrip("0")
            + fmt(qty, qty_dp).replace(".", "").lstrip("0"))


def book_checksum(asks: Iterable[tuple[Decimal, Decimal]], bids: Iterable[tuple[Decimal, Decimal]],
                  price_dp: int, qty_dp: int) -> int:
    a = "".join(_level(p, q, price_dp, qty_dp) for p, q in list(asks)[:10])
    b = "".join(_level(p, q, price_dp, qty_dp) for p, q in list(bids)[:10])
    return zlib.crc32((a + b).encode()) & 0xFFFFFFFF
