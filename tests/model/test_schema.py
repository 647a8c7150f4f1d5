from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest

from gapless.model import Instrument, OrderIntent, OrderType, Side, TimeInForce
from gapless.model.errors import (
    FilterViolation,
    InvalidIntent,
    Outcome,
    RateLimited,
    RequestTimeout,
)

BTC = Instrument(
    venue="sim",
    symbol="BTC/USDT",
    venue_symbol="BTCUSDT",
    base="BTC",
    quote="USDT",
    tick_size=Decimal("0.01"),
    step_size=Decimal("0.00001"),
    min_qty=Decimal("0.00001"),
    min_notional=Decimal("5"),
)


def test_rounding_never_worse_for_the_trader() -> None:
    assert BTC.round_price(Decimal("100.019"), Side.BUY) == Decimal("100.01")
    assert BTC.round_price(Decimal("100.011"), Side.SELL) == Decimal("100.02")
    assert BTC.round_qty(Decimal("0.123456789")) == Decimal("0.12345")


@pytest.mark.parametrize(
    ("qty", "price"),
    [("0.000001", "100"), ("0.000015", "100"), ("0.01", "100.001"), ("0.00001", "100"), ("0", "1")],
)
def test_filters(qty: str, price: str) -> None:
    with pytest.raises(FilterViolation):
        BTC.validate(Decimal(qty), Decimal(price))


def test_valid_order_passes_filters() -> None:
    BTC.validate(Decimal("0.001"), Decimal("50000.00"))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"qty": Decimal("-1"), "price": Decimal("1")},
        {"qty": Decimal("NaN"), "price": Decimal("1")},
        {"qty": Decimal("1"), "price": None},
        {"qty": Decimal("1"), "price": Decimal("1"), "symbol": "BTCUSDT"},
        {"qty": Decimal("1"), "price": Decimal("1"), "intent_id": ""},
    ],
)
def test_malformed_intents_raise(kwargs: dict[str, object]) -> None:
    base: dict[str, object] = dict(intent_id="a", venue="v", symbol="BTC/USDT", side=Side.BUY, type=OrderType.LIMIT)
    base.update(kwargs)
    with pytest.raises(InvalidIntent):
        OrderIntent(**base).check()  # type: ignore[arg-type]


def test_market_with_price_rejected() -> None:
    with pytest.raises(InvalidIntent):
        OrderIntent(
            intent_id="a", venue="v", symbol="BTC/USDT", side=Side.BUY, type=OrderType.MARKET,
            qty=Decimal(1), price=Decimal(1), tif=TimeInForce.IOC,
        ).check()


def test_intent_decodes_decimals_exactly_from_json() -> None:
    raw = b'{"intent_id":"x","venue":"v","symbol":"BTC/USDT","side":"buy","type":"limit","qty":"0.1","price":"50000.10"}'
    intent = msgspec.json.decode(raw, type=OrderIntent)
    assert intent.price == Decimal("50000.10") and intent.qty == Decimal("0.1")


def test_bad_json_intent_is_typed_error() -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(b'{"intent_id":"x","side":"up"}', type=OrderIntent)


def test_errors_say_their_outcome() -> None:
    assert RequestTimeout("t").outcome is Outcome.UNKNOWN
    e = RateLimited("slow down", retry_after=2.0, banned=True)
    assert e.outcome is Outcome.RETRYABLE and e.retry_after == 2.0 and e.banned
