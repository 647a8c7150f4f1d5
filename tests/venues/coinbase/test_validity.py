"""Issue 7, defect 1 (Coinbase side): every private request carries a JWT that the venue will
execute only until ``exp`` = ``nbf`` + ``recv_window``/1000 on the venue's clock, and
``request_validity()`` says so. A create held in transit past that bound is refused on
arrival (HTTP 401, nothing created); held shorter, it lands and a later query finds it."""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from gapless.model import OrderState, Side
from gapless.model.errors import ConfigError, OrderNotFound, RequestTimeout
from gapless.sim.core.exchange import Exchange, UnknownOrder
from gapless.venues.base import Venue
from gapless.venues.coinbase.adapter import CoinbaseVenue
from gapless.venues.coinbase.auth import JwtSigner
from gapless.venues.registry import create_venue

from ..contract import best, make_order, passive_buy_price, qty_for
from ..hostile import HostileProxy
from ..test_coinbase_contract import SYMBOL, coinbase_config, start_sim

CREATE_MATCH = "brokerage/orders"  # also matches order reads: holds are lifted before those


def _claims(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))


def _with_recv_window(config: Any, value: str) -> Any:
    return msgspec.structs.replace(config, options={**config.options, "recv_window": value})


@pytest.mark.parametrize("value", ["abc", "", "0", "-5", "1e3", "5000.5", "120001", "99999999"])
def test_bad_recv_window_is_a_config_error_naming_the_option(value: str) -> None:
    config = _with_recv_window(coinbase_config(_FakeSim()), value)
    with pytest.raises(ConfigError, match="recv_window"):
        create_venue(config)


@pytest.mark.parametrize(("option", "value"), [("book_depth", "x"), ("book_depth", "0"),
                                               ("list_limit", "-1"), ("list_limit", "1001")])
def test_other_bad_numeric_options_are_config_errors(option: str, value: str) -> None:
    config = coinbase_config(_FakeSim())
    config = msgspec.structs.replace(config, options={**config.options, option: value})
    with pytest.raises(ConfigError, match=option):
        create_venue(config)


@pytest.mark.parametrize(("value", "seconds"), [(None, 5.0), ("1000", 1.0), ("120000", 120.0),
                                                ("2500", 3.0), ("1", 1.0)])
def test_request_validity_is_the_signed_lifetime(value: str | None, seconds: float) -> None:
    config = coinbase_config(_FakeSim())
    if value is not None:
        config = _with_recv_window(config, value)
    venue = create_venue(config)
    assert venue.request_validity() == seconds
    assert isinstance(venue, CoinbaseVenue)
    signer = venue._signer
    assert isinstance(signer, JwtSigner)
    claims = _claims(signer.token("GET h/p"))
    assert claims["exp"] - claims["nbf"] == seconds  # what it promises is what it signs


def test_signer_lifetime_bounds() -> None:
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption()).decode()
    now = 1_700_000_000.9
    signer = JwtSigner("organizations/o/apiKeys/k", pem, now=lambda: now, lifetime=7)
    claims = _claims(signer.token("GET h/p"))
    assert claims["nbf"] == 1_700_000_000 and claims["exp"] == 1_700_000_007
    for bad in (0, -1, 121):
        with pytest.raises(ConfigError):
            JwtSigner("organizations/o/apiKeys/k", pem, now=lambda: now, lifetime=bad)


class _FakeSim:
    """Enough of a simulator for building (not starting) an adapter."""

    def __init__(self) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        self.secret = key.private_bytes(serialization.Encoding.PEM,
                                        serialization.PrivateFormat.TraditionalOpenSSL,
                                        serialization.NoEncryption()).decode()
        self.api_key = "organizations/o/apiKeys/k"
        self.host, self.port = "127.0.0.1", 9
        self.rest_url = f"http://{self.host}:{self.port}"
        self.ws_url = f"ws://{self.host}:{self.port}/ws"


@contextlib.asynccontextmanager
async def held_venue(seed: int, recv_window: str, *,
                     skew_ms: int = 0) -> AsyncIterator[tuple[Any, HostileProxy, Venue]]:
    """An adapter (0.3 s request timeout) behind a ``HostileProxy`` on a fresh simulator
    whose clock runs ``skew_ms`` off ours."""
    sim = await start_sim(seed)
    sim.faults.clock_skew_ms = skew_ms
    proxy = await HostileProxy(sim.rest_url).start()
    venue = create_venue(_with_recv_window(coinbase_config(sim, rest_url=proxy.url, timeout=0.3),
                                           recv_window))
    try:
        await venue.start()
        yield sim, proxy, venue
    finally:
        await venue.close()
        await proxy.stop()
        await sim.stop()


async def _send_held(proxy: HostileProxy, venue: Venue, hold_s: float) -> tuple[str, int, bytes]:
    """Place a passive buy whose create is held ``hold_s`` in transit (the client times out
    first); return its client id and the venue's answer to the late request."""
    inst = venue.instrument(SYMBOL)
    bid, _ = await best(venue, SYMBOL)
    price = passive_buy_price(inst, bid)
    o = make_order(venue, SYMBOL, Side.BUY, qty_for(inst, price), price)
    proxy.hold(hold_s, match=CREATE_MATCH)
    with pytest.raises(RequestTimeout):
        await venue.place_order(o)
    await proxy.wait_delivered(1)
    assert proxy.held == 1
    _, status, body = proxy.delivered[0]
    proxy.hold(0.0)
    return o.client_order_id, status, body


def _sim_has(sim: Any, cid: str) -> bool:
    try:
        sim.exchange.find_order(Exchange.TEST_ACCOUNT, None, client_id=cid)
    except UnknownOrder:
        return False
    return True


async def test_create_held_past_the_bound_is_refused_on_arrival() -> None:
    async with held_venue(31, "1000") as (sim, proxy, venue):
        assert venue.request_validity() == 1.0
        cid, status, body = await _send_held(proxy, venue, 2.5)
        assert status == 401 and body == b"Unauthorized"  # the venue's documented refusal
        assert not _sim_has(sim, cid)
        with pytest.raises(OrderNotFound):
            await venue.query_order(SYMBOL, cid)


async def test_create_held_within_the_bound_lands_and_is_found() -> None:
    async with held_venue(32, "5000") as (sim, proxy, venue):
        cid, status, body = await _send_held(proxy, venue, 1.0)
        assert status == 200 and json.loads(body)["success"] is True
        assert _sim_has(sim, cid)
        found = await venue.query_order(SYMBOL, cid)
        assert found.state is OrderState.ACCEPTED and found.client_order_id == cid


async def test_the_bound_is_judged_on_the_venues_clock() -> None:
    """The venue's clock runs 3 s behind ours: too little for a 401 (``nbf`` has leeway), so
    only the offset measured at start keeps ``exp`` at venue-now + 1 s. Signed on our clock
    alone, the late create would still be inside its token's life and land."""
    async with held_venue(33, "1000", skew_ms=-3000) as (sim, proxy, venue):
        cid, status, _ = await _send_held(proxy, venue, 2.5)
        assert status == 401
        assert not _sim_has(sim, cid)
