from __future__ import annotations

import pytest

from gapless.model.errors import ConfigError
from gapless.venues.base import Credentials, VenueConfig
from gapless.venues.binance.adapter import BinanceVenue, binance_client_order_id
from gapless.venues.registry import create_venue


def test_binance_driver() -> None:
    cfg = VenueConfig(name="bn", driver="binance", rest_url="http://127.0.0.1:1",
                      credentials=Credentials(api_key="k", secret="s"))
    v = create_venue(cfg)
    assert isinstance(v, BinanceVenue) and v.name == "bn"


def test_unknown_driver() -> None:
    with pytest.raises(ConfigError):
        create_venue(VenueConfig(name="x", driver="nope", rest_url="http://127.0.0.1:1"))


@pytest.mark.parametrize("intent", [
    "abc", "A-b_c", "x" * 36, "x" * 37, "intent with spaces", "ümlaut", "a/b", "a.b", "",
])
def test_client_order_id_deterministic_and_valid(intent: str) -> None:
    import re

    cid = binance_client_order_id(intent)
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,36}", cid)
    assert cid == binance_client_order_id(intent)
    if re.fullmatch(r"[A-Za-z0-9_-]{1,36}", intent):
        assert cid == intent


def test_client_order_ids_differ() -> None:
    ids = {binance_client_order_id(f"intent/{i}") for i in range(2000)}
    assert len(ids) == 2000
