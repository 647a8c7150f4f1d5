"""The append-only ``order_events`` table: SQL and row mapping shared by journal backends.

Events are written in the same transaction as the order row they describe (so the journal
never holds an event for a state the order row does not have, nor the reverse); ``seq`` is
assigned by the database on insert, strictly increasing in commit order, and is the
replay cursor for subscribers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from gapless.model import Fill, OrderEvent, OrderState, StageTimes

CREATE_TABLE = """
    CREATE TABLE order_events (
        seq              INTEGER PRIMARY KEY AUTOINCREMENT,
        intent_id        TEXT NOT NULL,
        venue            TEXT NOT NULL,
        client_order_id  TEXT NOT NULL,
        previous         TEXT,
        state            TEXT NOT NULL,
        fill             TEXT,
        reason           TEXT NOT NULL DEFAULT '',
        times            TEXT NOT NULL,
        at               INTEGER NOT NULL
    )
"""
CREATE_INDEX = "CREATE INDEX order_events_intent ON order_events (intent_id, seq)"

COLS = "seq, intent_id, venue, client_order_id, previous, state, fill, reason, times, at"
#: ``seq`` is assigned by the database (strictly increasing in commit order)
INSERT = ("INSERT INTO order_events (intent_id, venue, client_order_id, previous, state, fill, "
          "reason, times, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")

_fill_decoder = msgspec.json.Decoder(Fill)
_times_decoder = msgspec.json.Decoder(StageTimes)


def event_params(e: OrderEvent) -> tuple[Any, ...]:
    return (
        e.intent_id, e.venue, e.client_order_id,
        None if e.previous is None else e.previous.value, e.state.value,
        None if e.fill is None else msgspec.json.encode(e.fill).decode(),
        e.reason, msgspec.json.encode(e.times).decode(), e.at,
    )


def row_to_event(row: Sequence[Any]) -> OrderEvent:
    seq, intent_id, venue, coid, previous, state, fill, reason, times, at = row
    return OrderEvent(
        seq=seq, intent_id=intent_id, venue=venue, client_order_id=coid,
        previous=None if previous is None else OrderState(previous), state=OrderState(state),
        fill=None if fill is None else _fill_decoder.decode(fill), reason=reason,
        times=_times_decoder.decode(times), at=at,
    )


def insert_all(conn: Any, events: Sequence[OrderEvent]) -> list[int]:
    """Insert in order; returns the sequence numbers the database assigned."""
    seqs = []
    for e in events:
        cur = conn.execute(INSERT, event_params(e))
        seqs.append(int(cur.lastrowid))
    return seqs
