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
from gapless.model.schema import decode_intent, parse_decimal, parse_intent

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


# -- strict numbers (issue 7, defect 7): a typo never becomes a different order ----------
ABSURD = ["1e30", "1E+999999", "12345678901234567890123456789", "NaN", "-NaN", "Infinity",
          "-inf", "sNaN", "-0", "-0.000", "0.0_1", "1_000", " 1", "1 ", "1\n", "\u0661",
          "\uff11", "1e-2", "0x10", "", ".", "-", "1.2.3", "+1", "0", "-5",
          "0.0000000000000000001", "1" * 65]


@pytest.mark.parametrize("text", ABSURD)
def test_absurd_number_text_is_refused_with_a_message(text: str) -> None:
    with pytest.raises(InvalidIntent, match="qty"):
        parse_decimal(text, "qty")


@pytest.mark.parametrize(("text", "value"), [("0.01", "0.01"), ("5.", "5"), (".5", "0.5"),
                                              ("123456789012345678.1234567890", None)])
def test_plain_numbers_parse_exactly(text: str, value: str | None) -> None:
    assert parse_decimal(text, "qty") == Decimal(value or text)


@pytest.mark.parametrize(
    "value",
    [Decimal("1E+30"), Decimal("1E+999999"), Decimal("12345678901234567890123456789"),
     Decimal("-0"), Decimal("Infinity"), Decimal("sNaN"), Decimal("1E-19"), 0.1, 1, "1"],
)
def test_python_callers_get_the_same_refusals(value: object) -> None:
    """The Struct takes anything from Python code; check() is the gate before arithmetic."""
    intent = OrderIntent(intent_id="a", venue="v", symbol="BTC/USDT", side=Side.BUY,
                         type=OrderType.LIMIT, qty=value, price=Decimal(1))  # type: ignore[arg-type]
    with pytest.raises(InvalidIntent, match="qty"):
        intent.check()
    priced = OrderIntent(intent_id="a", venue="v", symbol="BTC/USDT", side=Side.BUY,
                         type=OrderType.LIMIT, qty=Decimal(1), price=value)  # type: ignore[arg-type]
    with pytest.raises(InvalidIntent, match="price"):
        priced.check()


@pytest.mark.parametrize(
    ("qty", "price"),
    [("1E+30", "100"), ("12345678901234567890123456789", "100"), ("1", "1E+999999"),
     ("1E-999999", "100"), ("NaN", "100"), ("1", "-0")],
)
def test_filters_refuse_absurd_values_instead_of_crashing(qty: str, price: str) -> None:
    """`1e30 % step` raised decimal.InvalidOperation from validate(); now a FilterViolation."""
    with pytest.raises(FilterViolation):
        BTC.validate(Decimal(qty), Decimal(price))


def test_filters_on_a_large_but_sane_order_are_exact() -> None:
    fine = Instrument(venue="sim", symbol="SHIB/USDT", venue_symbol="SHIBUSDT", base="SHIB",
                      quote="USDT", tick_size=Decimal("1E-8"), step_size=Decimal("1E-18"))
    fine.validate(Decimal("12345678901.00000000000000001"), Decimal("0.00000812"))  # % raises
    with pytest.raises(FilterViolation, match="multiple"):
        fine.validate(Decimal("12345678901.00000000000000001"), Decimal("0.000000000000000002"))


@pytest.mark.parametrize(
    ("field", "value"),
    [("intent_id", ""), ("intent_id", " a"), ("intent_id", "a\n"), ("intent_id", "x" * 65),
     ("venue", ""), ("client_order_id", ""), ("symbol", "\uff22TC/USDT"), ("side", "buy"),
     ("type", "limit"), ("tif", "gtc")],
)
def test_identifiers_and_enums_are_checked(field: str, value: object) -> None:
    base: dict[str, object] = dict(intent_id="a", venue="v", symbol="BTC/USDT", side=Side.BUY,
                                   type=OrderType.LIMIT, qty=Decimal(1), price=Decimal(1))
    base[field] = value
    with pytest.raises(InvalidIntent, match=field):
        OrderIntent(**base).check()  # type: ignore[arg-type]


def test_parse_intent_from_text() -> None:
    intent = parse_intent(intent_id="i-1", venue="binance", symbol="btc/usdt", side="BUY",
                          order_type="Limit", qty="0.01", price="50000", tif="ioc")
    assert (intent.symbol, intent.side, intent.type, intent.tif) == (
        "BTC/USDT", Side.BUY, OrderType.LIMIT, TimeInForce.IOC)
    assert intent.qty == Decimal("0.01") and intent.price == Decimal("50000")
    with pytest.raises(InvalidIntent, match="side must be one of buy, sell, got 'up'"):
        parse_intent(intent_id="i-1", venue="binance", symbol="BTC/USDT", side="up",
                     order_type="limit", qty="1", price="1", tif="gtc")


def test_decode_intent_is_as_strict_as_the_cli() -> None:
    good = (b'{"intent_id":"x","venue":"v","symbol":"BTC/USDT","side":"buy","type":"limit",'
            b'"qty":0.00000001,"price":"50000.10"}')
    intent = decode_intent(good)
    assert intent.qty == Decimal("0.00000001") and intent.price == Decimal("50000.10")
    for bad in (good.replace(b'"50000.10"', b'"5_0000.10"'), good.replace(b"0.00000001", b"1e30"),
                good.replace(b"0.00000001", b"true"), b"[1]", b"\xff", b'{"intent_id":1}',
                good.replace(b'"side"', b'"sid"')):
        with pytest.raises(InvalidIntent):
            decode_intent(bad)
