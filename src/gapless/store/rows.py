"""Row mapping and write operations of the SQLite journal (run on its writer thread).

Parameters are computed from an ``Order`` in the caller's thread (``order_params``), so a
write queued now and executed later stores the order as it was when it was queued.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import orjson

from gapless.model import (
    DuplicateIntent,
    Fill,
    JournalError,
    Order,
    OrderState,
    OrderType,
    Side,
    StageTimes,
    TimeInForce,
)
from gapless.model.redact import scrub

TERMINAL = tuple(s.value for s in OrderState if s.is_terminal)
TIME_FIELDS = (
    "intent", "checked", "journaled", "sent", "acked", "first_fill", "done", "expires",
)

ORDER_COLS = (
    "intent_id, venue, client_order_id, venue_order_id, symbol, side, type, qty, price, "
    "tif, state, filled_qty, quote_filled, fees, fill_ids, reject_reason, "
    + ", ".join(f"t_{f}" for f in TIME_FIELDS)
)
FILL_COLS = (
    "venue, trade_id, symbol, side, qty, price, fee, fee_asset, is_maker, ts_ms, "
    "client_order_id, venue_order_id"
)



def _now_ns() -> int:
    return time.time_ns()


# -- row mapping ----------------------------------------------------------------------
def order_params(o: Order) -> tuple[Any, ...]:
    t = o.times
    return (
        o.intent_id,
        o.venue,
        o.client_order_id,
        o.venue_order_id,
        o.symbol,
        o.side.value,
        o.type.value,
        str(o.qty),
        None if o.price is None else str(o.price),
        o.tif.value,
        o.state.value,
        str(o.filled_qty),
        str(o.quote_filled),
        orjson.dumps({k: str(v) for k, v in o.fees.items()}).decode(),
        orjson.dumps(list(o.fill_ids)).decode(),
        scrub(o.reject_reason) if o.reject_reason else "",  # never a secret on disk
        *(getattr(t, f) for f in TIME_FIELDS),
    )


def row_to_order(row: Sequence[Any]) -> Order:
    (intent_id, venue, coid, void, symbol, side, otype, qty, price, tif, state, filled,
     quote, fees, fill_ids, reason, *times) = row  # fmt: skip
    return Order(
        intent_id=intent_id,
        venue=venue,
        client_order_id=coid,
        venue_order_id=void,
        symbol=symbol,
        side=Side(side),
        type=OrderType(otype),
        qty=Decimal(qty),
        price=None if price is None else Decimal(price),
        tif=TimeInForce(tif),
        state=OrderState(state),
        filled_qty=Decimal(filled),
        quote_filled=Decimal(quote),
        fees={k: Decimal(v) for k, v in orjson.loads(fees).items()},
        fill_ids=list(orjson.loads(fill_ids)),
        reject_reason=reason,
        times=StageTimes(**dict(zip(TIME_FIELDS, times, strict=True))),
    )


def row_to_fill(row: Sequence[Any]) -> Fill:
    (venue, trade_id, symbol, side, qty, price, fee, fee_asset, is_maker, ts_ms, coid,
     void) = row  # fmt: skip
    return Fill(
        venue=venue,
        trade_id=trade_id,
        symbol=symbol,
        side=Side(side),
        qty=Decimal(qty),
        price=Decimal(price),
        fee=Decimal(fee),
        fee_asset=fee_asset,
        is_maker=bool(is_maker),
        ts_ms=ts_ms,
        client_order_id=coid,
        venue_order_id=void,
    )


# -- write operations (run on the writer thread, inside the batch transaction) --------
def insert_order(conn: sqlite3.Connection, o: Order, params: tuple[Any, ...]) -> None:
    now = _now_ns()
    placeholders = ", ".join("?" * (16 + len(TIME_FIELDS) + 2))
    try:
        conn.execute(
            f"INSERT INTO orders ({ORDER_COLS}, created_at, updated_at) VALUES ({placeholders})",
            (*params, now, now),
        )
    except sqlite3.IntegrityError as e:
        if "client_order_id" in str(e):
            raise DuplicateIntent(
                f"client order id {o.client_order_id!r} is already journaled "
                f"(intent {o.intent_id!r})",
                venue=o.venue,
            ) from None
        raise DuplicateIntent(
            f"intent {o.intent_id!r} is already journaled", venue=o.venue
        ) from None


def update_order(conn: sqlite3.Connection, o: Order, params: tuple[Any, ...]) -> None:
    cols = [c.strip() for c in ORDER_COLS.split(",")]
    sets = ", ".join(f"{c} = ?" for c in cols[1:])
    try:
        cur = conn.execute(
            f"UPDATE orders SET {sets}, updated_at = ? WHERE intent_id = ?",
            (*params[1:], _now_ns(), o.intent_id),
        )
    except sqlite3.IntegrityError:
        raise DuplicateIntent(
            f"client order id {o.client_order_id!r} belongs to another journaled intent",
            venue=o.venue,
        ) from None
    if cur.rowcount != 1:
        raise JournalError(f"update of unknown intent {o.intent_id!r}", venue=o.venue)


def insert_fill(conn: sqlite3.Connection, f: Fill, intent_id: str) -> bool:
    cur = conn.execute(
        f"INSERT OR IGNORE INTO fills ({FILL_COLS}, intent_id, recorded_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            f.venue,
            f.trade_id,
            f.symbol,
            f.side.value,
            str(f.qty),
            str(f.price),
            str(f.fee),
            f.fee_asset,
            int(f.is_maker),
            f.ts_ms,
            f.client_order_id,
            f.venue_order_id,
            intent_id,
            _now_ns(),
        ),
    )
    return cur.rowcount == 1

