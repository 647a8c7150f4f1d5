"""Guard for the lean order path: translation + signing + response parsing per order."""

from __future__ import annotations

import time
from decimal import Decimal

import orjson

from gapless.model import Order, OrderType, Side, TimeInForce
from gapless.venues.binance.adapter import binance_client_order_id
from gapless.venues.binance.auth import HmacSigner
from gapless.venues.binance.translate import (
    decode_exchange_info,
    decode_order,
    instruments_from,
    order_query,
    report_from,
    spec_for,
)

from .test_translate import EXCHANGE_INFO, FULL


def test_order_path_cpu_budget() -> None:
    inst = instruments_from(decode_exchange_info(orjson.dumps(EXCHANGE_INFO)), "binance")
    spec = spec_for(inst["BTC/USDT"])
    signer = HmacSigner("s" * 64)
    resp = orjson.dumps({**FULL, "fills": FULL["fills"][:1]})
    n = 2000
    t0 = time.process_time()
    for i in range(n):
        cid = binance_client_order_id(f"intent/{i}")
        o = Order(intent_id=cid, venue="binance", symbol="BTC/USDT", side=Side.BUY,
                  type=OrderType.LIMIT, qty=Decimal("0.001"), price=Decimal("50000.10"),
                  tif=TimeInForce.GTC, client_order_id=cid)
        q = f"{order_query(spec, o)}&recvWindow=5000&timestamp={1700000000000 + i}"
        q = f"{q}&signature={signer.sign(q.encode())}"
        report_from(decode_order(resp), "BTC/USDT", "binance")
    per_order_us = (time.process_time() - t0) / n * 1e6
    # measured ~10 us on a laptop; the budget for the whole gapless path is 100 us
    assert per_order_us < 60, f"{per_order_us:.1f} us per order"
