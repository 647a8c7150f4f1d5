"""The bridge declares what it can do, per exchange: the profile's client-id rule (every id
it derives fits it) and streams where ccxt.pro watches them."""

from __future__ import annotations

import re

import pytest

from gapless.model import OrderType, TimeInForce
from gapless.venues.base import VenueConfig
from gapless.venues.registry import create_venue


@pytest.mark.parametrize("exchange", ["binance", "okx", "kraken", "coinbase", "bybit", "bitstamp"])
def test_declared_client_id_rule_holds_for_every_derived_id(exchange: str) -> None:
    venue = create_venue(VenueConfig(name=exchange, driver="ccxt", rest_url="http://127.0.0.1:9",
                                     options={"exchange": exchange}))
    caps = venue.capabilities
    assert caps.order_types == frozenset(OrderType)
    assert caps.time_in_force == frozenset(TimeInForce)
    rule = re.compile(caps.client_id.pattern)
    for intent in ("a", "intent-1", "x" * 200, "ünïcode-☃", "readme-0123abcd"):
        cid = venue.client_order_id(intent)
        assert rule.fullmatch(cid) and len(cid) <= caps.client_id.max_length, (exchange, cid)
    assert caps.book_stream and caps.private_stream  # ccxt.pro watches both for these
