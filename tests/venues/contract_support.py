"""Shared pieces of the adapter contract: the harness shape, capability switches and the
helpers every contract module uses (re-exported by ``contract``)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from decimal import ROUND_UP, Decimal
from typing import Any

import pytest

from gapless.model import (
    Instrument,
    Order,
    OrderReport,
    OrderType,
    Side,
    TimeInForce,
)
from gapless.venues.base import Venue

#: what the simulators behind every harness offer (fault injection, dropped answers, the
#: hostile proxy); the venue's own abilities come from its declared capabilities
SIM_FEATURES = frozenset({"faults", "drop_response", "rate_limit_faults", "hostile_proxy"})
#: everything the suite can exercise; a harness may leave some out
ALL_CAPABILITIES = frozenset(
    {"market", "ioc", "post_only", "watch_book", "private_events", *SIM_FEATURES}
)


def declared_capabilities(venue: Venue) -> frozenset[str]:
    """The suite's switches that the adapter's ``capabilities`` attribute turns on."""
    caps = venue.capabilities
    flags = {
        "market": OrderType.MARKET in caps.order_types,
        "ioc": TimeInForce.IOC in caps.time_in_force,
        "post_only": TimeInForce.POST_ONLY in caps.time_in_force,
        "watch_book": caps.book_stream,
        "private_events": caps.private_stream,
    }
    return frozenset(name for name, on in flags.items() if on)
WAIT = 10.0  # seconds to wait for stream events


@dataclass
class VenueHarness:
    venue: Venue  # started
    sim: Any  # running simulator: ``.faults``, ``.stop()``
    #: build another (not started) adapter for the same account: optional REST URL override
    #: (for the hostile proxy) and request timeout
    make_venue: Callable[..., Venue]
    symbol: str = "BTC/USDT"
    #: ``None``: the adapter's declared capabilities plus ``SIM_FEATURES``
    capabilities: frozenset[str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def features(self) -> frozenset[str]:
        if self.capabilities is not None:
            return self.capabilities
        return declared_capabilities(self.venue) | SIM_FEATURES


# -- helpers ---------------------------------------------------------------------------
def new_intent(tag: str = "t") -> str:
    return f"ct-{tag}-{uuid.uuid4().hex[:12]}"


def make_order(
    venue: Venue,
    symbol: str,
    side: Side,
    qty: Decimal,
    price: Decimal | None = None,
    *,
    tif: TimeInForce = TimeInForce.GTC,
    intent: str | None = None,
    client_order_id: str | None = None,
) -> Order:
    intent = intent or new_intent()
    return Order(
        intent_id=intent,
        venue=venue.name,
        symbol=symbol,
        side=side,
        type=OrderType.LIMIT if price is not None else OrderType.MARKET,
        qty=qty,
        price=price,
        tif=tif,
        client_order_id=client_order_id or venue.client_order_id(intent),
    )


async def best(venue: Venue, symbol: str) -> tuple[Decimal, Decimal]:
    book = await venue.order_book(symbol, 5)
    assert book.bids and book.asks, "the simulator should have a two-sided book"
    return book.bids[0].price, book.asks[0].price


def qty_for(inst: Instrument, price: Decimal, factor: Decimal = Decimal(2)) -> Decimal:
    """Smallest comfortable quantity: above min qty and min notional (times ``factor``)."""
    need = max(inst.min_qty, (inst.min_notional * factor / price) if inst.min_notional else 0)
    step = inst.step_size or Decimal("0.00000001")
    q = (need / step).to_integral_value(rounding=ROUND_UP) * step
    return max(q, step).quantize(step) if inst.step_size else q


def passive_buy_price(inst: Instrument, bid: Decimal) -> Decimal:
    p = inst.round_price(bid * Decimal("0.95"), Side.BUY)
    return max(p, inst.min_price, inst.tick_size)


async def wait_for_report(
    queue: asyncio.Queue[Any], pred: Callable[[OrderReport], bool], timeout: float
) -> OrderReport | None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        left = deadline - loop.time()
        if left <= 0:
            return None
        try:
            ev = await asyncio.wait_for(queue.get(), left)
        except TimeoutError:
            return None
        if isinstance(ev, OrderReport) and pred(ev):
            return ev



@contextlib.asynccontextmanager
async def pumped(venue: Venue) -> AsyncIterator[tuple[asyncio.Queue[Any], asyncio.Task[None]]]:
    """Follow ``venue.private_events()`` into a queue for the duration of the block."""
    queue: asyncio.Queue[Any] = asyncio.Queue()
    stream = venue.private_events()

    async def pump() -> None:
        async for ev in stream:
            await queue.put(ev)

    task = asyncio.create_task(pump())
    try:
        yield queue, task
    finally:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
        with contextlib.suppress(Exception):
            await stream.aclose()  # type: ignore[attr-defined]



async def until_live(
    v: Venue, sym: str, queue: asyncio.Queue[Any], task: asyncio.Task[None], failure: str
) -> None:
    """Place passive probe orders until one's update comes through the private stream
    (streams subscribe asynchronously, so the first orders may pass unseen)."""
    inst = v.instrument(sym)
    bid, _ = await best(v, sym)
    price = passive_buy_price(inst, bid)
    for _ in range(10):
        probe = make_order(v, sym, Side.BUY, qty_for(inst, price), price)
        await v.place_order(probe)
        if await wait_for_report(
            queue, lambda r, c=probe.client_order_id: r.client_order_id == c, 1.0
        ):
            return
        assert not task.done(), task.exception() if not task.cancelled() else None
    pytest.fail(failure)
