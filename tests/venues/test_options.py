"""Typed venue options and declared capabilities, at adapter construction (nothing sent)."""

from __future__ import annotations

import msgspec
import pytest

from gapless.model import OrderType, TimeInForce
from gapless.model.errors import ConfigError
from gapless.venues.base import DEFAULT_CAPABILITIES, Capabilities, VenueConfig
from gapless.venues.binance.options import BinanceOptions
from gapless.venues.bybit.options import BybitOptions
from gapless.venues.coinbase.options import CoinbaseOptions
from gapless.venues.common.options import VenueOptions, bool_option, float_option
from gapless.venues.kraken.adapter import valid_cl_ord_id
from gapless.venues.kraken.options import KrakenOptions
from gapless.venues.okx.options import OkxOptions
from gapless.venues.registry import NATIVE_VENUES, create_venue

OPTION_TYPES: dict[str, type[VenueOptions]] = {
    "binance": BinanceOptions, "bybit": BybitOptions, "okx": OkxOptions,
    "coinbase": CoinbaseOptions, "kraken": KrakenOptions,
}


def config(driver: str, options: dict[str, str] | None = None) -> VenueConfig:
    return VenueConfig(name=f"my-{driver}", driver=driver, rest_url="http://127.0.0.1:9",
                       ws_url="ws://127.0.0.1:9", options=options or {})


def test_every_native_venue_declares_typed_options() -> None:
    assert set(OPTION_TYPES) == set(NATIVE_VENUES)


@pytest.mark.parametrize("driver", sorted(OPTION_TYPES))
def test_an_unknown_option_is_refused_when_the_adapter_is_built(driver: str) -> None:
    with pytest.raises(ConfigError) as ei:
        create_venue(config(driver, {"recv_windw": "5000"}))
    msg = str(ei.value)
    assert "recv_windw" in msg and f"my-{driver}" in msg and driver in msg
    assert ei.value.venue == f"my-{driver}"
    for known in OPTION_TYPES[driver].known():
        assert known in msg  # the message lists what would have been right


@pytest.mark.parametrize("driver", sorted(OPTION_TYPES))
def test_defaults_are_the_adapters_and_the_struct_is_what_it_reads(driver: str) -> None:
    venue = create_venue(config(driver))
    parsed = OPTION_TYPES[driver].parse({})
    assert venue.options == parsed  # type: ignore[attr-defined]
    assert parsed == OPTION_TYPES[driver]()  # the struct's defaults are the parse defaults
    assert venue.book_depth == parsed.book_depth  # type: ignore[attr-defined]


def test_values_are_converted_in_the_struct() -> None:
    b = BinanceOptions.parse({"recv_window": "1500", "book_depth": " 40 ",
                              "listen_key_keepalive_s": "600.5"})
    assert (b.recv_window, b.book_depth, b.listen_key_keepalive_s) == (1500, 40, 600.5)
    assert OkxOptions.parse({"demo": "Yes"}).demo is True
    assert OkxOptions.parse({"demo": "off"}).demo is False
    k = KrakenOptions.parse({"tier": "Pro", "trade_counter_max": "200"})
    assert k.tier == "pro" and k.counters().trade_max == 200 and k.counters().rest_decay == 1.0
    c = CoinbaseOptions.parse({"recv_window": "2500", "jwt_host": "127.0.0.1:7"})
    assert c.recv_window == 2500 and c.jwt_host == "127.0.0.1:7" and c.user_ws_url == ""


@pytest.mark.parametrize(
    ("driver", "options", "needle"),
    [("binance", {"book_depth": "0"}, "book_depth"),
     ("binance", {"book_depth": "5001"}, "book_depth"),
     ("binance", {"listen_key_keepalive_s": "0"}, "listen_key_keepalive_s"),
     ("binance", {"listen_key_keepalive_s": "inf"}, "listen_key_keepalive_s"),
     ("bybit", {"book_depth": "-1"}, "book_depth"),
     ("okx", {"demo": "maybe"}, "demo"),
     ("okx", {"recv_window": "30001"}, "recv_window"),
     ("coinbase", {"jwt_host": "http://h/x"}, "jwt_host"),
     ("coinbase", {"user_ws_url": "http://h"}, "user_ws_url"),
     ("kraken", {"book_depth": "11"}, "book_depth"),
     ("kraken", {"tier": "gold"}, "tier"),
     ("kraken", {"rest_counter_decay": "-1"}, "rest_counter_decay")],
)
def test_bad_values_name_the_option(driver: str, options: dict[str, str], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        create_venue(config(driver, options))


def test_switch_and_number_helpers() -> None:
    with pytest.raises(ConfigError, match="flag"):
        bool_option({"flag": "2"}, "flag", False, family="x")
    assert bool_option({}, "flag", True, family="x") is True
    with pytest.raises(ConfigError, match="period"):
        float_option({"period": "1" * 40}, "period", 1.0, low=0, high=10, family="x")
    assert float_option({"period": "10"}, "period", 1.0, low=0, high=10, family="x") == 10.0


def test_option_structs_refuse_unknown_fields_when_decoded_too() -> None:
    with pytest.raises(msgspec.ValidationError, match="book_dpeth"):
        msgspec.convert({"book_dpeth": 5}, BinanceOptions)


# -- capabilities -------------------------------------------------------------------------
@pytest.mark.parametrize("driver", sorted(OPTION_TYPES))
def test_each_native_adapter_declares_its_capabilities(driver: str) -> None:
    caps = create_venue(config(driver)).capabilities
    assert isinstance(caps, Capabilities) and caps is not DEFAULT_CAPABILITIES
    assert caps.order_types == {OrderType.LIMIT, OrderType.MARKET}
    assert {TimeInForce.GTC, TimeInForce.IOC, TimeInForce.POST_ONLY} <= caps.time_in_force
    # none of these is implemented by any native adapter yet: declaring one would be a lie
    assert not (caps.batch_orders or caps.ws_order_entry or caps.amend)
    assert caps.book_stream and caps.private_stream


def test_kraken_declares_no_fill_or_kill_and_its_id_rule_matches_its_check() -> None:
    caps = create_venue(config("kraken")).capabilities
    assert TimeInForce.FOK not in caps.time_in_force
    samples = ["a" * 18, "a" * 19, "0" * 32, "0" * 31, "g" * 32, "x y", "é",
               "123e4567-e89b-12d3-a456-426614174000", "123e4567e89b12d3a456426614174000"]
    for cid in samples:
        assert caps.client_id.accepts(cid) == valid_cl_ord_id(cid), cid


@pytest.mark.parametrize(("driver", "good", "bad"), [
    ("binance", "A-z_9" * 7 + "x", "a" * 37), ("bybit", "abc-DEF_1", "a.b"),
    ("okx", "a" * 32, "a_b"), ("coinbase", "123e4567-e89b-12d3-a456-426614174000", "abc"),
])
def test_client_id_rules(driver: str, good: str, bad: str) -> None:
    rule = create_venue(config(driver)).capabilities.client_id
    assert rule.accepts(good) and not rule.accepts(bad)
