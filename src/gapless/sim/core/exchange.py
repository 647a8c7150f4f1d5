"""The matching engine: accounts, books, orders, trades, events.

Venue-neutral. Skins translate their wire formats into calls on :class:`Exchange` and
translate the emitted events back into their stream messages.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from .accounts import Account, InsufficientFunds
from .book import OrderBook
from .faults import Faults
from .models import (
    BUY,
    CANCELED,
    EXPIRED,
    FILLED,
    FOK,
    GTC,
    IOC,
    LIMIT,
    LIMIT_MAKER,
    MARKET,
    MM_ACCOUNT,
    NEW,
    PARTIALLY_FILLED,
    SELL,
    BalanceEvent,
    BookDelta,
    Event,
    Fill,
    Order,
    OrderEvent,
    Rejection,
    SymbolSpec,
    TradeEvent,
    UnknownOrder,
)
from .symbols import default_balances, default_symbols

ZERO = Decimal(0)
FEE_QUANT = Decimal("0.00000001")


def floor_to(value: Decimal, step: Decimal) -> Decimal:
    return (value / step).to_integral_value(rounding=ROUND_DOWN) * step


def is_multiple(value: Decimal, base: Decimal, step: Decimal) -> bool:
    if step == 0:
        return True
    return (value - base) % step == 0


Subscriber = Callable[[Event], None]


class Exchange:
    """One venue's matching engine. ``time_ms`` includes the injected clock skew."""

    TEST_ACCOUNT = "test"

    def __init__(self, *, symbols: list[SymbolSpec] | None = None,
                 balances: dict[str, Decimal] | None = None,
                 maker_fee: Decimal = Decimal("0.001"), taker_fee: Decimal = Decimal("0.001"),
                 faults: Faults | None = None) -> None:
        self.specs: dict[str, SymbolSpec] = {s.symbol: s for s in (symbols or default_symbols())}
        self._initial_balances = dict(balances or default_balances())
        self.maker_fee = maker_fee
        self.taker_fee = taker_fee
        self.faults = faults or Faults()
        self._subscribers: list[Subscriber] = []
        self.reset()

    # ------------------------------------------------------------------ state
    def reset(self) -> None:
        self.accounts: dict[str, Account] = {
            self.TEST_ACCOUNT: Account(self.TEST_ACCOUNT, self._initial_balances),
            MM_ACCOUNT: Account(MM_ACCOUNT, unlimited=True),
        }
        old = getattr(self, "books", {})
        self.books: dict[str, OrderBook] = {s: OrderBook(s) for s in self.specs}
        for s, b in old.items():  # book update ids stay monotonic across resets
            self.books[s].update_id = b.update_id
        self.orders: dict[int, Order] = {}
        self.fills: list[Fill] = []  # user-side fills (both sides when users trade each other)
        self._order_ids = itertools.count(1)
        self._trade_ids = itertools.count(1)
        self._seq = itertools.count(1)
        self._open_client_ids: dict[tuple[str, str], int] = {}
        self._client_ids: dict[tuple[str, str], int] = {}  # latest order per client id

    def time_ms(self) -> int:
        return int(time.time() * 1000) + self.faults.clock_skew_ms

    def subscribe(self, fn: Subscriber) -> Callable[[], None]:
        self._subscribers.append(fn)

        def unsubscribe() -> None:
            if fn in self._subscribers:
                self._subscribers.remove(fn)

        return unsubscribe

    def _emit(self, ev: Event) -> None:
        for fn in list(self._subscribers):
            fn(ev)

    def account(self, name: str = TEST_ACCOUNT) -> Account:
        acc = self.accounts.get(name)
        if acc is None:
            acc = Account(name)
            self.accounts[name] = acc
        return acc

    def spec(self, symbol: str) -> SymbolSpec:
        try:
            return self.specs[symbol]
        except KeyError:
            raise Rejection("unknown_symbol") from None

    def open_orders(self, account: str | None = TEST_ACCOUNT, symbol: str | None = None) -> list[Order]:
        return [o for o in self.orders.values() if o.is_open and not o.is_synthetic
                and (account is None or o.account == account)
                and (symbol is None or o.symbol == symbol)]

    def user_orders(self, account: str = TEST_ACCOUNT, symbol: str | None = None) -> list[Order]:
        return [o for o in self.orders.values() if o.account == account
                and (symbol is None or o.symbol == symbol)]

    def user_fills(self, account: str = TEST_ACCOUNT, symbol: str | None = None) -> list[Fill]:
        return [f for f in self.fills if f.account == account
                and (symbol is None or f.symbol == symbol)]

    def find_order(self, account: str, symbol: str | None, order_id: int | None = None,
                   client_id: str | None = None) -> Order:
        order: Order | None = None
        if order_id is not None:
            order = self.orders.get(order_id)
        elif client_id is not None:
            oid = self._client_ids.get((account, client_id))
            order = self.orders.get(oid) if oid is not None else None
        if order is None or order.account != account or (symbol is not None and order.symbol != symbol):
            raise UnknownOrder()
        return order

    def depth(self, symbol: str, limit: int = 100) -> tuple[int, list[tuple[Decimal, Decimal]],
                                                          list[tuple[Decimal, Decimal]]]:
        book = self.books[symbol]
        return book.update_id, book.bids.depth(limit), book.asks.depth(limit)

    def best_bid_ask(self, symbol: str) -> tuple[tuple[Decimal, Decimal] | None,
                                                 tuple[Decimal, Decimal] | None]:
        book = self.books[symbol]
        b, a = book.bids.best(), book.asks.best()
        return ((b, book.bids.level_qty(b)) if b is not None else None,
                (a, book.asks.level_qty(a)) if a is not None else None)

    # ------------------------------------------------------------ validation
    def check_filters(self, spec: SymbolSpec, type_: str, price: Decimal | None,
                      qty: Decimal | None, quote_qty: Decimal | None) -> None:
        if type_ in (LIMIT, LIMIT_MAKER):
            if price is None or price <= 0:
                raise Rejection("bad_param", "price")
            if qty is None or qty <= 0:
                raise Rejection("bad_param", "quantity")
            if price < spec.min_price or price > spec.max_price or not is_multiple(price, spec.min_price, spec.tick):
                raise Rejection("filter", "PRICE_FILTER")
            if qty < spec.min_qty or qty > spec.max_qty or not is_multiple(qty, spec.min_qty, spec.step):
                raise Rejection("filter", "LOT_SIZE")
            if price * qty < spec.min_notional or price * qty > spec.max_notional:
                raise Rejection("filter", "NOTIONAL")
        elif type_ == MARKET:
            if qty is not None:
                if qty <= 0:
                    raise Rejection("bad_param", "quantity")
                if qty < spec.min_qty or qty > spec.max_qty or not is_multiple(qty, spec.min_qty, spec.step):
                    raise Rejection("filter", "MARKET_LOT_SIZE")
            elif quote_qty is not None:
                if quote_qty <= 0:
                    raise Rejection("bad_param", "quoteOrderQty")
                if quote_qty < spec.min_notional:
                    raise Rejection("filter", "NOTIONAL")
            else:
                raise Rejection("bad_param", "quantity")
        else:
            raise Rejection("bad_param", "type")

    # -------------------------------------------------------------- commands
    def place_order(self, *, account: str = TEST_ACCOUNT, symbol: str, side: str, type: str,
                    qty: Decimal | None = None, quote_qty: Decimal | None = None,
                    price: Decimal | None = None, tif: str = GTC, client_id: str | None = None,
                    user_only: bool = False, validate: bool = True, test: bool = False) -> Order:
        """Place an order. Raises :class:`Rejection` when the engine refuses it.

        ``user_only`` makes the order match only non-synthetic resting orders (used by
        admin synthetic takers); ``test`` validates without booking anything.
        """
        spec = self.spec(symbol)
        if side not in (BUY, SELL):
            raise Rejection("bad_param", "side")
        if tif not in (GTC, IOC, FOK):
            raise Rejection("bad_param", "timeInForce")
        if validate:
            self.check_filters(spec, type, price, qty, quote_qty)
        acc = self.account(account)
        if client_id and (account, client_id) in self._open_client_ids:
            raise Rejection("duplicate_client_id")
        book = self.books[symbol]
        opposite = book.opposite(side)
        best = opposite.best()
        if type == LIMIT_MAKER and best is not None and price is not None and (
                (side == BUY and price >= best) or (side == SELL and price <= best)):
            raise Rejection("would_take")

        limit_price = price if type != MARKET else None
        max_qty = qty
        fraction = None if acc.unlimited or test else self.faults.take_partial_fill()
        if fraction is not None and max_qty is not None:
            cut = floor_to(max_qty * fraction, spec.step)
            max_qty = cut if cut > 0 else spec.step

        plan = self._plan(book, side, limit_price, max_qty, quote_qty, spec, user_only)
        plan_qty = sum((q for _, q in plan), ZERO)
        plan_cost = sum((m.price * q for m, q in plan if m.price is not None), ZERO)
        if fraction is not None and quote_qty is not None and qty is None:
            # partial fill fault on a quote-sized market order: keep the first part only
            keep = floor_to(plan_qty * fraction, spec.step)
            plan = self._truncate(plan, keep)
            plan_qty = sum((q for _, q in plan), ZERO)
            plan_cost = sum((m.price * q for m, q in plan if m.price is not None), ZERO)
        fok_fail = tif == FOK and qty is not None and plan_qty < qty

        # funds
        if side == BUY:
            lock_asset = spec.quote
            lock_amt = (price * qty) if (type != MARKET and price is not None and qty is not None) else plan_cost
        else:
            lock_asset = spec.base
            lock_amt = qty if qty is not None else plan_qty
        if fok_fail:
            lock_amt = ZERO
        if not acc.unlimited and acc.available(lock_asset) < lock_amt:
            raise Rejection("insufficient_balance")
        if test:
            return Order(0, client_id or "", account, symbol, side, type, tif, price, qty, quote_qty,
                         self.time_ms(), self.time_ms())

        now = self.time_ms()
        oid = next(self._order_ids)
        order = Order(oid, client_id or f"sim{oid:012d}", account, symbol, side, type,
                      tif if type == LIMIT else GTC, price, qty, quote_qty, now, now,
                      seq=next(self._seq))
        self.orders[oid] = order
        self._client_ids[(account, order.client_id)] = oid
        try:
            acc.lock(lock_asset, lock_amt)
        except InsufficientFunds:  # pragma: no cover - checked above
            raise Rejection("insufficient_balance") from None
        order.locked = lock_amt if not acc.unlimited else ZERO
        touched: dict[str, set[str]] = {}
        changed: set[tuple[str, Decimal]] = set()
        self._emit_order(order, NEW, None)
        if not fok_fail:
            for maker, q in plan:
                self._execute(book, spec, order, maker, q, touched, changed)
        # what is left
        rests = (type in (LIMIT, LIMIT_MAKER) and order.tif == GTC and order.remaining > 0
                 and not fok_fail)
        if order.qty is not None and order.remaining == 0:
            order.status = FILLED
        elif rests:
            order.status = PARTIALLY_FILLED if order.filled > 0 else NEW
            book.side_for(side).add(order)
            changed.add((side, order.price))  # type: ignore[arg-type]
        elif type == MARKET and qty is None and not fok_fail and plan and (
                quote_qty is not None and (quote_qty - order.cum_quote) < spec.min_notional
                and fraction is None):
            order.status = FILLED
        else:
            order.status = EXPIRED
        if not order.is_open:
            self._release(order, acc, spec)
            if order.client_id:
                self._open_client_ids.pop((account, order.client_id), None)
        else:
            self._open_client_ids[(account, order.client_id)] = oid
        touched.setdefault(account, set()).update({spec.base, spec.quote})
        if order.status == EXPIRED:
            self._emit_order(order, EXPIRED, None)
        self._emit_book(book, changed)
        self._emit_balances(touched)
        return order

    def cancel_order(self, account: str, symbol: str | None, order_id: int | None = None,
                     client_id: str | None = None) -> Order:
        order = self.find_order(account, symbol, order_id, client_id)
        if not order.is_open:
            raise UnknownOrder()
        return self._cancel(order, CANCELED)

    def cancel_all(self, account: str, symbol: str | None = None) -> list[Order]:
        return [self._cancel(o, CANCELED) for o in self.open_orders(account, symbol)]

    def _cancel(self, order: Order, status: str) -> Order:
        spec = self.specs[order.symbol]
        book = self.books[order.symbol]
        book.side_for(order.side).remove(order)
        order.status = status
        order.updated = self.time_ms()
        acc = self.account(order.account)
        self._release(order, acc, spec)
        self._open_client_ids.pop((order.account, order.client_id), None)
        self._emit_order(order, status, None)
        self._emit_book(book, {(order.side, order.price)})  # type: ignore[arg-type]
        self._emit_balances({order.account: {spec.base, spec.quote}})
        return order

    # --------------------------------------------------- synthetic liquidity
    def add_resting(self, symbol: str, side: str, price: Decimal, qty: Decimal) -> Order:
        """Book a synthetic (liquidity-provider) order without matching."""
        book = self.books[symbol]
        now = self.time_ms()
        oid = next(self._order_ids)
        order = Order(oid, "", MM_ACCOUNT, symbol, side, LIMIT, GTC, price, qty, None, now, now,
                      seq=next(self._seq))
        book.side_for(side).add(order)
        self.orders[oid] = order
        return order

    def replace_synthetic(self, symbol: str, levels: list[tuple[str, Decimal, Decimal]]) -> None:
        """Remove all synthetic resting orders of ``symbol`` and book ``levels`` (one delta)."""
        book = self.books[symbol]
        changed: set[tuple[str, Decimal]] = set()
        for side in (book.bids, book.asks):
            for o in list(side.orders()):
                if o.is_synthetic:
                    side.remove(o)
                    o.status = CANCELED
                    self.orders.pop(o.order_id, None)
                    changed.add((BUY if side.is_bid else SELL, o.price))  # type: ignore[arg-type]
        for side_name, price, qty in levels:
            self.add_resting(symbol, side_name, price, qty)
            changed.add((side_name, price))
        self._emit_book(book, changed)

    def synthetic_take(self, symbol: str, side: str, qty: Decimal, price: Decimal | None = None,
                       *, user_only: bool = True) -> Order:
        """A taker from the liquidity account (infinite funds) crossing the book."""
        return self.place_order(account=MM_ACCOUNT, symbol=symbol, side=side,
                                type=LIMIT if price is not None else MARKET, qty=qty, price=price,
                                tif=IOC, user_only=user_only, validate=False)

    # -------------------------------------------------------------- internals
    def _plan(self, book: OrderBook, side: str, limit: Decimal | None, max_qty: Decimal | None,
              max_quote: Decimal | None, spec: SymbolSpec, user_only: bool) -> list[tuple[Order, Decimal]]:
        plan: list[tuple[Order, Decimal]] = []
        left_qty = max_qty
        left_quote = max_quote
        opposite = book.opposite(side)
        for p in opposite.prices():
            if limit is not None and ((side == BUY and p > limit) or (side == SELL and p < limit)):
                break
            for maker in list(opposite.levels.get(p, ())):
                if user_only and maker.is_synthetic:
                    continue
                q = maker.remaining
                if left_qty is not None:
                    q = min(q, left_qty)
                elif left_quote is not None:
                    q = min(q, floor_to(left_quote / p, spec.step))
                if q <= 0:
                    return plan
                plan.append((maker, q))
                if left_qty is not None:
                    left_qty -= q
                    if left_qty <= 0:
                        return plan
                elif left_quote is not None:
                    left_quote -= q * p
        return plan

    @staticmethod
    def _truncate(plan: list[tuple[Order, Decimal]], keep: Decimal) -> list[tuple[Order, Decimal]]:
        out: list[tuple[Order, Decimal]] = []
        for m, q in plan:
            if keep <= 0:
                break
            take = min(q, keep)
            out.append((m, take))
            keep -= take
        return out

    def _execute(self, book: OrderBook, spec: SymbolSpec, taker: Order, maker: Order, qty: Decimal,
                 touched: dict[str, set[str]], changed: set[tuple[str, Decimal]]) -> None:
        assert maker.price is not None
        price = maker.price
        now = self.time_ms()
        trade_id = next(self._trade_ids)
        for order, is_maker in ((maker, True), (taker, False)):
            rate = self.maker_fee if is_maker else self.taker_fee
            acc = self.account(order.account)
            quote_amt = price * qty
            if order.side == BUY:
                fee_asset = spec.base
                fee = (qty * rate).quantize(FEE_QUANT, rounding=ROUND_HALF_UP)
                if not acc.unlimited:
                    release = qty * order.price if order.type != MARKET and order.price is not None else quote_amt
                    release = min(release, order.locked)
                    acc.spend_locked(spec.quote, release)
                    order.locked -= release
                    acc.credit(spec.quote, release - quote_amt)
                    acc.credit(spec.base, qty - fee)
            else:
                fee_asset = spec.quote
                fee = (quote_amt * rate).quantize(FEE_QUANT, rounding=ROUND_HALF_UP)
                if not acc.unlimited:
                    release = min(qty, order.locked)
                    acc.spend_locked(spec.base, release)
                    order.locked -= release
                    acc.credit(spec.quote, quote_amt - fee)
            if acc.unlimited:
                fee = ZERO
            order.filled += qty
            order.cum_quote += quote_amt
            order.updated = now
            fill = Fill(trade_id, order.order_id, spec.symbol, order.side, price, qty, quote_amt,
                        fee, fee_asset, is_maker, now, order.account)
            order.fills.append(fill)
            if not order.is_synthetic:
                self.fills.append(fill)
                touched.setdefault(order.account, set()).update({spec.base, spec.quote})
            if is_maker:
                if order.remaining == 0:
                    order.status = FILLED
                    book.opposite(taker.side).remove(order)
                    self._open_client_ids.pop((order.account, order.client_id), None)
                    self._release(order, acc, spec)
                else:
                    order.status = PARTIALLY_FILLED
                changed.add((order.side, price))
            else:
                order.status = FILLED if (order.qty is not None and order.remaining == 0) else PARTIALLY_FILLED
            self._emit_order(order, "TRADE", fill)
        self._emit(TradeEvent(spec.symbol, trade_id, price, qty, taker.side, now))

    def _release(self, order: Order, acc: Account, spec: SymbolSpec) -> None:
        if order.locked > 0:
            acc.unlock(spec.quote if order.side == BUY else spec.base, order.locked)
            order.locked = ZERO

    def _emit_order(self, order: Order, exec_type: str, fill: Fill | None) -> None:
        if order.is_synthetic or not self._subscribers:
            return
        self._emit(OrderEvent(order, exec_type, fill, self.time_ms()))

    def _emit_balances(self, touched: dict[str, set[str]]) -> None:
        now = self.time_ms()
        for name, assets in touched.items():
            acc = self.accounts.get(name)
            if acc is None or acc.unlimited:
                continue
            self._emit(BalanceEvent(name, acc.snapshot(assets), now))

    def _emit_book(self, book: OrderBook, changed: set[tuple[str, Decimal]]) -> None:
        if not changed:
            return
        book.update_id += 1
        bids = sorted(((p, book.bids.level_qty(p)) for s, p in changed if s == BUY), reverse=True)
        asks = sorted((p, book.asks.level_qty(p)) for s, p in changed if s == SELL)
        self._emit(BookDelta(book.symbol, book.update_id, book.update_id, bids, asks, self.time_ms()))

    # ----------------------------------------------------------------- views
    def state(self, account: str = TEST_ACCOUNT) -> dict[str, object]:
        acc = self.account(account)
        return {
            "balances": {a: {"free": str(f), "locked": str(lk)} for a, (f, lk) in acc.snapshot().items()},
            "orders": [order_json(o) for o in self.user_orders(account)],
            "trades": [fill_json(f) for f in self.user_fills(account)],
        }


def order_json(o: Order) -> dict[str, object]:
    return {
        "order_id": o.order_id, "client_id": o.client_id, "symbol": o.symbol, "side": o.side,
        "type": o.type, "tif": o.tif, "price": None if o.price is None else str(o.price),
        "qty": None if o.qty is None else str(o.qty),
        "quote_qty": None if o.quote_qty is None else str(o.quote_qty),
        "status": o.status, "filled": str(o.filled), "cum_quote": str(o.cum_quote),
        "created": o.created, "updated": o.updated,
        "trade_ids": [f.trade_id for f in o.fills],
    }


def fill_json(f: Fill) -> dict[str, object]:
    return {
        "trade_id": f.trade_id, "order_id": f.order_id, "symbol": f.symbol, "side": f.side,
        "price": str(f.price), "qty": str(f.qty), "quote_qty": str(f.quote_qty), "fee": str(f.fee),
        "fee_asset": f.fee_asset, "is_maker": f.is_maker, "time": f.time,
    }
