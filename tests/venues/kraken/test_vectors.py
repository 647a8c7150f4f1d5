"""Documented Kraken vectors (venues.md §1.2 K1/K2, §1.3 checksum 3310070434) against both the
adapter and the simulator (which share no code), plus error-map and stream parsing tables."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from gapless.model import OrderState
from gapless.model.errors import (
    AuthError,
    DuplicateClientOrderId,
    InsufficientFunds,
    InvalidOrder,
    OrderNotFound,
    Outcome,
    RateLimited,
    ServerError,
    TimestampRejected,
    VenueUnavailable,
)
from gapless.sim.kraken.auth import api_sign as sim_sign
from gapless.sim.kraken.checksum import book_checksum as sim_checksum
from gapless.venues.kraken.adapter import KrakenVenue, valid_cl_ord_id
from gapless.venues.kraken.auth import KrakenSigner, NonceSource
from gapless.venues.kraken.book import (
    BookMsg,
    ChecksumMismatch,
    KrakenBook,
    checksum,
    parse_book_message,
)
from gapless.venues.kraken.errors import map_http_status, map_kraken_error
from gapless.venues.kraken.translate import kraken_client_order_id
from gapless.venues.kraken.userstream import ExecutionParser

K1_SECRET = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
K1_BODY = b"nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"
K1_SIGN = "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="
K2_SECRET = "cHl0aG9uLWtyYWtlbi1zZGsgdW5pdC10ZXN0IHNlY3JldCB2YWx1ZQ=="
K2_BODY = b"nonce=1616492376594&ordertype=limit&pair=XBTUSD"
K2_SIGN = "Fo+0Uhanvs3F1byZFCjVBMLsCcRE2xLQMDpoA3Q9hawoZ0ZL35AmbknAQBlOIs4baRx9UGhzQH+/CTl9qnyp1w=="
NONCE = "1616492376594"
PATH = "/0/private/AddOrder"

BIDS = [("45283.5", "0.10000000"), ("45283.4", "1.54582015"), ("45282.1", "0.10000000"),
        ("45281.0", "0.10000000"), ("45280.3", "1.54592586"), ("45279.0", "0.07990000"),
        ("45277.6", "0.03310103"), ("45277.5", "0.30000000"), ("45277.3", "1.54602737"),
        ("45276.6", "0.15445238")]
ASKS = [("45285.2", "0.00100000"), ("45286.4", "1.54571953"), ("45286.6", "1.54571109"),
        ("45289.6", "1.54560911"), ("45290.2", "0.15890660"), ("45291.8", "1.54553491"),
        ("45294.7", "0.04454749"), ("45296.1", "0.35380000"), ("45297.5", "0.09945542"),
        ("45299.5", "0.18772827")]
CHECKSUM = 3310070434


@pytest.mark.parametrize(("secret", "body", "expected"), [(K1_SECRET, K1_BODY, K1_SIGN),
                                                          (K2_SECRET, K2_BODY, K2_SIGN)])
def test_api_sign_vectors(secret: str, body: bytes, expected: str) -> None:
    assert KrakenSigner(secret).sign(PATH, NONCE, body) == expected
    assert sim_sign(secret, PATH, NONCE, body) == expected


def _levels(rows: list[tuple[str, str]]) -> list[tuple[D, D]]:
    return [(D(p), D(q)) for p, q in rows]


def test_book_checksum_vector() -> None:
    assert checksum(_levels(ASKS), _levels(BIDS), 1, 8) == CHECKSUM
    assert sim_checksum(_levels(ASKS), _levels(BIDS), 1, 8) == CHECKSUM


def _ws_levels(rows: list[tuple[str, str]]) -> str:
    # JSON numbers, as v2 sends them (0.001, not "0.00100000")
    return ",".join(f'{{"price":{D(p).normalize():f},"qty":{D(q).normalize():f}}}' for p, q in rows)


def test_book_from_json_numbers_verifies_and_detects_corruption() -> None:
    raw = ('{"channel":"book","type":"snapshot","data":[{"symbol":"BTC/USD","bids":['
           + _ws_levels(BIDS) + '],"asks":[' + _ws_levels(ASKS) + f'],"checksum":{CHECKSUM}}}]}}')
    msg = parse_book_message(raw)
    assert isinstance(msg, BookMsg)
    book = KrakenBook("kraken", "BTC/USD", 10, 1, 8)
    assert book.apply(msg)
    snap = book.snapshot()
    assert snap.bids[0].price == D("45283.5") and snap.asks[0].qty == D("0.001")
    # an update whose checksum does not match the resulting book is detected
    bad = ('{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":'
           '[{"price":45283.5,"qty":0.2}],"asks":[],"checksum":1}]}')
    upd = parse_book_message(bad)
    assert upd is not None
    with pytest.raises(ChecksumMismatch):
        book.apply(upd)


def test_book_control_frames_and_garbage() -> None:
    assert parse_book_message('{"channel":"heartbeat"}') is None
    assert parse_book_message('{"method":"pong","req_id":1}') is None
    for raw in ("nope", '{"channel":"book","type":"snapshot","data":[{"symbol":1}]}',
                '{"method":"subscribe","success":false,"error":"Currency pair not supported"}'):
        with pytest.raises(ValueError):
            parse_book_message(raw)


@pytest.mark.parametrize(("msg", "cls", "outcome"), [
    ("EOrder:Insufficient funds", InsufficientFunds, Outcome.REJECTED),
    ("EOrder:Unknown order", OrderNotFound, Outcome.REJECTED),
    ("EGeneral:Invalid arguments", InvalidOrder, Outcome.REJECTED),
    ("EGeneral:Invalid arguments:volume", InvalidOrder, Outcome.REJECTED),
    ("EOrder:Post only order", InvalidOrder, Outcome.REJECTED),
    ("EOrder:Order minimum not met", InvalidOrder, Outcome.REJECTED),
    ("EQuery:Unknown asset pair", InvalidOrder, Outcome.REJECTED),
    ("EOrder:Duplicate order", DuplicateClientOrderId, Outcome.REJECTED),
    ("EAPI:Invalid key", AuthError, Outcome.REJECTED),
    ("EAPI:Invalid signature", AuthError, Outcome.REJECTED),
    ("EGeneral:Permission denied", AuthError, Outcome.REJECTED),
    ("EAPI:Invalid nonce", TimestampRejected, Outcome.REJECTED),
    ("EAPI:Rate limit exceeded", RateLimited, Outcome.RETRYABLE),
    ("EOrder:Rate limit exceeded", RateLimited, Outcome.RETRYABLE),
    ("EService: Throttled: 1", RateLimited, Outcome.RETRYABLE),
    ("EService:Unavailable", VenueUnavailable, Outcome.RETRYABLE),
    ("EGeneral:Internal error", ServerError, Outcome.UNKNOWN),
])
def test_error_map(msg: str, cls: type, outcome: Outcome) -> None:
    err = map_kraken_error([msg])
    assert type(err) is cls and err.outcome is outcome and err.code == msg


def test_error_map_outcomes_on_mutations() -> None:
    assert isinstance(map_kraken_error(["EService:Unavailable"], mutating=True), ServerError)
    lock = map_kraken_error(["EGeneral:Temporary lockout"])
    assert isinstance(lock, RateLimited) and lock.banned
    assert map_kraken_error(["WGeneral:whatever", "EOrder:Unknown order"]).code == "EOrder:Unknown order"
    assert isinstance(map_http_status(503, mutating=False), VenueUnavailable)
    assert isinstance(map_http_status(503, mutating=True), ServerError)
    assert isinstance(map_http_status(502, mutating=True), ServerError)


def test_client_ids_are_uuids_and_deterministic() -> None:
    a = kraken_client_order_id("intent-1")
    assert a == kraken_client_order_id("intent-1") != kraken_client_order_id("intent-2")
    assert len(a) == 36 and valid_cl_ord_id(a)
    assert valid_cl_ord_id("short-free-text") and not valid_cl_ord_id("x" * 19)
    assert valid_cl_ord_id("0123456789abcdef0123456789abcdef")


def test_nonce_strictly_increases_even_if_the_clock_stalls() -> None:
    src = NonceSource(lambda: 1000)
    assert [src.next() for _ in range(3)] == ["1000", "1001", "1002"]


def test_executions_parsing_with_remembered_fields() -> None:
    p = ExecutionParser("kraken", {"BTC/USD": "BTC/USD"})
    new = ('{"channel":"executions","type":"update","sequence":1,"data":[{"exec_type":"new",'
           '"order_id":"OAAAAA-BBBBB-CCCCCC","order_status":"new","symbol":"BTC/USD",'
           '"cl_ord_id":"abc","side":"buy","order_qty":0.5,"limit_price":60000.1,"cum_qty":0,'
           '"cum_cost":0,"timestamp":"2026-01-01T00:00:00.000000Z"}]}')
    (r,) = p.parse(new) or []
    assert r.state is OrderState.ACCEPTED and r.price == D("60000.1") and r.qty == D("0.5")
    trade = ('{"channel":"executions","type":"update","data":[{"exec_type":"trade",'
             '"order_id":"OAAAAA-BBBBB-CCCCCC","order_status":"filled","trade_id":7,'
             '"exec_id":"TX","last_qty":0.5,"last_price":60000.1,"cum_qty":0.5,'
             '"cum_cost":30000.05,"liquidity_ind":"m","fees":[{"asset":"USD","qty":0.01}]}]}')
    (t,) = p.parse(trade) or []
    assert t.state is OrderState.FILLED and t.client_order_id == "abc" and t.symbol == "BTC/USD"
    (f,) = t.fills
    assert f.trade_id == "BTC/USD:7" and f.is_maker and f.fee == D("0.01") and f.fee_asset == "USD"
    assert p.parse('{"channel":"heartbeat"}') is None
    for raw in ("garbage", '{"channel":"executions","type":"update","data":[{"exec_type":"trade",'
                '"order_id":"OZZ","symbol":"BTC/USD","order_status":"filled"}]}',
                '{"channel":"executions","type":"update","data":[{"exec_type":"new",'
                '"order_id":"OUNKNOWN","order_status":"new"}]}'):
        with pytest.raises(ValueError):
            p.parse(raw)


def test_ws_url_gets_the_v2_path() -> None:
    from gapless.venues.base import VenueConfig

    v = KrakenVenue(VenueConfig(name="kraken", driver="kraken", rest_url="http://127.0.0.1:1",
                                ws_url="ws://127.0.0.1:1"))
    assert v.ws_url == "ws://127.0.0.1:1/v2"
