"""Reconciliation: recovery on start, settling UNKNOWN orders, following private streams,
draining dead letters, and retrying unreachable venues.

Split from the order path (``oms.py``) by responsibility: functions of the engine that
``Engine`` delegates to. Each reads venue facts and applies them through the engine's FSM
helpers, so the order path's rules (one lock per order, journal after every change) hold
here too.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from gapless.model import Balance, Fill, Order, OrderReport, OrderState
from gapless.model.errors import GaplessError
from gapless.transport.deadletter import DeadLetter
from gapless.venues.base import Reconnected, Venue

if TYPE_CHECKING:
    from gapless.engine.oms import Engine

S = OrderState
log = logging.getLogger("gapless.engine")


async def settle_unknown(eng: Engine, venue_name: str | None = None) -> int:
    """One query for every UNKNOWN order (of one venue, or all): adopt what the venue
    reports, reject what its validity bound proves dead. Returns how many settled."""
    settled = 0
    for order in list(eng._orders.values()):
        if order.state is not S.UNKNOWN or order.intent_id in eng._sending:
            continue
        if venue_name is not None and order.venue != venue_name:
            continue
        await eng.resolve_unknown(order, attempts=1)
        if order.state is not S.UNKNOWN:
            settled += 1
            eng._settle(order)
    return settled

async def on_event(eng: Engine, venue: Venue, event: object) -> None:
    """Apply one private-stream event (order report, fill, balance, reconnect)."""
    if isinstance(event, Balance):
        eng.balances.update(venue.name, event)
    elif isinstance(event, Reconnected):
        await eng.reconcile_open(venue.name)
    elif isinstance(event, OrderReport):
        order = await find(eng, venue.name, event.client_order_id)
        if order is None:
            eng._dead(venue.name, "private", event, "unknown client order id")
            return
        await eng.apply_report(order, event)
        eng._settle(order)
    elif isinstance(event, Fill):
        order = await find(eng, venue.name, event.client_order_id)
        if order is None:
            eng._dead(venue.name, "private", event, "fill for unknown order")
            return
        async with eng._lock(order.intent_id):
            if eng._apply_fill(order, event):
                eng._fill_behind(event, order.intent_id)
                await eng._persist(order, fills=[event])
        eng._settle(order)
    else:
        eng._dead(venue.name, "private", event, "unrecognised event")

async def follow(eng: Engine, venue: Venue) -> None:
    while True:
        try:
            async for event in venue.private_events():
                await eng.on_event(venue, event)
        except asyncio.CancelledError:
            raise
        except GaplessError as exc:
            eng._dead(venue.name, "private", None, f"stream error: {exc}")
        await eng.clock.sleep(0.5)

async def drain_dead_letters(eng: Engine) -> list[DeadLetter]:
    """Take every parked message (the engine's and each adapter's) and reconcile the
    open orders of each venue concerned by REST, since a lost update may have been
    about any of them. Returns the letters for inspection; none is dropped unseen."""
    letters = eng.dead_letters.drain()
    for venue in eng.venues.values():
        letters += venue.dlq.drain()
    for name in sorted({dl.venue for dl in letters if dl.venue in eng.venues}):
        await eng.reconcile_open(name)
    if letters:
        eng.dead_letters_drained += len(letters)
        log.warning("reconciled after %d dead letter(s): %s", len(letters),
                    "; ".join(f"{dl.venue}/{dl.stream}: {dl.reason}" for dl in letters[:5]))
    return letters

async def maintain(eng: Engine) -> None:
    """Every ``reconcile_interval``: retry unreachable venues, settle UNKNOWN orders,
    drain dead letters. A failure of one venue never stops the loop."""
    while True:
        await eng.clock.sleep(eng.reconcile_interval)
        for name in list(eng.unreachable):
            try:
                await eng._start_venue(name)
            except GaplessError as exc:
                log.warning("venue %s still not started: %s", name, exc)
        try:
            await eng.settle_unknown()
        except GaplessError as exc:
            log.warning("settling unknown orders failed: %s", exc)
        try:
            await eng.drain_dead_letters()
        except GaplessError as exc:  # the venue is unwell: try again next round
            log.warning("dead-letter reconciliation failed: %s", exc)

# -- recovery --------------------------------------------------------------------
async def recover(eng: Engine, venue_name: str | None = None) -> list[Order]:
    """Reconcile every non-terminal journaled order (of one venue, or of every reachable
    one) with its venue before trading.

    CREATED/SUBMITTED orders may or may not have reached the venue before a crash:
    they become UNKNOWN with a validity bound counted from now (the dead process
    signed them earlier) and are resolved like any unknown outcome, never re-sent.
    An order whose venue fails to answer stays as it is, for the next reconciliation.
    """
    recovered = []
    for order in await eng.journal.open_orders():
        if order.venue not in eng.venues or order.venue in eng.unreachable:
            continue
        if venue_name is not None and order.venue != venue_name:
            continue
        if order.intent_id in eng._sending:
            continue
        order = eng._orders.get(order.intent_id, order)
        eng._track(order)
        try:
            await eng.status(order.intent_id)
        except GaplessError as exc:
            eng._dead(order.venue, "recover", order.intent_id, str(exc))
        recovered.append(order)
    return recovered

async def reconcile_open(eng: Engine, venue_name: str) -> None:
    for order in list(eng._orders.values()):
        if order.venue == venue_name and not order.state.is_terminal:
            try:
                await eng.status(order.intent_id)
            except GaplessError as exc:
                eng._dead(venue_name, "reconcile", order.intent_id, str(exc))

async def find(eng: Engine, venue: str, client_order_id: str) -> Order | None:
    """The order a stream event is about: live, recently finished, or journaled (a late
    fill after a cancel is still applied)."""
    order = eng._by_cid.get((venue, client_order_id))
    if order is not None:
        return order
    for recent in reversed(eng._recent.values()):
        if recent.venue == venue and recent.client_order_id == client_order_id:
            return recent
    return await eng.journal.find_by_client_id(venue, client_order_id)
