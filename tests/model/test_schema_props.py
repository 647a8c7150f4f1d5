"""Property tests: any text given as an intent yields a checked intent or ``InvalidIntent``.

Never another exception (``decimal.InvalidOperation`` used to escape for ``1e30``), and a
value that passes is one the venue filters can judge without raising anything else.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gapless.model import Instrument, OrderIntent
from gapless.model.errors import FilterViolation, InvalidIntent
from gapless.model.schema import decode_intent, parse_decimal, parse_intent

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

BTC = Instrument(venue="sim", symbol="BTC/USDT", venue_symbol="BTCUSDT", base="BTC", quote="USDT",
                 tick_size=Decimal("0.01"), step_size=Decimal("0.00001"),
                 min_qty=Decimal("0.00001"), min_notional=Decimal("5"))

# text that looks like numbers, and text that does not
number_text = st.one_of(
    st.text(max_size=40),
    st.from_regex(r"-?[0-9]{0,40}(\.[0-9]{0,40})?([eE][+-]?[0-9]{1,7})?", fullmatch=True),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["1e30", "1E+999999", "NaN", "-0", "0.0_1", " 1", "\u0661", "sNaN", "+1"]),
)
field_text = st.one_of(st.text(max_size=70), st.sampled_from(
    ["buy", "SELL", "limit", "market", "gtc", "ioc", "fok", "post_only", "BTC/USDT", "a"]))


def _judge(intent: OrderIntent) -> None:
    """A valid intent reaches the filters, which answer it or refuse it, nothing else."""
    intent.check()
    try:
        BTC.validate(intent.qty, intent.price)
    except FilterViolation:
        pass


@SETTINGS
@given(text=number_text)
def test_parse_decimal_is_total(text: str) -> None:
    try:
        value = parse_decimal(text, "qty")
    except InvalidIntent as exc:
        assert "qty" in str(exc)
        return
    assert value.is_finite() and value > 0 and value == Decimal(text)
    assert "_" not in text and text.strip() == text and "e" not in text.lower()


@SETTINGS
@given(intent_id=field_text, venue=field_text, symbol=field_text, side=field_text,
       order_type=field_text, qty=number_text, price=st.none() | number_text, tif=field_text,
       client_order_id=st.none() | field_text)
def test_parse_intent_is_total(intent_id: str, venue: str, symbol: str, side: str,
                               order_type: str, qty: str, price: str | None, tif: str,
                               client_order_id: str | None) -> None:
    try:
        intent = parse_intent(intent_id=intent_id, venue=venue, symbol=symbol, side=side,
                              order_type=order_type, qty=qty, price=price, tif=tif,
                              client_order_id=client_order_id)
    except InvalidIntent:
        return
    _judge(intent)


json_scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), number_text,
                        field_text)
json_value = st.recursive(json_scalar, lambda c: st.lists(c, max_size=3)
                          | st.dictionaries(st.text(max_size=5), c, max_size=3), max_leaves=6)
intent_like = st.fixed_dictionaries(
    {"intent_id": json_value, "venue": json_value, "symbol": json_value, "side": json_value,
     "qty": json_value},
    optional={"type": json_value, "price": json_value, "tif": json_value,
              "client_order_id": json_value, "extra": json_value},
)


@SETTINGS
@given(doc=intent_like | json_value)
def test_decode_intent_is_total(doc: object) -> None:
    try:
        raw = msgspec.json.encode(doc)
    except (OverflowError, TypeError, ValueError):  # e.g. a float nan: not JSON at all
        return
    try:
        intent = decode_intent(raw)
    except InvalidIntent:
        return
    _judge(intent)


@SETTINGS
@given(raw=st.binary(max_size=200))
def test_decode_intent_of_any_bytes(raw: bytes) -> None:
    try:
        _judge(decode_intent(raw))
    except InvalidIntent:
        pass


@SETTINGS
@given(qty=st.decimals(), price=st.none() | st.decimals())
def test_filters_judge_any_decimal(qty: Decimal, price: Decimal | None) -> None:
    try:
        BTC.validate(qty, price)
    except FilterViolation:
        pass
