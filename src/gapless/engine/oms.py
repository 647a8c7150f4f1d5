"""The order management system: intent -> checks -> journal -> venue -> tracked state.

Rules it enforces (see docs/ARCHITECTURE.md):
- write-ahead: an order is durably journaled before its request is sent; later changes
  and their events are written behind, in order (recovery re-derives them after a crash);
- outcome policy: an unknown create is resolved by querying its client order id, never by
  re-sending; "not found" proves non-acceptance only once the request's validity bound
  (``Venue.request_validity`` + skew margin) has passed; until then it stays UNKNOWN;
- one venue's trouble blocks no other; final orders leave memory (the journal keeps them);
- every venue report and fill is applied through the state machine, deduplicated by
  (venue, trade id); reports the engine cannot place go to the dead-letter queue.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Mapping, Sequence

import msgspec

from gapless.engine import reconcile
from gapless.engine.checks import BalanceBook
from gapless.engine.events import EventHub, Subscription
from gapless.engine.risk import BalanceCheck, FilterCheck, RiskCheck, run_checks
from gapless.model import (
    Balance,
    Fill,
    Instrument,
    Order,
    OrderEvent,
    OrderIntent,
    OrderReport,
    OrderState,
)
from gapless.model.errors import (
    CircuitOpen,
    ConfigError,
    DuplicateIntent,
    GaplessError,
    InvalidIntent,
    InvalidTransition,
    LocalDenial,
    OrderNotFound,
    OutcomeUnknown,
    OverfillDetected,
    Rejected,
    Retryable,
)
from gapless.model.fsm import (
    apply_fill,
    apply_report_state,
    restore_after_failed_cancel,
    transition,
)
from gapless.store.journal import Journal
from gapless.transport.backoff import Backoff
from gapless.transport.clock import Clock, RealClock
from gapless.transport.deadletter import DeadLetter, DeadLetterQueue
from gapless.venues.base import Venue

S = OrderState
log = logging.getLogger("gapless.engine")


class Engine:
    """Single-process OMS over a set of venues and one journal."""

    def __init__(
        self,
        journal: Journal,
        venues: Mapping[str, Venue],
        *,
        clock: Clock | None = None,
        unknown_query_attempts: int = 6,
        send_attempts: int = 3,
        max_retry_wait: float = 5.0,
        reconcile_interval: float = 2.0,
        backoff: Backoff | None = None,
        skew_margin: float = 1.0,
        recent_final: int = 256,
        risk_checks: Sequence[RiskCheck] | None = None,
    ) -> None:
        self.journal = journal
        self.venues = dict(venues)
        self.clock = clock or RealClock()
        self.unknown_query_attempts = unknown_query_attempts
        self.send_attempts = send_attempts
        self.max_retry_wait = max_retry_wait  # longer venue back-offs (bans) end the attempt
        self.backoff = backoff or Backoff(base=0.05, cap=1.0)
        self.balances = BalanceBook()
        self.dead_letters = DeadLetterQueue()
        self.dead_letters_drained = 0
        self.reconcile_interval = reconcile_interval
        #: added to a venue's request validity: how far our clock offset may be off
        self.skew_margin = skew_margin
        #: venues whose start failed (name -> reason); retried by the maintenance loop
        self.unreachable: dict[str, str] = {}
        self._orders: dict[str, Order] = {}  # intent_id -> non-final order
        self._by_cid: dict[tuple[str, str], Order] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._sending: dict[str, asyncio.Event] = {}  # intent_id -> set when its send ends
        self._stream_tasks: list[asyncio.Task[None]] = []
        self._streams = False
        self._load_balances = True
        #: a few recently finished orders, for late stream events; bounded
        self._recent: OrderedDict[str, Order] = OrderedDict()
        self._recent_max = recent_final
        #: pre-trade checks, in order; the first refusal wins (nothing journaled, nothing sent)
        self.risk_checks: list[RiskCheck] = (
            list(risk_checks) if risk_checks is not None
            else [FilterCheck(), BalanceCheck(self.balances)]
        )
        self.hub = EventHub()
        #: last state published per order (previous of the next event), and state changes
        #: noted but not yet journaled (SUBMITTED, PENDING_CANCEL: written with the next row)
        self._emitted: dict[str, OrderState] = {}
        self._noted: dict[str, list[tuple[OrderState | None, OrderState, str]]] = {}

    # -- lifecycle -------------------------------------------------------------------
    async def start(self, *, load_balances: bool = True, streams: bool = False) -> None:
        """Start every venue, recover, optionally follow private streams. An unreachable
        venue goes to ``unreachable`` (its orders not yet reconciled); others go on."""
        self._streams, self._load_balances = streams, load_balances
        names = list(self.venues)
        results = await asyncio.gather(
            *(self._start_venue(n) for n in names), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, GaplessError):
                raise result
        if streams:
            self._stream_tasks.append(asyncio.create_task(reconcile.maintain(self)))

    async def _start_venue(self, name: str) -> bool:
        """Start one venue, recover its orders, load its balances, follow its stream.
        ``ConfigError`` is raised (a bad config is not an outage); any other venue failure
        marks it unreachable and returns False."""
        venue = self.venues[name]
        try:
            await venue.start()
        except ConfigError:
            raise
        except GaplessError as exc:
            self.unreachable[name] = str(exc)
            log.info("venue %s is unreachable: %s", name, exc)  # callers report it
            return False
        self.unreachable.pop(name, None)
        await self.recover(name)
        if self._load_balances:
            try:
                self.balances.set_balances(name, await venue.balances())
            except GaplessError as exc:
                log.warning("balances of %s not loaded: %s", name, exc)
        if self._streams:
            self._stream_tasks.append(asyncio.create_task(reconcile.follow(self, venue)))
        return True

    async def close(self) -> None:
        self.hub.close()
        for t in self._stream_tasks:
            t.cancel()
        await asyncio.gather(*self._stream_tasks, return_exceptions=True)
        self._stream_tasks.clear()
        await asyncio.gather(*(v.close() for v in self.venues.values()), return_exceptions=True)

    def venue(self, name: str) -> Venue:
        try:
            venue = self.venues[name]
        except KeyError:
            raise InvalidIntent(f"venue {name!r} is not configured") from None
        reason = self.unreachable.get(name)
        if reason is not None:
            raise CircuitOpen(f"not connected ({reason})", venue=name)
        return venue

    # -- submission ------------------------------------------------------------------
    async def submit(self, intent: OrderIntent) -> Order:
        """Place an intent. Idempotent on ``intent_id``: a resubmission returns the order."""
        existing = self._orders.get(intent.intent_id) or self._recent.get(intent.intent_id)
        if existing is not None:
            return existing
        now = self._now()
        try:
            venue = self.venue(intent.venue)
            instrument = venue.instrument(intent.symbol)
            self._run_checks(intent, instrument)
        except LocalDenial:
            # an intent journaled by an earlier process is returned, not re-judged; the hot
            # path reads nothing: a known intent id is caught by record_new below
            known = await self.journal.get(intent.intent_id)
            if known is not None:
                self._track(known)
                return known
            raise
        cid = intent.client_order_id or venue.client_order_id(intent.intent_id)
        order = Order(
            intent_id=intent.intent_id,
            venue=intent.venue,
            symbol=intent.symbol,
            side=intent.side,
            type=intent.type,
            qty=intent.qty,
            price=intent.price,
            tif=intent.tif,
            client_order_id=cid,
        )
        order.times.intent = now
        order.times.checked = self._now()
        first = self._event(order, None, "")
        try:
            # write-ahead: durable before any send
            (seq,) = await self.journal.record_new(order, [first])
        except DuplicateIntent:
            self._release(intent.intent_id)
            raced = self._orders.get(intent.intent_id)
            if raced is None:
                raced = await self.journal.get(intent.intent_id)
                if raced is None:  # a different intent already holds this client order id
                    raise
                self._track(raced)
            return raced  # the same intent again (concurrently or after a restart): one order
        except BaseException:
            self._release(intent.intent_id)
            raise
        order.times.journaled = self._now()
        self._track(order)
        self.hub.publish([msgspec.structs.replace(first, seq=seq)])
        sent = self._sending[intent.intent_id] = asyncio.Event()
        try:
            await self._send(venue, order)
        finally:
            sent.set()
            del self._sending[intent.intent_id]
            self._release(intent.intent_id)
            self._settle(order)
        return order

    def _run_checks(self, intent: OrderIntent, instrument: Instrument) -> None:
        run_checks(self.risk_checks, intent, instrument)

    def _release(self, intent_id: str) -> None:
        for check in self.risk_checks:
            check.release(intent_id)

    async def _send(self, venue: Venue, order: Order) -> None:
        self._transition(order, S.SUBMITTED)
        for attempt in range(self.send_attempts):
            order.times.sent = self._now()
            try:
                report = await venue.place_order(order)
            except (Retryable, CircuitOpen) as exc:
                # provably not accepted (or never sent): safe to re-send, same client id
                wait = max(self.backoff.delay(attempt), exc.retry_after or 0)
                if attempt + 1 >= self.send_attempts or wait > self.max_retry_wait:
                    if isinstance(exc, CircuitOpen):
                        await self._finish(order, S.DENIED, f"not sent: {exc}")
                    else:
                        await self._finish(order, S.REJECTED, f"not accepted: {exc}")
                    return
                await self.clock.sleep(wait)
                continue
            except Rejected as exc:
                await self._finish(order, S.REJECTED, str(exc))
                return
            except LocalDenial as exc:  # refused inside the process: it never left
                await self._finish(order, S.DENIED, str(exc))
                return
            except OutcomeUnknown:
                await self._mark_unknown(order, venue)
                await self.resolve_unknown(order)
                return
            except GaplessError as exc:  # any other answer proves nothing: treat as unknown
                log.warning("create %s ended in %r: outcome unknown", order.intent_id, exc)
                await self._mark_unknown(order, venue)
                await self.resolve_unknown(order)
                return
            except Exception:  # a bug after the request may have left: never "failed"
                log.exception("create %s raised unexpectedly: outcome unknown", order.intent_id)
                await self._mark_unknown(order, venue)
                await self.resolve_unknown(order)
                return
            order.times.acked = self._now()
            await self.apply_report(order, report)
            return

    async def _finish(self, order: Order, state: OrderState, reason: str) -> None:
        order.reject_reason = reason
        transition(order, state)
        await self._persist(order, reason=reason)

    async def _finish_rejected(self, order: Order, reason: str) -> None:
        await self._finish(order, S.REJECTED, reason)

    def _bound_ns(self, venue: Venue) -> int | None:
        """Now plus the venue's request validity and the skew margin (ns), or None."""
        validity = venue.request_validity()
        if validity is None:
            return None
        return int((self.clock.time() + validity + self.skew_margin) * 1e9)

    async def _mark_unknown(self, order: Order, venue: Venue | None = None) -> None:
        """Enter UNKNOWN and journal the moment after which the last request sent for the
        order can no longer execute. Called when (or after) the last send ended, so "now"
        is never earlier than its signing time."""
        if order.state is not S.UNKNOWN:
            transition(order, S.UNKNOWN)
        if not order.times.expires and venue is not None:
            order.times.expires = self._bound_ns(venue) or 0
        await self._persist(order)

    async def resolve_unknown(self, order: Order, *, attempts: int | None = None) -> None:
        """Query by client id a bounded number of times; never re-send.

        Found -> adopt the venue's state. Not found -> REJECTED only if that query was sent
        after the order's validity bound (``times.expires``) had passed, i.e. the venue can
        no longer execute the request; otherwise, and when queries fail (timeouts, an open
        circuit, an unreachable venue), the order stays UNKNOWN in the journal for
        reconciliation (``settle_unknown``) to finish later.
        """
        try:
            venue = self.venue(order.venue)
        except GaplessError:
            return  # not reachable now: stays UNKNOWN, reconciled once it is
        bounded = venue.request_validity() is not None
        if bounded and not order.times.expires:  # journaled before a crash: bound from now
            order.times.expires = self._bound_ns(venue) or 0
            await self._persist(order)
        for attempt in range(attempts or self.unknown_query_attempts):
            asked_at = int(self.clock.time() * 1e9)
            try:
                report = await venue.query_order(order.symbol, order.client_order_id)
            except OrderNotFound:
                if order.state is S.UNKNOWN and bounded and asked_at > order.times.expires:
                    await self._finish_rejected(
                        order, "never acknowledged; not found at venue after its request "
                        "could no longer execute")
                    return
            except GaplessError as exc:  # includes CircuitOpen: a failed query, not a denial
                log.info("query of unknown %s failed: %s", order.intent_id, exc)
            else:
                await self.apply_report(order, report)
                return
            if attempt + 1 < (attempts or self.unknown_query_attempts):
                await self.clock.sleep(self.backoff.delay(attempt))

    # -- cancel / status -------------------------------------------------------------
    async def cancel(self, intent_id: str, *, max_wait: float = 65.0) -> Order:
        """Cancel by client order id. An UNKNOWN create is resolved first, waiting (up to
        ``max_wait``) for its validity bound if needed: then the venue's answer is final."""
        order = await self._load(intent_id)
        sending = self._sending.get(intent_id)
        if sending is not None:  # our own create is in flight: let it finish first
            await sending.wait()
        if order.state in (S.CREATED, S.SUBMITTED, S.UNKNOWN):
            await self._mark_unknown(order, self.venues.get(order.venue))
            await self.resolve_unknown(order)
            wait = order.times.expires / 1e9 - self.clock.time()
            if order.state is S.UNKNOWN and order.times.expires and 0 < wait <= max_wait:
                await self.clock.sleep(wait + 0.01)
                await self.resolve_unknown(order)
        if order.state.is_terminal or order.state is S.UNKNOWN:
            self._settle(order)
            return order  # finished, or its outcome is not known yet
        venue = self.venue(order.venue)
        async with self._lock(intent_id):
            previous = order.state
            if previous is not S.PENDING_CANCEL:
                self._transition(order, S.PENDING_CANCEL)
            queried = False
            try:
                report = await venue.cancel_order(order.symbol, order.client_order_id)
            except OrderNotFound:
                # gone already (filled, expired): ask the venue what it really is
                try:
                    report = await venue.query_order(order.symbol, order.client_order_id)
                    queried = True
                except OrderNotFound:
                    restore_after_failed_cancel(order, previous)
                    self._dead(order.venue, "cancel", order.client_order_id,
                               "venue does not know an order it acknowledged")
                    await self._persist(order)
                    return order
            except GaplessError:
                restore_after_failed_cancel(order, previous)  # failed or unknown cancel: status() settles it
                await self._persist(order)
                raise
            await self._apply(order, report, queried=queried)
        self._settle(order)
        return order

    async def status(self, intent_id: str, *, refresh: bool = True) -> Order:
        """The order as journaled, refreshed from its venue unless final (or not wanted)."""
        order = await self._load(intent_id)
        if refresh and not order.state.is_terminal and intent_id not in self._sending:
            if order.state in (S.CREATED, S.SUBMITTED, S.UNKNOWN):
                await self._mark_unknown(order)
                await self.resolve_unknown(order, attempts=1)
            else:
                try:
                    report = await self.venue(order.venue).query_order(
                        order.symbol, order.client_order_id)
                except OrderNotFound:
                    return order  # acknowledged before: a lookup gap, not a verdict
                await self.apply_report(order, report, queried=True)
        self._settle(order)
        return order

    async def refresh_balances(self, venue: str) -> dict[str, Balance]:
        balances = await self.venue(venue).balances()
        self.balances.set_balances(venue, balances)
        return balances

    # -- applying venue facts --------------------------------------------------------
    async def apply_report(
        self, order: Order, report: OrderReport, *, queried: bool = False
    ) -> None:
        async with self._lock(order.intent_id):
            await self._apply(order, report, queried=queried)

    async def _apply(self, order: Order, report: OrderReport, *, queried: bool = False) -> None:
        if report.venue_order_id and not order.venue_order_id:
            order.venue_order_id = report.venue_order_id
        new_fills: list[Fill] = []
        for f in report.fills:
            if self._apply_fill(order, f):
                new_fills.append(f)
        if report.filled_qty > order.filled_qty:
            # the report knows of fills we have not seen itemized: fetch them
            try:
                trades = await self.venue(order.venue).my_trades(order.symbol, order.client_order_id)
            except GaplessError:
                trades = []
            for f in trades:
                if self._apply_fill(order, f):
                    new_fills.append(f)
        try:
            apply_report_state(order, report.state, queried=queried)
        except InvalidTransition as exc:
            self._dead(order.venue, "report", report, str(exc))
        if order.state.is_terminal and not order.times.done:
            order.times.done = self._now()
        for f in new_fills:
            self._fill_behind(f, order.intent_id)
        await self._persist(order, fills=new_fills)

    def _apply_fill(self, order: Order, fill: Fill) -> bool:
        try:
            applied = apply_fill(order, fill)
        except (OverfillDetected, InvalidTransition) as exc:
            self._dead(order.venue, "fill", fill, str(exc))
            return False
        if applied and not order.times.first_fill:
            order.times.first_fill = self._now()
        return applied

    # -- reconciliation (the functions live in engine/reconcile.py) ---------------------
    async def recover(self, venue_name: str | None = None) -> list[Order]:
        """Reconcile every non-final journaled order (of one venue, or all reachable)."""
        return await reconcile.recover(self, venue_name)

    async def settle_unknown(self, venue_name: str | None = None) -> int:
        """One query per UNKNOWN order: adopt what the venue reports, reject what its
        validity bound proves dead. Returns how many settled."""
        return await reconcile.settle_unknown(self, venue_name)

    async def reconcile_open(self, venue_name: str) -> None:
        await reconcile.reconcile_open(self, venue_name)

    async def drain_dead_letters(self) -> list[DeadLetter]:
        """Drain every dead-letter queue and reconcile the venues concerned."""
        return await reconcile.drain_dead_letters(self)

    async def on_event(self, venue: Venue, event: object) -> None:
        """Apply one private-stream event (order report, fill, balance, reconnect)."""
        await reconcile.on_event(self, venue, event)

    # -- events ----------------------------------------------------------------------
    def events(self, maxsize: int = 1024) -> Subscription:
        """Subscribe to every ``OrderEvent`` from now on (async iterator; ``EventGap`` if
        this subscriber fell more than ``maxsize`` behind). Several may subscribe."""
        return self.hub.subscribe(maxsize)

    def _now(self) -> int:
        return int(self.clock.time() * 1e9)

    def _event(self, order: Order, previous: OrderState | None, reason: str,
               fill: Fill | None = None, state: OrderState | None = None) -> OrderEvent:
        self._emitted[order.intent_id] = state or order.state
        return OrderEvent(
            seq=0, intent_id=order.intent_id, venue=order.venue,
            client_order_id=order.client_order_id, previous=previous,
            state=state or order.state, fill=fill, reason=reason,
            times=msgspec.structs.replace(order.times), at=self._now())

    def _transition(self, order: Order, state: OrderState, reason: str = "") -> None:
        """A state change journaled with the order's next row (not worth its own write)."""
        previous = order.state
        transition(order, state)
        self._noted.setdefault(order.intent_id, []).append((previous, state, reason))

    def _fill_behind(self, fill: Fill, intent_id: str) -> None:
        def done(fut: asyncio.Future[bool]) -> None:
            if fut.cancelled() or fut.exception() is not None:
                log.error("journal write of a fill of %s failed: %s", intent_id,
                          None if fut.cancelled() else fut.exception())

        self.journal.record_fill_behind(fill, intent_id).add_done_callback(done)

    async def _persist(self, order: Order, *, reason: str = "",
                       fills: Sequence[Fill] = ()) -> None:
        """Journal the order row with the events describing what changed since the last
        one (noted transitions, the new state, each new fill), then publish them."""
        iid = order.intent_id
        events: list[OrderEvent] = []
        last = self._emitted.get(iid, order.state)
        for previous, state, why in self._noted.pop(iid, ()):
            events.append(self._event(order, previous, why, state=state))
            last = state
        rest = list(fills)
        if order.state is not last:  # the change carries the fill that caused it, if any
            events.append(self._event(order, last, reason, fill=rest.pop(0) if rest else None))
        for f in rest:
            events.append(self._event(order, order.state, "", fill=f))
        written = self.journal.update_behind(order, events)  # ordered; reads wait for it

        def done(fut: asyncio.Future[list[int]]) -> None:
            if fut.cancelled() or fut.exception() is not None:
                log.error("journal write of %s failed (recovery re-derives it): %s",
                          iid, None if fut.cancelled() else fut.exception())
            elif events:
                self.hub.publish([msgspec.structs.replace(e, seq=n)
                                  for e, n in zip(events, fut.result(), strict=True)])

        written.add_done_callback(done)

    # -- helpers ---------------------------------------------------------------------
    def _dead(self, venue: str, stream: str, item: object, reason: str) -> None:
        """Park what could not be applied (for reconciliation to drain), never drop it."""
        if isinstance(item, msgspec.Struct):
            raw: str = msgspec.json.encode(item).decode()
        else:
            raw = "" if item is None else str(item)
        self.dead_letters.put(venue, stream, raw, reason)

    def _track(self, order: Order) -> None:
        self._emitted.setdefault(order.intent_id, order.state)
        if order.state.is_terminal:
            self._remember(order)
            return
        self._orders[order.intent_id] = order
        self._by_cid[(order.venue, order.client_order_id)] = order

    def _settle(self, order: Order) -> None:
        """A final order leaves the live maps (the journal keeps it); memory stays flat."""
        if not order.state.is_terminal or order.intent_id in self._sending:
            return
        if self._orders.get(order.intent_id) is order:
            del self._orders[order.intent_id]
        key = (order.venue, order.client_order_id)
        if self._by_cid.get(key) is order:
            del self._by_cid[key]
        lock = self._locks.get(order.intent_id)
        if lock is not None and not lock.locked():
            del self._locks[order.intent_id]
        self._remember(order)

    def _remember(self, order: Order) -> None:
        self._recent[order.intent_id] = order
        self._recent.move_to_end(order.intent_id)
        while len(self._recent) > self._recent_max:
            gone, _ = self._recent.popitem(last=False)
            self._emitted.pop(gone, None)
            self._noted.pop(gone, None)

    def _lock(self, intent_id: str) -> asyncio.Lock:
        lock = self._locks.get(intent_id)
        if lock is None:
            lock = self._locks[intent_id] = asyncio.Lock()
        return lock

    async def _load(self, intent_id: str) -> Order:
        order = self._orders.get(intent_id) or self._recent.get(intent_id)
        if order is None:
            order = await self.journal.get(intent_id)
            if order is None:
                raise InvalidIntent(f"no order with intent id {intent_id!r}")
            self._track(order)
        return order

    def orders(self) -> list[Order]:
        """The orders held in memory: every non-final one (final ones are in the journal)."""
        return list(self._orders.values())

