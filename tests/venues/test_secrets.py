"""Secrets never show up in reprs or in the errors a bad key produces, for every native venue."""

from __future__ import annotations

import pytest

from gapless.model.errors import AuthError, GaplessError
from gapless.sim.cluster import start_venue_sim
from gapless.venues.base import Credentials, VenueConfig
from gapless.venues.registry import NATIVE_VENUES, create_venue


@pytest.mark.parametrize("name", NATIVE_VENUES)
async def test_wrong_secret_is_an_auth_error_that_does_not_leak(name: str) -> None:
    sim = await start_venue_sim(name, host="127.0.0.1", port=0, seed=1, tick_interval=0)
    try:
        # a syntactically valid but wrong secret of the venue's own kind
        wrong = sim.secret[:-6] + ("AAAAAA" if sim.secret[-6:] != "AAAAAA" else "BBBBBB")
        if "PRIVATE KEY" in sim.secret:  # key-pair venues: another valid key
            from cryptography.hazmat.primitives import serialization
            from cryptography.hazmat.primitives.asymmetric import ec

            wrong = ec.generate_private_key(ec.SECP256R1()).private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption()).decode()
        creds = Credentials(api_key=sim.api_key, secret=wrong, passphrase=sim.passphrase)
        config = VenueConfig(name=name, driver=name, rest_url=sim.rest_url, ws_url=sim.ws_url,
                             credentials=creds, request_timeout=3.0)
        assert wrong not in repr(config) and (not sim.passphrase or sim.passphrase not in repr(config))
        venue = create_venue(config)
        try:
            await venue.start()
            with pytest.raises(GaplessError) as info:
                await venue.balances()
        finally:
            await venue.close()
        assert isinstance(info.value, AuthError)
        text = f"{info.value!s} {info.value!r} {info.value.message}"
        assert wrong not in text and sim.secret not in text
        if sim.passphrase:
            assert sim.passphrase not in text
    finally:
        await sim.stop()
