"""The bridge's request validity bound (issue 7, defect 1): the uniform ``recv_window``
option becomes the bound ccxt signs with, ``request_validity()`` reports exactly that
bound, and a create held in transit past it is refused by the simulator on arrival, so
"not found" after the bound is proof that the order never exists."""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any
from urllib.parse import unquote

import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from gapless.model import OrderState, Side
from gapless.model.errors import ConfigError, GaplessError, OrderNotFound, Outcome
from gapless.venues.base import Venue
from gapless.venues.ccxt_bridge.adapter import CcxtVenue
from gapless.venues.registry import create_venue

from ..contract import VenueHarness, best, make_order, passive_buy_price, qty_for
from ..hostile import HostileProxy
from .harness import bridge_config, bridge_harness
from .test_kraken_bridge_contract import BRIDGE_FAST, SIM_FAST


def _binance_refused(status: int, body: Any) -> bool:
    return status == 400 and body.get("code") == -1021  # outside the recvWindow


def _bybit_refused(status: int, body: Any) -> bool:
    return body.get("retCode") == 10002  # the request time exceeds the time window


def _okx_refused(status: int, body: Any) -> bool:
    data = body.get("data") or [{}]  # a one-order batch: the item says why
    return isinstance(data, list) and data[0].get("sCode") == "50036"  # past its expTime


def _coinbase_refused(status: int, body: Any) -> bool:
    return status == 401  # expired JWT: unauthenticated


def _kraken_refused(status: int, body: Any) -> bool:
    return "EService:Deadline elapsed" in body.get("error", [])  # past its AddOrder deadline


@dataclass(frozen=True)
class Case:
    exchange: str
    symbol: str
    create_path: str  # what the proxy holds: the create endpoint's path
    max_ms: int  # the venue's maximum for recv_window (or the bridge's sanity ceiling)
    refused: Any  # (status, decoded body) -> the venue's documented refusal
    #: seconds ``request_validity()`` gives for recv_window 3000
    bound_3000: float
    sim: dict[str, Any] | None = None
    options: dict[str, str] | None = None


CASES = {
    "binance": Case("binance", "BTC/USDT", "/api/v3/order", 60000, _binance_refused, 3.0),
    "bybit": Case("bybit", "BTC/USDT", "/v5/order/create", 60000,
                  _bybit_refused, 3.0),
    # ccxt's okx create_order sends a one-order batch
    "okx": Case("okx", "BTC/USDT", "/api/v5/trade/batch-orders", 30000,
                _okx_refused, 3.0),
    "coinbase": Case("coinbase", "BTC/USD", "/api/v3/brokerage/orders", 120_000,
                     _coinbase_refused, 3.0),
    "kraken": Case("kraken", "BTC/USD", "/0/private/AddOrder", 60000,
                   _kraken_refused, 3.0, SIM_FAST, BRIDGE_FAST),
}
IDS = list(CASES)

#: no sockets: constructing a venue opens none
_OFFLINE = SimpleNamespace(rest_url="http://127.0.0.1:9", ws_url="ws://127.0.0.1:9",
                           api_key="key", secret="c2VjcmV0", passphrase="pass")


def _offline(exchange: str, **options: str) -> CcxtVenue:
    v = create_venue(bridge_config(_OFFLINE, exchange, **options))
    assert isinstance(v, CcxtVenue)
    return v


@pytest.mark.parametrize("exchange", IDS)
@pytest.mark.parametrize("bad", ["abc", "", "0", "-1000", "1.5", "5e3", "nan", "inf",
                                 "1e999999", "5_000", "\uff15\uff10\uff10\uff10", "over"])
def test_bad_recv_window_is_a_config_error_at_construction(exchange: str, bad: str) -> None:
    value = str(CASES[exchange].max_ms + 1) if bad == "over" else bad
    with pytest.raises(ConfigError) as ei:
        _offline(exchange, recv_window=value)
    assert "recv_window" in str(ei.value)


@pytest.mark.parametrize("exchange", IDS)
def test_request_validity_reflects_recv_window(exchange: str) -> None:
    case = CASES[exchange]
    assert _offline(exchange, recv_window="3000").request_validity() == case.bound_3000
    default = _offline(exchange).request_validity()  # 5000 ms unless configured
    assert default == 5.0
    top = _offline(exchange, recv_window=str(case.max_ms)).request_validity()
    assert top == case.max_ms / 1000


def test_other_exchanges_offer_no_bound() -> None:
    assert _offline("kucoin", recv_window="3000").request_validity() is None


def test_coinbase_bound_is_whole_seconds_rounded_up() -> None:
    # the JWT claims are whole seconds; the bound must never be shorter than signed
    assert _offline("coinbase", recv_window="2500").request_validity() == 3.0


def test_binance_signs_the_recv_window() -> None:
    v = _offline("binance", recv_window="3000")
    req = v.ex.sign("order", ["private"], "POST", {"symbol": "BTCUSDT"})
    assert "recvWindow=3000" in req["body"]  # not ccxt's own default of 10000


def test_bybit_signs_the_recv_window() -> None:
    v = _offline("bybit", recv_window="3000")
    req = v.ex.sign("v5/order/create", ["private"], "POST", {"symbol": "BTCUSDT"})
    assert req["headers"]["X-BAPI-RECV-WINDOW"] == "3000"


def test_okx_creates_carry_exptime() -> None:
    v = _offline("okx", recv_window="3000")
    before = v.ex.nonce()
    req = v.ex.sign("trade/order", ["private"], "POST", {"instId": "BTC-USDT"})
    assert before + 3000 <= int(req["headers"]["expTime"]) <= v.ex.nonce() + 3000
    amend = v.ex.sign("trade/amend-order", ["private"], "POST", {"instId": "BTC-USDT"})
    assert "expTime" in amend["headers"]
    # OKX documents expTime for place/amend only; reads go without it
    read = v.ex.sign("trade/order", ["private"], "GET", {"instId": "BTC-USDT"})
    assert "expTime" not in read["headers"]


def test_kraken_recv_window_below_the_deadline_minimum_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as ei:  # AddOrder deadline: min now() + 2 seconds
        _offline("kraken", recv_window="1999")
    assert "recv_window" in str(ei.value)
    assert _offline("kraken", recv_window="2000").request_validity() == 2.0


def test_kraken_creates_carry_a_deadline_on_the_venue_clock() -> None:
    v = _offline("kraken", recv_window="3000")
    v.ex.options["timeDifference"] = 7000  # our clock 7 s ahead of the venue's
    before = v.ex.milliseconds()
    req = v.ex.sign("AddOrder", ["private"], "POST", {"pair": "XBTUSD"})
    after = v.ex.milliseconds()
    raw = dict(p.split("=", 1) for p in req["body"].split("&"))["deadline"]
    stamp = datetime.fromisoformat(unquote(raw).replace("Z", "+00:00")).timestamp() * 1000
    assert before - 7000 + 3000 <= stamp <= after - 7000 + 3000 + 500  # + the mid-second
    read = v.ex.sign("QueryOrders", ["private"], "POST", {"txid": "x"})
    assert "deadline" not in read["body"]  # AddOrder only


def test_kraken_nonces_strictly_increase() -> None:
    v = _offline("kraken")
    nonces = [int(v.ex.incrementing_nonce()) for _ in range(2000)]  # many per millisecond
    assert all(b > a for a, b in itertools.pairwise(nonces))


# -- over real sockets: the simulator refuses a create that arrives past its bound --------
@pytest.fixture
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Case, VenueHarness]]:
    """``request.param``: (exchange, recv_window)."""
    exchange, recv_window = request.param
    case = CASES[exchange]
    async with bridge_harness(case.exchange, case.exchange, symbol=case.symbol,
                              sim_options=case.sim,
                              options={**(case.options or {}), "recv_window": recv_window}) as h:
        yield case, h


async def _held_create(case: Case, h: VenueHarness, proxy: HostileProxy,
                       hold_s: float) -> tuple[Venue, str]:
    """Send a create through ``proxy`` held ``hold_s``; the client gives up after 1 s."""
    v = h.make_venue(rest_url=proxy.url, timeout=1.0)
    await v.start()
    sym = case.symbol
    inst = v.instrument(sym)
    bid, _ = await best(v, sym)
    price = passive_buy_price(inst, bid)
    order = make_order(v, sym, Side.BUY, qty_for(inst, price), price)
    proxy.hold(hold_s, match=case.create_path)
    with pytest.raises(GaplessError) as ei:
        await v.place_order(order)
    assert ei.value.outcome is Outcome.UNKNOWN
    assert proxy.held == 1  # the fault fired: the create was in transit when we gave up
    return v, order.client_order_id


def _delivered(proxy: HostileProxy) -> tuple[int, Any]:
    """The venue's answer to the held request: status and decoded body (text: ``{}``)."""
    _, status, body = proxy.delivered[0]
    try:
        decoded = orjson.loads(body)
    except orjson.JSONDecodeError:
        decoded = {}
    return status, decoded if isinstance(decoded, dict) else {}


#: (exchange, recv_window, hold): whole-second JWT claims make a 3 s Coinbase token live
#: 2 to 3 s, so its unheld requests are safe; every other bound is exact
#: (Kraken's deadline must be 2 s ahead at least: 3 s, held 4 s)
PAST = [(i, "3000", 4.5) if i == "coinbase" else (i, "3000", 4.0) if i == "kraken"
        else (i, "1000", 2.5) for i in IDS]
#: the venue's clock 20 s behind ours: only a bound signed on the venue's clock holds
SKEWED = PAST


async def _never_exists(case: Case, h: VenueHarness, hold_s: float, skew_ms: int = 0) -> None:
    proxy = await HostileProxy(h.sim.rest_url).start()
    h.sim.faults.clock_skew_ms = skew_ms
    query = h.venue
    if skew_ms:
        query = h.make_venue()  # measures the venue's clock as it is now
        await query.start()
    try:
        v, cid = await _held_create(case, h, proxy, hold_s=hold_s)
        try:
            # nothing else is answered meanwhile: for Kraken the deadline alone, not the
            # nonce rule, refuses the create
            await proxy.wait_delivered(1)
            status, body = _delivered(proxy)
            assert case.refused(status, body), (status, body)
            with pytest.raises(OrderNotFound):
                await query.query_order(case.symbol, cid)
            assert cid not in {r.client_order_id for r in await query.open_orders(case.symbol)}
        finally:
            await v.close()
    finally:
        await proxy.stop()


@pytest.mark.parametrize("harness, hold_s", [((e, w), s) for e, w, s in PAST],
                         indirect=["harness"], ids=IDS)
async def test_create_held_past_its_bound_never_exists(
    harness: tuple[Case, VenueHarness], hold_s: float,
) -> None:
    await _never_exists(*harness, hold_s)


@pytest.mark.parametrize("harness, hold_s", [((e, w), s) for e, w, s in SKEWED],
                         indirect=["harness"], ids=[c[0] for c in SKEWED])
async def test_bound_holds_on_the_venue_clock(
    harness: tuple[Case, VenueHarness], hold_s: float,
) -> None:
    # our clock 20 s ahead of the venue's: a bound signed on our clock would keep the
    # create alive 20 s longer than request_validity() says (and Binance/Bybit/Coinbase
    # would refuse every request as from the future)
    await _never_exists(*harness, hold_s, skew_ms=-20_000)


def test_coinbase_jwt_lives_ceil_recv_window_seconds() -> None:
    key = ec.generate_private_key(ec.SECP256R1())  # a throwaway key: ES256 as Coinbase's
    pem = key.private_bytes(serialization.Encoding.PEM,
                            serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption()).decode()
    v = create_venue(bridge_config(SimpleNamespace(**{**vars(_OFFLINE), "secret": pem,
                                                      "api_key": "organizations/o/apiKeys/k"}),
                                   "coinbase", recv_window="2500"))
    assert isinstance(v, CcxtVenue)
    v.ex.options["timeDifference"] = 7000  # our clock 7 s ahead of the venue's
    token = v.ex.create_auth_token(v.ex.seconds(), "GET",
                                   "https://api.coinbase.com/api/v3/brokerage/accounts")
    part = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    assert claims["exp"] - claims["nbf"] == 3
    assert abs(claims["nbf"] - (v.ex.seconds() - 7)) <= 1


@pytest.mark.parametrize("harness", [(i, "5000") for i in IDS], indirect=True, ids=IDS)
async def test_create_held_within_its_bound_lands(harness: tuple[Case, VenueHarness]) -> None:
    # the other side: the bound is not tighter than the venue's, and an unknown create
    # that lands in time is found
    case, h = harness
    proxy = await HostileProxy(h.sim.rest_url).start()
    try:
        v, cid = await _held_create(case, h, proxy, hold_s=2.0)
        try:
            await proxy.wait_delivered(1)
            status, body = _delivered(proxy)
            assert not case.refused(status, body), (status, body)
            rep = await h.venue.query_order(case.symbol, cid)
            assert rep.state is OrderState.ACCEPTED
        finally:
            await v.close()
    finally:
        await proxy.stop()
