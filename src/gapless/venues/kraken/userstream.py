"""WS v2 ``executions`` channel -> ``OrderReport`` (+ ``Fill`` on trades) (docs §5.7).

Updates may omit fields the venue already sent (symbol, cl_ord_id, qty); the stream
remembers them per ``order_id``. Anything unparseable goes to the dead-letter queue.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

from gapless.model import Fill, OrderReport, OrderState, Side

ZERO = Decimal(0)


class FeeWire(msgspec.Struct):
    asset: str
    qty: Decimal


class ExecWire(msgspec.Struct):
    exec_type: str
    order_id: str
    order_status: str | None = None
    symbol: str | None = None
    cl_ord_id: str | None = None
    side: str | None = None
    order_qty: Decimal | None = None
    limit_price: Decimal | None = None
    cum_qty: Decimal | None = None
    cum_cost: Decimal | None = None
    timestamp: str = ""
    exec_id: str | None = None
    trade_id: int | None = None
    last_qty: Decimal | None = None
    last_price: Decimal | None = None
    liquidity_ind: str | None = None
    fees: list[FeeWire] = []


class ExecMsg(msgspec.Struct):
    channel: str
    type: str
    data: list[ExecWire]
    sequence: int | None = None


class Control(msgspec.Struct):
    channel: str | None = None
    method: str | None = None
    success: bool | None = None
    error: str | None = None


_decode_exec = msgspec.json.Decoder(ExecMsg).decode
_decode_control = msgspec.json.Decoder(Control).decode

def trade_key(symbol: str, trade_id: int | None, fallback: str) -> str:
    """Kraken's ``trade_id`` is an integer per pair, present on REST trades and WS
    executions alike; ``symbol:trade_id`` is the dedupe key. Without it, the txid."""
    return f"{symbol}:{trade_id}" if trade_id is not None else fallback


_STATES = {
    "pending_new": OrderState.ACCEPTED, "new": OrderState.ACCEPTED,
    "partially_filled": OrderState.PARTIALLY_FILLED, "filled": OrderState.FILLED,
    "canceled": OrderState.CANCELED, "expired": OrderState.CANCELED,
}


class _Known(msgspec.Struct):
    symbol: str
    cid: str
    side: Side | None
    qty: Decimal
    price: Decimal | None


def _ts_ms(iso: str) -> int:
    from datetime import datetime

    if not iso:
        return 0
    try:
        return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return 0


def _nonneg(v: Decimal | None, what: str) -> Decimal:
    if v is None:
        return ZERO
    if not v.is_finite() or v < 0:
        raise ValueError(f"{what} {v} is not a non-negative number")
    return v


class ExecutionParser:
    def __init__(self, venue: str, symbols: dict[str, str]) -> None:
        self.venue = venue
        self.symbols = symbols  # WS v2 symbol -> canonical
        self.known: dict[str, _Known] = {}

    def remember(self, order_id: str, symbol: str, cid: str, side: Side | None, qty: Decimal,
                 price: Decimal | None) -> None:
        self.known[order_id] = _Known(symbol, cid, side, qty, price)

    def parse(self, raw: bytes | str) -> list[OrderReport] | None:
        """Reports in the frame; ``None`` for control frames; ``ValueError`` to dead-letter."""
        try:
            msg = _decode_exec(raw)
        except msgspec.DecodeError:
            try:
                ctl = _decode_control(raw)
            except msgspec.DecodeError as exc:
                raise ValueError(f"unparseable frame: {exc}") from None
            if ctl.success is False:
                raise ValueError(f"request failed: {ctl.error}") from None
            if ctl.channel in ("heartbeat", "status") or ctl.method is not None:
                return None
            raise ValueError("not an executions message") from None
        if msg.channel != "executions":
            raise ValueError(f"unexpected channel {msg.channel!r}")
        return [self._report(e) for e in msg.data]

    def _report(self, e: ExecWire) -> OrderReport:
        k = self.known.get(e.order_id)
        symbol = self.symbols.get(e.symbol, e.symbol) if e.symbol else (k.symbol if k else None)
        if symbol is None:
            raise ValueError(f"execution for unknown order {e.order_id} without symbol")
        cid = e.cl_ord_id or (k.cid if k else "")
        side: Side | None
        if e.side is not None:
            if e.side not in ("buy", "sell"):
                raise ValueError(f"bad side {e.side!r}")
            side = Side.BUY if e.side == "buy" else Side.SELL
        else:
            side = k.side if k else None
        qty = _nonneg(e.order_qty, "order_qty") if e.order_qty is not None else (k.qty if k else ZERO)
        price = _nonneg(e.limit_price, "limit_price") or None if e.limit_price is not None else (
            k.price if k else None)
        self.known[e.order_id] = _Known(symbol, cid, side, qty, price)
        status = e.order_status
        if status is None:
            status = {"trade": "partially_filled", "filled": "filled", "canceled": "canceled",
                      "expired": "expired"}.get(e.exec_type, "new")
        state = _STATES.get(status)
        if state is None:
            raise ValueError(f"unknown order_status {status!r}")
        ts = _ts_ms(e.timestamp)
        fills: tuple[Fill, ...] = ()
        if e.exec_type == "trade":
            if e.last_qty is None or e.last_price is None or (e.trade_id is None and e.exec_id is None):
                raise ValueError("trade without qty/price/id")
            lq, lp = _nonneg(e.last_qty, "last_qty"), _nonneg(e.last_price, "last_price")
            if lq <= 0 or lp <= 0 or side is None:
                raise ValueError("trade with zero qty/price or no side")
            fee, fee_asset = ZERO, ""
            for f in e.fees:
                fee += _nonneg(f.qty, "fee")
                fee_asset = f.asset
            fills = (Fill(
                venue=self.venue, trade_id=self._trade_key(e, symbol), symbol=symbol, side=side,
                qty=lq, price=lp, fee=fee, fee_asset=fee_asset,
                is_maker=e.liquidity_ind == "m", ts_ms=ts, client_order_id=cid,
                venue_order_id=e.order_id),)
        return OrderReport(
            venue=self.venue, symbol=symbol, client_order_id=cid, venue_order_id=e.order_id,
            state=state, side=side, qty=qty, price=price,
            filled_qty=_nonneg(e.cum_qty, "cum_qty"), quote_filled=_nonneg(e.cum_cost, "cum_cost"),
            fills=fills, ts_ms=ts,
        )

    def _trade_key(self, e: ExecWire, symbol: str) -> str:
        return trade_key(symbol, e.trade_id, e.exec_id or "")
