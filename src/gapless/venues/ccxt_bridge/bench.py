"""``bench_bridge``: orders/s through the ccxt bridge against a running Binance simulator.

Meant for a ``gapless bench`` row: ``creds`` is the dict a simulator hands out
(``rest_url``, ``ws_url``, ``api_key``, ``secret``, ``passphrase``).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from decimal import Decimal
from typing import Any


async def bench_bridge(creds: dict[str, str], n: int, conc: int) -> dict[str, Any]:
    """Place ``n`` resting limit buys with ``conc`` in flight; returns figures as a dict
    (``name``, ``orders``, ``seconds``, ``orders_per_s``, ``p50_ms``, ``p99_ms``)."""
    from gapless.model import Order, OrderType, Side, TimeInForce
    from gapless.venues.base import Credentials, VenueConfig
    from gapless.venues.registry import create_venue

    cfg = VenueConfig(
        name="ccxt-binance",
        driver="ccxt",
        rest_url=creds["rest_url"],
        credentials=Credentials(api_key=creds["api_key"], secret=creds["secret"]),
        # the simulator's limits are lifted for benches; do not throttle below them
        options={"exchange": "binance", "rate_limit_ms": "0.01", "header_limits": "off"},
    )
    venue = create_venue(cfg)
    await venue.start()
    run = uuid.uuid4().hex[:8]
    lat: list[float] = []
    sem = asyncio.Semaphore(max(1, conc))
    try:
        bid = (await venue.order_book("BTC/USDT", 5)).bids[0].price
        price = (bid * Decimal("0.9")).quantize(venue.instrument("BTC/USDT").tick_size)

        async def one(i: int) -> None:
            async with sem:
                o = Order(intent_id=f"cb{run}{i}", venue=venue.name, symbol="BTC/USDT",
                          side=Side.BUY, type=OrderType.LIMIT, qty=Decimal("0.001"),
                          price=price, tif=TimeInForce.GTC,
                          client_order_id=venue.client_order_id(f"cb{run}{i}"))
                t0 = time.perf_counter()
                await venue.place_order(o)
                lat.append(time.perf_counter() - t0)

        start = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        secs = time.perf_counter() - start
    finally:
        await venue.close()
    lat.sort()
    return {
        "name": "gapless ccxt bridge (binance)",
        "orders": n,
        "seconds": round(secs, 4),
        "orders_per_s": round(n / secs, 1) if secs > 0 else 0.0,
        "p50_ms": round(lat[len(lat) // 2] * 1000, 3) if lat else None,
        "p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000, 3) if lat else None,
    }
