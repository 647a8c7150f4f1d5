"""Kraken wire shapes <-> the unified schema, with strict decoding (docs §5.3, §5.8).

Every REST answer is ``{"error":[...],"result":...}``; anything that does not decode into
the expected types raises ``MalformedResponse``. Money stays ``Decimal`` (REST sends
strings, WS v2 sends JSON numbers, both decoded from their exact text).
"""

from __future__ import annotations

import time
import uuid
from decimal import Decimal
from typing import Any, TypeVar

import msgspec

from gapless.model import (
    Balance,
    BookLevel,
    BookSnapshot,
    Fill,
    Instrument,
    OrderReport,
    OrderState,
    Side,
)
from gapless.model.errors import MalformedResponse

ZERO = Decimal(0)
T = TypeVar("T")

#: Kraken asset altnames that differ from the common code
ALTNAME_TO_COMMON = {"XBT": "BTC", "XDG": "DOGE"}
_CLIENT_NS = uuid.UUID("6f0b1d2e-8c4a-5e7f-9a3b-2c1d0e4f5a6b")


def kraken_client_order_id(intent_id: str) -> str:
    """A long-form UUID (one of the three accepted ``cl_ord_id`` formats), derived from the
    intent id: same intent, same id."""
    return str(uuid.uuid5(_CLIENT_NS, intent_id))


class Envelope(msgspec.Struct):
    error: list[str]
    result: msgspec.Raw = msgspec.Raw(b"")


_envelope = msgspec.json.Decoder(Envelope)


def decode_envelope(body: bytes, venue: str) -> Envelope:
    try:
        return _envelope.decode(body)
    except msgspec.DecodeError as exc:
        raise MalformedResponse(f"not a Kraken envelope: {exc}", venue=venue) from None


def decode_result(raw: msgspec.Raw, typ: type[T], venue: str) -> T:
    if not raw or bytes(raw) == b"null":
        raise MalformedResponse("envelope without result", venue=venue)
    try:
        return msgspec.json.decode(raw, type=typ)
    except msgspec.DecodeError as exc:
        raise MalformedResponse(f"unexpected result shape: {exc}", venue=venue) from None
    except (ValueError, ArithmeticError) as exc:
        raise MalformedResponse(f"bad value: {exc}", venue=venue) from None


# -- reference data ----------------------------------------------------------------------
class AssetWire(msgspec.Struct):
    altname: str
    decimals: int
    aclass: str = "currency"
    status: str = "enabled"


class PairWire(msgspec.Struct):
    altname: str
    base: str
    quote: str
    pair_decimals: int
    lot_decimals: int
    wsname: str = ""
    cost_decimals: int = 8
    ordermin: Decimal = ZERO
    costmin: Decimal = ZERO
    tick_size: Decimal | None = None
    status: str = "online"


class PairSpec(msgspec.Struct, frozen=True):
    """What the adapter needs per pair, precomputed."""

    symbol: str
    key: str
    altname: str
    base: str
    quote: str
    price_dp: int
    lot_dp: int
    tick: Decimal
    step: Decimal


def common_asset(code: str, assets: dict[str, AssetWire]) -> str:
    a = assets.get(code)
    alt = a.altname if a is not None else code
    return ALTNAME_TO_COMMON.get(alt, alt).upper()


def pairs_from(pairs: dict[str, PairWire], assets: dict[str, AssetWire], venue: str
               ) -> tuple[dict[str, Instrument], dict[str, PairSpec]]:
    instruments: dict[str, Instrument] = {}
    specs: dict[str, PairSpec] = {}
    for key, p in pairs.items():
        if ".d" in key or p.status not in ("online", "post_only", "limit_only"):
            continue
        base, quote = common_asset(p.base, assets), common_asset(p.quote, assets)
        if not (base.isalnum() and quote.isalnum()):
            continue
        if not (0 <= p.pair_decimals <= 18 and 0 <= p.lot_decimals <= 18):
            raise MalformedResponse(f"{key}: bad precision", venue=venue)
        tick = p.tick_size if p.tick_size is not None and p.tick_size > 0 else Decimal(1).scaleb(-p.pair_decimals)
        step = Decimal(1).scaleb(-p.lot_decimals)
        symbol = f"{base}/{quote}"
        instruments[symbol] = Instrument(
            venue=venue, symbol=symbol, venue_symbol=key, base=base, quote=quote,
            tick_size=tick, step_size=step, min_qty=p.ordermin, min_notional=p.costmin,
            min_price=tick,
        )
        specs[symbol] = PairSpec(symbol, key, p.altname, base, quote, p.pair_decimals,
                                 p.lot_decimals, tick, step)
    return instruments, specs


# -- market data ----------------------------------------------------------------------
class DepthWire(msgspec.Struct):
    asks: list[tuple[Decimal, Decimal, int]]
    bids: list[tuple[Decimal, Decimal, int]]


def book_from(d: DepthWire, spec: PairSpec, venue: str, depth: int) -> BookSnapshot:
    for lv in (*d.asks, *d.bids):
        if not lv[0].is_finite() or lv[0] <= 0 or not lv[1].is_finite() or lv[1] < 0:
            raise MalformedResponse(f"bad depth level {lv}", venue=venue)
    ts = max((lv[2] for lv in (*d.asks, *d.bids)), default=0)
    return BookSnapshot(
        venue=venue, symbol=spec.symbol,
        bids=tuple(BookLevel(p, q) for p, q, _ in d.bids[:depth]),
        asks=tuple(BookLevel(p, q) for p, q, _ in d.asks[:depth]),
        ts_ms=ts * 1000,
    )


# -- orders -----------------------------------------------------------------------------
class DescrWire(msgspec.Struct):
    pair: str
    type: str
    ordertype: str
    price: Decimal = ZERO
    order: str = ""


class OrderWire(msgspec.Struct):
    status: str
    descr: DescrWire
    vol: Decimal
    vol_exec: Decimal
    cost: Decimal
    fee: Decimal
    opentm: float = 0.0
    closetm: float = 0.0
    price: Decimal = ZERO
    oflags: str = ""
    userref: int | None = None
    cl_ord_id: str | None = None
    reason: str | None = None
    trades: list[str] = []


class AddOrderWire(msgspec.Struct):
    txid: list[str]
    descr: dict[str, Any] = {}


class CancelWire(msgspec.Struct):
    count: int
    pending: bool = False


class OpenWire(msgspec.Struct):
    open: dict[str, OrderWire]


class ClosedWire(msgspec.Struct):
    closed: dict[str, OrderWire]
    count: int = 0


class TradeWire(msgspec.Struct):
    ordertxid: str
    pair: str
    time: float
    type: str
    price: Decimal
    vol: Decimal
    cost: Decimal = ZERO
    fee: Decimal = ZERO
    ordertype: str = ""
    maker: bool = False
    trade_id: int | None = None


class TradesHistoryWire(msgspec.Struct):
    trades: dict[str, TradeWire]
    count: int = 0


class BalanceExWire(msgspec.Struct):
    balance: Decimal
    hold_trade: Decimal = ZERO


class TokenWire(msgspec.Struct):
    token: str
    expires: int = 900


class TimeWire(msgspec.Struct):
    unixtime: int


def rfc3339_ms(unix_ms: int) -> str:
    """AddOrder's ``deadline`` format: RFC3339 UTC to the millisecond
    (``2021-04-01T00:18:45.123Z``)."""
    secs, ms = divmod(unix_ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{ms:03d}Z"


def side_of(raw: str, venue: str) -> Side:
    if raw == "buy":
        return Side.BUY
    if raw == "sell":
        return Side.SELL
    raise MalformedResponse(f"unknown side {raw!r}", venue=venue)


def _nonneg(v: Decimal, what: str, venue: str) -> Decimal:
    if not v.is_finite() or v < 0:
        raise MalformedResponse(f"{what} {v} is not a non-negative number", venue=venue)
    return v


def state_of(status: str, vol: Decimal, vol_exec: Decimal, venue: str) -> OrderState:
    if status in ("pending", "open"):
        return OrderState.PARTIALLY_FILLED if vol_exec > 0 else OrderState.ACCEPTED
    if status == "closed":
        return OrderState.FILLED if vol_exec >= vol or (vol_exec > 0 and vol == 0) else (
            OrderState.CANCELED)
    if status in ("canceled", "expired"):
        return OrderState.CANCELED
    raise MalformedResponse(f"unknown order status {status!r}", venue=venue)


def fee_asset_of(oflags: str, spec: PairSpec) -> str:
    return spec.base if "fcib" in oflags.split(",") else spec.quote


def report_from(txid: str, w: OrderWire, spec: PairSpec, venue: str, client_order_id: str = "",
                fills: tuple[Fill, ...] = ()) -> OrderReport:
    vol = _nonneg(w.vol, "vol", venue)
    exe = _nonneg(w.vol_exec, "vol_exec", venue)
    return OrderReport(
        venue=venue, symbol=spec.symbol,
        client_order_id=w.cl_ord_id or client_order_id,
        venue_order_id=txid,
        state=state_of(w.status, vol, exe, venue),
        side=side_of(w.descr.type, venue),
        qty=vol,
        price=_nonneg(w.descr.price, "price", venue) or None if w.descr.ordertype == "limit" else None,
        filled_qty=exe,
        quote_filled=_nonneg(w.cost, "cost", venue),
        fills=fills,
        ts_ms=int(max(w.closetm, w.opentm) * 1000),
    )


def fill_from_trade(trade_txid: str, t: TradeWire, spec: PairSpec, venue: str, fee_asset: str,
                    client_order_id: str = "") -> Fill:
    if not t.vol.is_finite() or t.vol <= 0 or not t.price.is_finite() or t.price <= 0:
        raise MalformedResponse(f"trade {trade_txid}: bad qty/price", venue=venue)
    return Fill(
        venue=venue, trade_id=trade_txid, symbol=spec.symbol, side=side_of(t.type, venue),
        qty=t.vol, price=t.price, fee=_nonneg(t.fee, "fee", venue), fee_asset=fee_asset,
        is_maker=t.maker, ts_ms=int(t.time * 1000), client_order_id=client_order_id,
        venue_order_id=t.ordertxid,
    )


def balances_from(raw: dict[str, BalanceExWire], assets: dict[str, AssetWire], venue: str
                  ) -> dict[str, Balance]:
    out: dict[str, Balance] = {}
    for code, b in raw.items():
        total = _nonneg(b.balance, "balance", venue)
        hold = _nonneg(b.hold_trade, "hold_trade", venue)
        name = common_asset(code, assets)
        prev = out.get(name)
        free = max(total - hold, ZERO)
        if prev is not None:  # e.g. XXBT and XBT.F style duplicates: add them up
            out[name] = Balance(asset=name, free=prev.free + free, locked=prev.locked + hold)
        else:
            out[name] = Balance(asset=name, free=free, locked=hold)
    return out


def fmt(value: Decimal, places: int) -> str:
    q = Decimal(1).scaleb(-places)
    return f"{value.quantize(q):f}" if places > 0 else f"{value.quantize(Decimal(1)):f}"
