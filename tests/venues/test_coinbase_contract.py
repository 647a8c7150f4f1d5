"""Coinbase adapter against the Coinbase simulator: the shared contract plus Ed25519 keys,
clock skew, a ``sequence_num`` gap and the JWT test vectors (venues.md §1: none is
deterministic, so keys are generated here, tokens signed and verified with the public key)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from gapless.model import OrderState, Side, TimeInForce
from gapless.model.errors import ConfigError
from gapless.sim.cluster import start_venue_sim
from gapless.venues.base import Credentials, VenueConfig
from gapless.venues.coinbase.auth import JwtSigner
from gapless.venues.registry import create_venue

from .contract import VenueContract, VenueHarness, best, make_order, passive_buy_price, qty_for
from .harness import sim_harness, venue_on_sim

SYMBOL = "BTC/USD"


def coinbase_config(sim: Any, *, rest_url: str | None = None, timeout: float = 5.0,
                    ed25519: bool = False) -> VenueConfig:
    creds = (
        Credentials(api_key=sim.ed25519_api_key, secret=sim.ed25519_private_key_pem)
        if ed25519
        else Credentials(api_key=sim.api_key, secret=sim.secret)
    )
    return VenueConfig(
        name="coinbase",
        driver="coinbase",
        rest_url=rest_url or sim.rest_url,
        ws_url=sim.ws_url,
        credentials=creds,
        request_timeout=timeout,
        # tokens name the venue host; behind the hostile proxy that is still the simulator
        options={"jwt_host": f"{sim.host}:{sim.port}"},
    )


async def start_sim(seed: int) -> Any:
    return await start_venue_sim("coinbase", host="127.0.0.1", port=0, seed=seed,
                                 tick_interval=0.2)


class TestCoinbaseContract(VenueContract):
    @pytest.fixture
    async def harness(self) -> AsyncIterator[VenueHarness]:
        async with sim_harness(lambda: start_sim(1), coinbase_config, symbol=SYMBOL) as h:
            yield h


async def test_ed25519_keys_trade() -> None:
    sim = await start_sim(2)
    async with venue_on_sim(sim, coinbase_config(sim, ed25519=True)) as venue:
        inst = venue.instrument(SYMBOL)
        bid, _ = await best(venue, SYMBOL)
        price = passive_buy_price(inst, bid)
        o = make_order(venue, SYMBOL, Side.BUY, qty_for(inst, price), price)
        assert (await venue.place_order(o)).state is OrderState.ACCEPTED
        assert (await venue.cancel_order(SYMBOL, o.client_order_id)).state is OrderState.CANCELED
        assert "USD" in await venue.balances()


@pytest.mark.parametrize("skew_ms", [200_000, -200_000])
async def test_clock_skew_is_resynced_and_resigned(skew_ms: int) -> None:
    """An expired/not-yet-valid JWT is a 401 (nothing ran): re-sync the clock, re-sign once."""
    sim = await start_sim(3)
    async with venue_on_sim(sim, coinbase_config(sim)) as venue:
        sim.faults.clock_skew_ms = skew_ms
        inst = venue.instrument(SYMBOL)
        bid, _ = await best(venue, SYMBOL)
        price = passive_buy_price(inst, bid)
        o = make_order(venue, SYMBOL, Side.BUY, qty_for(inst, price), price)
        assert (await venue.place_order(o)).state is OrderState.ACCEPTED
        assert (await venue.query_order(SYMBOL, o.client_order_id)).state is OrderState.ACCEPTED


async def test_fok_and_post_only_resting() -> None:
    sim = await start_sim(4)
    async with venue_on_sim(sim, coinbase_config(sim)) as venue:
        inst = venue.instrument(SYMBOL)
        bid, ask = await best(venue, SYMBOL)
        price = passive_buy_price(inst, bid)
        fok = make_order(venue, SYMBOL, Side.BUY, qty_for(inst, price), price, tif=TimeInForce.FOK)
        rep = await venue.place_order(fok)
        assert rep.state is OrderState.CANCELED and rep.filled_qty == 0
        po = make_order(venue, SYMBOL, Side.BUY, qty_for(inst, price), price,
                        tif=TimeInForce.POST_ONLY)
        assert (await venue.place_order(po)).state is OrderState.ACCEPTED
        fok2 = make_order(venue, SYMBOL, Side.BUY, qty_for(inst, ask), inst.round_price(
            ask * 2, Side.BUY), tif=TimeInForce.FOK)
        rep2 = await venue.place_order(fok2)
        assert rep2.state is OrderState.FILLED and rep2.fills


async def test_sequence_gap_resubscribes_for_a_fresh_snapshot() -> None:
    sim = await start_sim(5)
    async with venue_on_sim(sim, coinbase_config(sim)) as venue:
        stream = venue.watch_book(SYMBOL)
        first = await asyncio.wait_for(anext(stream), 10)
        async with aiohttp.ClientSession() as s, s.post(
                f"{sim.rest_url}/__sim/coinbase/ws_sequence_gap") as r:
            assert r.status == 200
        for _ in range(30):
            snap = await asyncio.wait_for(anext(stream), 10)
            if snap.sequence < first.sequence + 3:
                continue
            rest = await venue.order_book(SYMBOL, 5)
            if snap.bids[0] == rest.bids[0] and snap.asks[0] == rest.asks[0]:
                break
        else:
            pytest.fail("book did not re-converge after a sequence gap")
        with contextlib.suppress(Exception):
            await stream.aclose()  # type: ignore[attr-defined]


async def test_unauthenticated_user_channel_is_refused() -> None:
    sim = await start_sim(6)
    try:
        async with aiohttp.ClientSession() as s, s.ws_connect(sim.ws_url) as ws:
            await ws.send_json({"type": "subscribe", "channel": "user", "product_ids": []})
            msg = json.loads((await ws.receive(timeout=5)).data)
            assert msg["type"] == "error"
    finally:
        await sim.stop()


# -- JWT vectors: generate keys, sign, verify with the public key, check the claims ----------
def _b64d(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def _decode(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    h, c, sig = token.split(".")
    return json.loads(_b64d(h)), json.loads(_b64d(c)), f"{h}.{c}".encode(), _b64d(sig)


def _check_claims(header: dict[str, Any], claims: dict[str, Any], name: str, now: float,
                  uri: str | None) -> None:
    assert header["kid"] == name and header["typ"] == "JWT"
    assert len(header["nonce"]) == 64 and int(header["nonce"], 16) >= 0
    assert claims["sub"] == name and claims["iss"] == "cdp"
    assert claims["nbf"] == int(now) and claims["exp"] == claims["nbf"] + 120
    if uri is None:
        assert "uri" not in claims
    else:
        assert claims["uri"] == uri


def test_es256_jwt_signs_and_verifies() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM,
                            serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption()).decode()
    name = "organizations/org-1/apiKeys/key-1"
    now = 1_700_000_000.5
    signer = JwtSigner(name, pem, now=lambda: now)
    hdr = signer.bearer("GET", "api.coinbase.com", "/api/v3/brokerage/accounts")
    token = hdr["Authorization"].removeprefix("Bearer ")
    header, claims, signed, sig = _decode(token)
    assert header["alg"] == "ES256" and len(sig) == 64
    _check_claims(header, claims, name, now, "GET api.coinbase.com/api/v3/brokerage/accounts")
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    key.public_key().verify(der, signed, ec.ECDSA(hashes.SHA256()))  # raises if wrong
    # ECDSA is randomized, and the nonce too: two tokens for the same request differ
    assert signer.token("GET x/y") != signer.token("GET x/y")


@pytest.mark.parametrize("form", ["pem", "b64_64", "b64_32"])
def test_ed25519_jwt_signs_and_verifies(form: str) -> None:
    key = Ed25519PrivateKey.generate()
    seed = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                             serialization.NoEncryption())
    pub = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    secret = {
        "pem": key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()).decode(),
        "b64_64": base64.b64encode(seed + pub).decode(),
        "b64_32": base64.b64encode(seed).decode(),
    }[form]
    name = "organizations/org-2/apiKeys/key-2"
    now = time.time()
    signer = JwtSigner(name, secret, now=lambda: now)
    header, claims, signed, sig = _decode(signer.token(None))  # a WebSocket token: no uri
    assert header["alg"] == "EdDSA"
    _check_claims(header, claims, name, now, None)
    key.public_key().verify(sig, signed)


def test_bad_key_material_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        JwtSigner("organizations/o/apiKeys/k", "not a key", now=time.time)
    p384 = ec.generate_private_key(ec.SECP384R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption()).decode()
    with pytest.raises(ConfigError):
        JwtSigner("organizations/o/apiKeys/k", p384, now=time.time)


async def test_lists_follow_the_cursor_across_pages() -> None:
    """With one item per page, open orders, lookups by client id and fills still see
    everything: the cursor paging is followed to the end."""
    sim = await start_sim(5)
    base = coinbase_config(sim)
    config = VenueConfig(name=base.name, driver=base.driver, rest_url=base.rest_url,
                         ws_url=base.ws_url, credentials=base.credentials,
                         request_timeout=base.request_timeout,
                         options={**base.options, "list_limit": "1"})
    async with venue_on_sim(sim, config) as venue:
        inst = venue.instrument(SYMBOL)
        bid, ask = await best(venue, SYMBOL)
        price = passive_buy_price(inst, bid)
        resting = [make_order(venue, SYMBOL, Side.BUY, qty_for(inst, price), price)
                   for _ in range(3)]
        for o in resting:
            await venue.place_order(o)
        listed = {r.client_order_id for r in await venue.open_orders(SYMBOL)}
        assert {o.client_order_id for o in resting} <= listed
        fresh = VenueConfig(name=config.name, driver=config.driver, rest_url=config.rest_url,
                            ws_url=config.ws_url, credentials=config.credentials,
                            options=config.options)
        other = create_venue(fresh)  # knows no ids: finds the first order by paging
        await other.start()
        try:
            found = await other.query_order(SYMBOL, resting[0].client_order_id)
            assert found.state is OrderState.ACCEPTED
        finally:
            await other.close()
        taker = make_order(venue, SYMBOL, Side.BUY, qty_for(inst, ask))
        rep = await venue.place_order(taker)
        assert rep.fills
        trades = await venue.my_trades(SYMBOL)
        assert {f.trade_id for f in rep.fills} <= {f.trade_id for f in trades}
