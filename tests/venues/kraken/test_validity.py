"""Kraken's validity bounds (AddOrder's ``deadline`` and the nonce rule) and the REST
counter, over loopback sockets.

A create held in transit past its deadline is refused on arrival, whether or not a later
request was answered meanwhile; one held past the client's timeout can never execute once
the venue has answered a later-nonced query; place_order never waits on the limiter after
the venue accepted the order (issue 7, defects 1 and 4).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec
import pytest

from gapless.model import OrderState, Side, TimeInForce
from gapless.model.errors import ConfigError, OrderNotFound, OutcomeUnknown
from gapless.sim.cluster import start_venue_sim
from gapless.venues.base import Credentials, VenueConfig
from gapless.venues.kraken.adapter import KrakenVenue
from gapless.venues.kraken.auth import NonceSource, nonce_source
from gapless.venues.kraken.limits import REST
from gapless.venues.registry import create_venue

from ..contract import best, make_order, passive_buy_price, qty_for
from ..harness import venue_on_sim
from ..hostile import HostileProxy

SYMBOL = "BTC/USD"


def config(sim: Any, *, rest_url: str | None = None, timeout: float = 5.0,
           options: dict[str, str] | None = None) -> VenueConfig:
    return VenueConfig(
        name="kraken", driver="kraken", rest_url=rest_url or sim.rest_url, ws_url=sim.ws_url,
        credentials=Credentials(api_key=sim.api_key, secret=sim.secret),
        options=dict(options or {}), request_timeout=timeout,
    )


# -- the nonce rule as the validity bound ---------------------------------------------
async def _held_create(query_meanwhile: bool, *, hold: float = 3.0, recv_window: int = 10000,
                       skew_ms: int = 0) -> tuple[HostileProxy, Any, str, bool]:
    """Send a create through a proxy that holds it ``hold`` s, past the client's timeout;
    optionally ask for it by client id while it is held. ``skew_ms``: the venue's clock runs
    that far ahead. Returns (proxy, sim, cid, found at the end)."""
    sim = await start_venue_sim("kraken", host="127.0.0.1", port=0, seed=11, tick_interval=0)
    sim.exchange.faults.clock_skew_ms = skew_ms
    proxy = await HostileProxy(sim.rest_url).start()
    cfg = config(sim, rest_url=proxy.url, timeout=0.5,
                 options={"recv_window": str(recv_window)})
    try:
        async with venue_on_sim(sim, cfg) as venue:
            assert venue.request_validity() == recv_window / 1000
            inst = venue.instrument(SYMBOL)
            bid, _ = await best(venue, SYMBOL)
            price = passive_buy_price(inst, bid)
            order = make_order(venue, SYMBOL, Side.BUY, qty_for(inst, price), price)
            proxy.hold(hold, match="AddOrder")
            with pytest.raises(OutcomeUnknown):
                await venue.place_order(order)
            assert proxy.held == 1 and not proxy.delivered  # the create is still in transit
            if query_meanwhile:
                with pytest.raises(OrderNotFound):  # answered: its nonce is above the create's
                    await venue.query_order(SYMBOL, order.client_order_id)
                assert not proxy.delivered  # the "not found" really came first
            await proxy.wait_delivered(1)
            try:
                await venue.query_order(SYMBOL, order.client_order_id)
                found = True
            except OrderNotFound:
                found = False
            return proxy, sim, order.client_order_id, found
    finally:
        await proxy.stop()


async def test_held_create_is_refused_once_a_later_query_was_answered() -> None:
    proxy, sim, cid, found = await _held_create(query_meanwhile=True)
    _, status, body = proxy.delivered[0]
    assert status == 200 and b"EAPI:Invalid nonce" in body
    assert not found
    assert [o for o in sim.exchange.user_orders() if o.client_id == cid] == []


async def test_held_create_lands_when_nothing_later_was_answered() -> None:
    """The control: the same late create (still within its deadline) lands when no
    later-nonced request beat it, so the refusal above is the nonce rule at work, not a
    broken proxy."""
    proxy, sim, cid, found = await _held_create(query_meanwhile=False)
    _, status, body = proxy.delivered[0]
    assert status == 200 and b"txid" in body and b"Invalid nonce" not in body
    assert found
    assert len([o for o in sim.exchange.user_orders() if o.client_id == cid]) == 1


# -- the deadline as the validity bound -----------------------------------------------
async def test_create_held_past_its_deadline_is_refused_with_nothing_answered_meanwhile() -> None:
    """The bound that needs no later answer (and so survives a crash and a wall clock
    stepping back): deadline = venue now + 3 s, held 3.5 s, nothing else sent meanwhile."""
    proxy, sim, cid, found = await _held_create(query_meanwhile=False, hold=3.5,
                                                recv_window=3000)
    _, status, body = proxy.delivered[0]
    assert status == 200 and b"EService:Deadline elapsed" in body and b"txid" not in body
    assert not found
    assert [o for o in sim.exchange.user_orders() if o.client_id == cid] == []


async def test_create_held_within_its_deadline_lands() -> None:
    proxy, sim, cid, found = await _held_create(query_meanwhile=False, hold=1.0,
                                                recv_window=5000)
    _, status, body = proxy.delivered[0]
    assert status == 200 and b"txid" in body and b"Deadline" not in body
    assert found
    assert len([o for o in sim.exchange.user_orders() if o.client_id == cid]) == 1


async def test_the_deadline_is_set_on_the_venues_clock() -> None:
    """The venue's clock 20 s ahead of ours: a deadline of our now + 5 s would have passed
    there already; the offset measured from /0/public/Time at start puts it ahead."""
    proxy, sim, cid, found = await _held_create(query_meanwhile=False, hold=1.0,
                                                recv_window=5000, skew_ms=20_000)
    _, status, body = proxy.delivered[0]
    assert status == 200 and b"txid" in body and b"Deadline" not in body
    assert found
    assert len([o for o in sim.exchange.user_orders() if o.client_id == cid]) == 1


def test_nonces_strictly_increase_in_the_same_microsecond_and_across_clock_steps() -> None:
    ticks = iter([1000, 1000, 990, 5000, 4000, 4000])
    src = NonceSource(lambda: next(ticks))
    assert [int(src.next()) for _ in range(6)] == [1000, 1001, 1002, 5000, 5001, 5002]


async def test_one_nonce_source_per_key_for_every_adapter_in_the_process() -> None:
    sim = await start_venue_sim("kraken", host="127.0.0.1", port=0, seed=12, tick_interval=0)
    try:
        a = KrakenVenue(config(sim))
        b = KrakenVenue(msgspec.structs.replace(config(sim), name="kraken-2"))
        assert a._nonce is b._nonce is nonce_source(sim.api_key)
        seq = [int(v._nonce.next()) for v in (a, b, a, b)]
        assert seq == sorted(seq) and len(set(seq)) == 4
    finally:
        await sim.stop()


@pytest.mark.parametrize(("options", "word"), [
    ({"recv_window": "abc"}, "recv_window"), ({"recv_window": "0"}, "recv_window"),
    ({"recv_window": "-5"}, "recv_window"), ({"recv_window": "1e3"}, "recv_window"),
    ({"recv_window": "1999"}, "recv_window"), ({"recv_window": "60001"}, "recv_window"),
    ({"nonce_window": "x"}, "nonce_window"), ({"tier": "gold"}, "tier"),
    ({"rest_counter_max": "nan"}, "rest_counter_max"),
    ({"trade_counter_decay": "0"}, "trade_counter_decay"),
])
def test_bad_options_are_config_errors_naming_the_option(options: dict[str, str],
                                                         word: str) -> None:
    cfg = VenueConfig(name="kraken", driver="kraken", rest_url="http://127.0.0.1:1",
                      options=options)
    with pytest.raises(ConfigError) as ei:
        create_venue(cfg)
    assert word in str(ei.value)


def test_validity_options() -> None:
    def venue(**opts: str) -> KrakenVenue:
        return KrakenVenue(VenueConfig(name="kraken", driver="kraken",
                                       rest_url="http://127.0.0.1:1", options=opts))

    assert venue().request_validity() == 5.0  # the deadline: venue now + 5000 ms
    assert venue(recv_window="2000").request_validity() == 2.0  # the documented range
    assert venue(recv_window="60000").request_validity() == 60.0
    # a nonce window lets lower nonces in, but the deadline still bounds every create
    assert venue(nonce_window="5000000").request_validity() == 5.0
    assert venue().tier.rest_max == 15  # starter unless told otherwise


# -- defect 4: no budget wait after the venue accepted --------------------------------
async def test_place_order_never_waits_on_the_limiter_after_acceptance() -> None:
    """Starter tier (15, -0.33/s; 70 % = 10.5 at start): more orders in a row than the
    read-back budget. Every order is accepted, none waits on the limiter: once the
    REST counter has no room, place_order returns the acceptance instead of waiting."""
    sim = await start_venue_sim("kraken", host="127.0.0.1", port=0, seed=13, tick_interval=0)
    async with venue_on_sim(sim, config(sim, options={"tier": "starter"})) as venue:
        inst = venue.instrument(SYMBOL)
        bid, _ = await best(venue, SYMBOL)
        far = inst.round_price(bid * Decimal("0.9"), Side.BUY)
        qty = qty_for(inst, far)
        limiter = venue.limiter
        assert limiter.waits == 0
        states = []
        for _ in range(14):  # IOCs far from the market: a read-back says CANCELED
            o = make_order(venue, SYMBOL, Side.BUY, qty, far, tif=TimeInForce.IOC)
            rep = await venue.place_order(o)
            assert rep.venue_order_id
            states.append(rep.state)
        assert limiter.waits == 0, list(limiter.recent_waits)  # nobody waited for budget
        assert states[0] is OrderState.CANCELED  # read back while there was room
        assert OrderState.ACCEPTED in states  # read-back skipped once there was none
        assert set(states) <= {OrderState.CANCELED, OrderState.ACCEPTED}
        assert limiter.used(REST) <= limiter.effective_limit(REST) + 1e-9
        assert len(sim.exchange.user_orders()) == 14
