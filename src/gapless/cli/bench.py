"""``gapless bench``: raw aiohttp baseline vs our adapter path vs ccxt, one simulator, one run.

The simulator runs in a child process so client CPU is measured apart from the server.
(a) the baseline is bare aiohttp with hand-signed POSTs and no framework (the same logic as
the project's loopback-limit script, carried here); (b) is ``Venue.place_order`` through our
adapter (translate, sign, limiter, breaker, HTTP, parse); (c) is ccxt's ``create_order``.
Ratios, not absolute numbers, are the result: all three hit the same server in the same run.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import multiprocessing
import time
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
from rich.console import Console
from rich.table import Table

# -- the simulator, in its own process --------------------------------------------------


def _serve(venues: list[str], conn: Any) -> None:
    import uvloop

    async def main() -> None:
        from gapless.sim.cluster import SimCluster

        async with SimCluster(venues, host="127.0.0.1", port_base=0, seed=1, tick_interval=0) as c:
            for name in venues:
                # the bench measures clients, not the venue's limits
                faults = c[name].faults
                faults.weight_limit = 10**9
                faults.order_limit_10s = 10**9
                faults.order_limit_1d = 10**9
            conn.send(c.credentials())
            await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # wait for "stop"

    uvloop.run(main())


class Stats:
    def __init__(self, name: str, n: int, seconds: float, lat: list[float], cpu: float) -> None:
        lat.sort()
        self.name = name
        self.n = n
        self.orders_per_s = n / seconds if seconds else 0.0
        self.p50_ms = lat[len(lat) // 2] * 1e3 if lat else 0.0
        self.p99_ms = lat[int(0.99 * (len(lat) - 1))] * 1e3 if lat else 0.0
        self.cpu_us = cpu / n * 1e6 if n else 0.0


async def _measure(
    name: str, n: int, conc: int, one: Callable[[int], Awaitable[None]], warmup: int = 100
) -> Stats:
    for i in range(warmup):
        await one(-1 - i)
    lat: list[float] = []
    sem = asyncio.Semaphore(conc)

    async def timed(i: int) -> None:
        async with sem:
            t0 = time.perf_counter()
            await one(i)
            lat.append(time.perf_counter() - t0)

    c0 = time.process_time()
    t0 = time.perf_counter()
    await asyncio.gather(*(timed(i) for i in range(n)))
    dt = time.perf_counter() - t0
    return Stats(name, n, dt, lat, time.process_time() - c0)


def _price_qty(i: int) -> tuple[str, str]:
    # deep below the market so orders rest and never fill; distinct prices spread the book
    return (f"{10000 + (i % 500):.2f}", "0.00100")  # for the hand-built baseline and ccxt


async def _baseline(creds: dict[str, str], n: int, conc: int) -> Stats:
    import aiohttp

    secret = creds["secret"].encode()
    run = uuid.uuid4().hex[:8]
    url = creds["rest_url"] + "/api/v3/order"
    conn = aiohttp.TCPConnector(limit=max(conc, 1))
    async with aiohttp.ClientSession(connector=conn) as s:
        hdr = {"X-MBX-APIKEY": creds["api_key"]}

        async def one(i: int) -> None:
            price, qty = _price_qty(i)
            q = (
                f"symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity={qty}&price={price}"
                f"&newClientOrderId=b{run}{i}&timestamp={int(time.time() * 1000)}"
            )
            sig = hmac.new(secret, q.encode(), hashlib.sha256).hexdigest()
            async with s.post(f"{url}?{q}&signature={sig}", headers=hdr) as r:
                body = orjson.loads(await r.read())
                if r.status != 200:
                    raise RuntimeError(f"baseline order failed: {body}")

        return await _measure("raw aiohttp", n, conc, one)


#: every adapter's limiter rules are multiplied by this: the bench measures the paths
#: (limiter bookkeeping included), not the venues' published limits
LIMIT_SCALE = 10**6


def _venue_config(name: str, creds: dict[str, str], driver: str | None = None,
                  options: dict[str, str] | None = None) -> Any:
    from gapless.venues.base import Credentials, VenueConfig

    return VenueConfig(
        name=name,
        driver=driver or name,
        rest_url=creds["rest_url"],
        ws_url=creds["ws_url"],
        credentials=Credentials(
            api_key=creds["api_key"], secret=creds["secret"], passphrase=creds["passphrase"]
        ),
        options=options or {},
        limit_scale=LIMIT_SCALE,
    )


async def _adapter(label: str, cfg: Any, n: int, conc: int) -> Stats:
    """Any ``Venue`` (native or the ccxt bridge): resting limit buys far below the market."""
    from gapless.model import Order, OrderType, Side, TimeInForce
    from gapless.venues.registry import create_venue

    venue = create_venue(cfg)
    await venue.start()
    symbol = "BTC/USDT" if "BTC/USDT" in venue.instruments else "BTC/USD"
    inst = venue.instrument(symbol)
    book = await venue.order_book(symbol, 5)
    base_px = inst.round_price(book.bids[0].price * Decimal("0.8"), Side.BUY)
    floor_qty = max(inst.min_qty, inst.min_notional * Decimal("1.2") / base_px)
    qty = inst.round_qty(floor_qty + inst.step_size)
    run = uuid.uuid4().hex[:8]
    try:

        async def one(i: int) -> None:
            price = base_px - inst.tick_size * (i % 500)
            iid = f"a{run}{i}"
            order = Order(
                intent_id=iid,
                venue=venue.name,
                symbol=symbol,
                side=Side.BUY,
                type=OrderType.LIMIT,
                qty=qty,
                price=price,
                tif=TimeInForce.GTC,
                client_order_id=venue.client_order_id(iid),
            )
            await venue.place_order(order)

        return await _measure(label, n, conc, one)
    finally:
        await venue.close()


async def _pipeline(cfg: Any, n: int, conc: int) -> Stats:
    """The path a user runs: ``Engine.submit`` = risk checks -> fsync'd SQLite journal
    (write-ahead) -> limiter -> sign -> send -> ack -> state, events written behind."""
    import tempfile

    from gapless.engine import Engine
    from gapless.model import OrderIntent, OrderType, Side, TimeInForce
    from gapless.store.sqlite import SqliteJournal
    from gapless.venues.registry import create_venue

    with tempfile.TemporaryDirectory(prefix="gapless-bench-") as tmp:
        journal = SqliteJournal(Path(tmp) / "bench.sqlite")
        await journal.open()
        engine = Engine(journal, {cfg.name: create_venue(cfg)})
        try:
            await engine.start()
            venue = engine.venue(cfg.name)
            symbol = "BTC/USDT"
            inst = venue.instrument(symbol)
            book = await venue.order_book(symbol, 5)
            base_px = inst.round_price(book.bids[0].price * Decimal("0.8"), Side.BUY)
            qty = inst.round_qty(max(inst.min_qty, inst.min_notional * Decimal("1.2") / base_px)
                                 + inst.step_size)
            run = uuid.uuid4().hex[:8]

            async def one(i: int) -> None:
                await engine.submit(OrderIntent(
                    intent_id=f"p{run}{i}", venue=cfg.name, symbol=symbol, side=Side.BUY,
                    type=OrderType.LIMIT, qty=qty, price=base_px - inst.tick_size * (i % 500),
                    tif=TimeInForce.GTC))

            return await _measure(f"gapless pipeline ({conc} in flight)", n, conc, one)
        finally:
            await engine.close()
            await journal.close()


async def _ccxt(creds: dict[str, str], n: int, conc: int) -> Stats | None:
    try:
        import ccxt.async_support as ccxt_async
    except ImportError:
        return None
    ex = ccxt_async.binance(
        {
            "apiKey": creds["api_key"],
            "secret": creds["secret"],
            "enableRateLimit": False,
            "options": {
                "defaultType": "spot",
                "fetchMarkets": {"types": ["spot"]},
                "fetchCurrencies": False,
                "fetchMargins": False,
                "adjustForTimeDifference": False,
            },
        }
    )
    rewrite_urls(ex.urls, creds["rest_url"])
    run = uuid.uuid4().hex[:8]
    try:
        await ex.load_markets()

        async def one(i: int) -> None:
            price, qty = _price_qty(i)
            await ex.create_order(
                "BTC/USDT", "limit", "buy", float(qty), float(price), {"newClientOrderId": f"x{run}{i}"}
            )

        return await _measure("ccxt binance", n, conc, one)
    finally:
        await ex.close()


def rewrite_urls(urls: Any, base: str) -> None:
    """Point every ccxt API URL at ``base`` (scheme and host replaced, path kept)."""
    target = urlsplit(base)
    api = urls.get("api", {})

    def fix(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: fix(v) for k, v in node.items()}
        if isinstance(node, str) and node.startswith("http"):
            parts = urlsplit(node)
            return parts._replace(scheme=target.scheme, netloc=target.netloc).geturl()
        return node

    urls["api"] = fix(api)


def run_bench(
    n: int, conc: int, json_file: Path | None, venues: list[str], console: Console
) -> dict[str, Any]:
    import uvloop

    venues = list(dict.fromkeys(["binance", *venues]))
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_serve, args=(venues, child), daemon=True)
    proc.start()
    try:
        creds = parent.recv()

        async def run_all() -> dict[str, Stats]:
            b = creds["binance"]
            out = {"baseline": await _baseline(b, n, conc)}
            out["pipeline"] = await _pipeline(_venue_config("binance", b), n, conc)
            if conc == 1:  # the pipeline also with 16 in flight, against its own baseline
                out["baseline16"] = await _baseline(b, n, 16)
                out["pipeline16"] = await _pipeline(_venue_config("binance", b), n, 16)
            for name in venues:
                out[name] = await _adapter(f"gapless {name} adapter", _venue_config(name, b if name == "binance" else creds[name]), n, conc)
            cx = await _ccxt(b, n, conc)
            if cx is not None:
                out["ccxt"] = cx
                bridge_cfg = _venue_config("ccxt-binance", b, driver="ccxt",
                                           options={"exchange": "binance"})
                out["bridge"] = await _adapter("gapless ccxt bridge (binance)", bridge_cfg, n, conc)
            return out

        stats = uvloop.run(run_all())
    finally:
        parent.send("stop")
        proc.join(timeout=10)
        if proc.is_alive():
            proc.terminate()
    base, ours = stats["baseline"], stats["binance"]
    cx, bridge = stats.get("ccxt"), stats.get("bridge")
    table = Table("path", "orders/s", "p50 ms", "p99 ms", "client CPU µs/order", "vs baseline",
                  title=f"gapless bench: {n} orders per path, {conc} in flight, simulators in one process")
    for key, s in stats.items():
        ref = stats["baseline16"] if key.endswith("16") else base
        table.add_row(s.name, f"{s.orders_per_s:,.0f}", f"{s.p50_ms:.3f}", f"{s.p99_ms:.3f}",
                      f"{s.cpu_us:.0f}", f"{s.orders_per_s / ref.orders_per_s:.2f}")
    console.print(table)

    def ratio(a: Stats | None, b: Stats | None) -> float | None:
        return round(a.orders_per_s / b.orders_per_s, 3) if a and b else None

    result = {
        "orders": n,
        "concurrency": conc,
        "baseline_orders_per_s": round(base.orders_per_s, 1),
        "adapter_orders_per_s": round(ours.orders_per_s, 1),
        "ccxt_orders_per_s": round(cx.orders_per_s, 1) if cx else None,
        "bridge_orders_per_s": round(bridge.orders_per_s, 1) if bridge else None,
        "ratio_to_baseline": ratio(ours, base),
        "ratio_to_ccxt": ratio(ours, cx),
        "bridge_ratio_to_ccxt": ratio(bridge, cx),
        "cpu_us_per_order": round(ours.cpu_us, 1),
        # what our layers add on top of bare aiohttp + signing (the framework's own cost)
        "overhead_cpu_us_per_order": round(ours.cpu_us - base.cpu_us, 1),
        "baseline_cpu_us_per_order": round(base.cpu_us, 1),
        # the full pipeline a user runs (Engine.submit), same simulator, same run
        "pipeline_orders_per_s": round(stats["pipeline"].orders_per_s, 1),
        "pipeline_cpu_us_per_order": round(stats["pipeline"].cpu_us, 1),
        "pipeline_ratio_to_baseline": ratio(stats["pipeline"], base),
        "pipeline_ratio_to_ccxt": ratio(stats["pipeline"], cx),
        "pipeline16_ratio_to_baseline16": ratio(stats.get("pipeline16"), stats.get("baseline16")),
        "paths": {s.name: {"orders_per_s": round(s.orders_per_s, 1), "p50_ms": round(s.p50_ms, 3),
                           "p99_ms": round(s.p99_ms, 3), "cpu_us_per_order": round(s.cpu_us, 1)}
                  for s in stats.values()},
    }
    console.print(
        f"binance adapter/baseline = {result['ratio_to_baseline']}  adapter/ccxt = {result['ratio_to_ccxt']}"
        f"  bridge/ccxt = {result['bridge_ratio_to_ccxt']}"
        f"  pipeline/baseline = {result['pipeline_ratio_to_baseline']}"
        f" (16 in flight: {result['pipeline16_ratio_to_baseline16']})"
        f"  pipeline/ccxt = {result['pipeline_ratio_to_ccxt']}"
        f"  our CPU per order = {result['cpu_us_per_order']} µs"
        f" ({result['overhead_cpu_us_per_order']} µs above the baseline)"
    )
    if json_file is not None:
        json_file.write_text(json.dumps(result, indent=2))
    return result
