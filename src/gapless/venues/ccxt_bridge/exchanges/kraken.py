"""Kraken Spot (REST ``/0``, WebSocket v2) quirks of the ccxt bridge.

* Lookup by ``cl_ord_id``: ccxt's ``fetch_order`` only takes a txid (its
  ``clientOrderId`` param becomes ``userref``). The bridge reads ``QueryOrders`` by the
  txid it learnt from an earlier answer; without one it asks ``OpenOrders`` and then
  ``ClosedOrders`` filtered by ``cl_ord_id`` (both accept the filter). An answer that
  lists only other orders is malformed, not "not found".
* Fills of an order: ``QueryOrders(trades=true)`` lists trade ids only, which ccxt turns
  into trades without qty or price. The bridge reads them with ``QueryTrades``
  (ccxt ``fetch_order_trades``). ccxt labels every trade fee as quote currency, while the
  fee currency is an order property (``oflags`` ``fcib``/``fciq``, which ccxt's order
  parser does read): the order's fee currency is copied onto its trades.
* Nonces: ccxt signs with the wall clock in milliseconds, so two private requests in the
  same millisecond carry the same nonce and Kraken refuses the second
  (``EAPI:Invalid nonce``); concurrent requests may also arrive out of nonce order. The
  bridge makes the nonce strictly increasing and sends one private request at a time
  per venue (public requests stay concurrent). ccxt signs with
  ``incrementing_nonce()``, which builds on that ``nonce()`` and never repeats within
  one instance either.
* Validity bound: ccxt 4.5 sends no ``deadline``. The bridge adds one to every signed
  ``AddOrder`` (inside the signed body, fresh per signing): the venue's now (ccxt's
  ``timeDifference``, read at start: ``sync_clock``) + ``recv_window`` (2000..60000 ms,
  Kraken's documented range), so ``request_validity`` is ``recv_window`` / 1000. The
  venue's ``Time`` is whole seconds (ccxt takes ``unixtime`` as read when the answer
  arrived): the venue's now is taken as the middle of that second, within 0.5 s plus the
  round trip, inside the engine's skew margin (the native adapter does the same). Kraken's
  nonce rule still refuses a create overtaken by a later answered request too.
* Envelope: every answer is ``{"error": [str...], "result": {...}}`` (``result`` absent
  on errors), and Kraken's REST sends every amount, price, fee and balance as a decimal
  string (and states, pairs, ids and flags as strings). Anything else is malformed:
  ccxt would read a mistyped balance or order as missing and drop it silently.
* Private stream (WS v2 ``executions``): ccxt.pro sends ``trade`` executions to
  ``watch_my_trades`` only, so the bridge watches both; each trade execution becomes a
  report with that fill and the order's ``order_status``/``cum_qty`` at that fill (its
  ``exec_id`` is the REST trade id, so stream and REST fills deduplicate). ccxt.pro takes
  a streamed order's client id from ``order_userref`` and leaves ``filled`` empty: the
  bridge reads ``cl_ord_id`` and ``cum_qty`` from the raw execution.
* Errors ccxt maps too loosely: ``EOrder:Post only order`` (a post-only order that
  would take liquidity) arrives as a plain ``ExchangeError`` and is ``InvalidOrder``.
  ``EOrder:Unknown order`` (ccxt: ``InvalidOrder`` outside ``cancel_order``) is already
  ``OrderNotFound`` in the shared error map.
"""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal, InvalidOperation
from typing import Any

from gapless.model import OrderReport, OrderState
from gapless.model.errors import (
    ConfigError,
    GaplessError,
    InvalidOrder,
    MalformedResponse,
    OrderNotFound,
)
from gapless.venues.ccxt_bridge.profiles import Profile
from gapless.venues.ccxt_bridge.quirks import Bridge, Quirks

_POST_ONLY = "EOrder:Post only order"

PROFILE = Profile(
    create_param="cl_ord_id",
    cancel_param="cl_ord_id",
    id_pattern=r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    id_max=36,
    id_alphabet="uuid",
    recv_window_max_ms=60000,  # AddOrder deadline: max now() + 60 seconds
    sync_clock=True,
)
#: AddOrder's ``deadline`` must lie at least this far ahead (docs: min now() + 2 seconds)
DEADLINE_MIN_MS = 2000


def rfc3339_ms(unix_ms: int) -> str:
    """``deadline``'s format: RFC3339 UTC to the millisecond."""
    secs, ms = divmod(int(unix_ms), 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{ms:03d}Z"
#: REST fields that are always strings, wherever they appear in a result
_STRING_FIELDS = frozenset({
    "balance", "hold_trade", "credit", "credit_used", "vol", "vol_exec", "cost", "fee",
    "price", "stopprice", "limitprice", "margin", "status", "pair", "type", "ordertype",
    "oflags", "cl_ord_id", "ordertxid", "order", "misc",
})
_STATES = {"new": OrderState.ACCEPTED, "pending_new": OrderState.ACCEPTED,
           "partially_filled": OrderState.PARTIALLY_FILLED, "filled": OrderState.FILLED,
           "canceled": OrderState.CANCELED, "expired": OrderState.CANCELED}


def _mistyped(obj: Any, depth: int) -> str | None:
    """The first field of a Kraken REST result whose type is wrong (``None``: all fine)."""
    if depth <= 0:
        return None
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in _STRING_FIELDS and v is not None and not isinstance(v, str):
                return f"field {k!r} is not a string"
            if k == "descr" and not isinstance(v, dict):
                return "field 'descr' is not an object"
            problem = _mistyped(v, depth - 1)
            if problem is not None:
                return problem
    elif isinstance(obj, list):
        for v in obj[:200]:
            problem = _mistyped(v, depth - 1)
            if problem is not None:
                return problem
    return None


def _num(value: Any, what: str, venue: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise MalformedResponse(f"execution {what} is not a number", venue=venue)
    try:
        d = Decimal(repr(value) if isinstance(value, float) else value)
    except InvalidOperation:
        raise MalformedResponse(f"execution {what} is not a number", venue=venue) from None
    if not d.is_finite():
        raise MalformedResponse(f"execution {what} is not finite", venue=venue)
    return d


class KrakenQuirks(Quirks):
    def envelope_problem(self, response: Any) -> str | None:
        if not isinstance(response, dict):
            return "answer is not a JSON object"
        errors = response.get("error")
        if not isinstance(errors, list) or not all(isinstance(e, str) for e in errors):
            return "error missing or not a list of strings"
        if "result" in response and not isinstance(response["result"], dict):
            return "result is not an object"
        if not errors and "result" not in response:
            return "neither error nor result"
        return _mistyped(response.get("result"), 5)

    watch_trades = True

    def prepare(self, venue: Bridge) -> None:
        ex = venue.ex
        last = 0

        def nonce() -> int:
            nonlocal last
            last = max(int(time.time() * 1000), last + 1)
            return last

        ex.nonce = nonce
        fetch2 = ex.fetch2
        lock = asyncio.Lock()

        async def serialized(path: Any, api: Any = "public", method: str = "GET",
                             params: Any = None, config: Any = None) -> Any:
            if api == "private" or (isinstance(api, list | tuple) and "private" in api):
                async with lock:
                    return await fetch2(path, api, method, params, config)
            return await fetch2(path, api, method, params, config)

        ex.fetch2 = serialized

    def sign_validity(self, venue: Bridge, recv_window_ms: int) -> float | None:
        """Every signed AddOrder gets ``deadline`` = venue now + ``recv_window``."""
        if recv_window_ms < DEADLINE_MIN_MS:
            raise ConfigError(
                f"ccxt kraken: option recv_window must be a whole number from "
                f"{DEADLINE_MIN_MS} to {PROFILE.recv_window_max_ms}, got {recv_window_ms}",
                venue=venue.name)
        ex = venue.ex
        sign = ex.sign

        def with_deadline(path: Any, api: Any = "public", method: str = "GET",
                          params: Any = None) -> Any:
            params = {} if params is None else params
            private = api == "private" or (isinstance(api, list | tuple) and "private" in api)
            if private and path == "AddOrder" and "deadline" not in params:
                # the middle of the whole second ``Time`` answered (see the docstring)
                venue_now = ex.milliseconds() - int(ex.options.get("timeDifference") or 0) + 500
                params = {**params, "deadline": rfc3339_ms(venue_now + recv_window_ms)}
            return sign(path, api, method, params)

        ex.sign = with_deadline
        return recv_window_ms / 1000

    def normalize_order(self, venue: Bridge, order: Any) -> Any:
        info = order.get("info") if isinstance(order, dict) else None
        if not isinstance(info, dict) or "exec_type" not in info:
            return order  # REST orders: ccxt reads cl_ord_id and vol_exec itself
        out = dict(order)
        cid = info.get("cl_ord_id")
        if isinstance(cid, str) and cid:
            out["clientOrderId"] = cid
        if out.get("filled") is None and info.get("cum_qty") is not None:
            out["filled"] = _num(info.get("cum_qty"), "cum_qty", venue.name)
        return out

    def report_from_trade(self, venue: Bridge, trade: Any) -> OrderReport | None:
        info = trade.get("info") if isinstance(trade, dict) else None
        if not isinstance(info, dict):
            raise MalformedResponse("streamed execution without its row", venue=venue.name)
        symbol = trade.get("symbol")
        if not isinstance(symbol, str) or symbol not in venue.instruments:
            return None
        vid, cid = info.get("order_id"), info.get("cl_ord_id")
        if not isinstance(vid, str) or not vid:
            raise MalformedResponse("execution without order_id", venue=venue.name)
        cid = cid if isinstance(cid, str) else ""
        fill = venue.fill(trade, symbol, None, cid, vid)
        if fill is None:
            return None
        state = _STATES.get(str(info.get("order_status")))
        if state is None:
            raise MalformedResponse("execution with unknown order_status", venue=venue.name)
        inst = venue.instruments[symbol]
        cum = _num(info.get("cum_qty"), "cum_qty", venue.name)
        qty = _num(info.get("order_qty"), "order_qty", venue.name)
        cost = _num(info.get("cum_cost"), "cum_cost", venue.name)
        price = _num(info.get("limit_price"), "limit_price", venue.name)
        if cum is None or qty is None:
            raise MalformedResponse("trade execution without cum_qty/order_qty", venue=venue.name)
        if inst.step_size > 0:
            cum, qty = cum.quantize(inst.step_size), qty.quantize(inst.step_size)
        return OrderReport(
            venue=venue.name,
            symbol=symbol,
            client_order_id=cid,
            venue_order_id=vid,
            state=state,
            side=fill.side,
            qty=qty,
            price=None if info.get("order_type") == "market" else price,
            filled_qty=cum,
            quote_filled=cost if cost is not None else Decimal(0),
            fills=(fill,),
            ts_ms=fill.ts_ms,
        )

    def map_error(self, exc: BaseException, *, venue: str, op: str) -> GaplessError | None:
        if op == "create" and _POST_ONLY in str(exc):
            return InvalidOrder(str(exc)[:500], venue=venue, code="EOrder:Post only order")
        return None

    async def find_by_client_id(self, venue: Bridge, symbol: str, cid: str) -> Any | None:
        ex = venue.ex
        vid = venue.known_venue_order_id(cid)

        async def lookup() -> Any:
            order: Any = None
            if vid:
                order = await ex.fetch_order(vid, symbol)
                if not isinstance(order, dict) or order.get("clientOrderId") != cid:
                    raise MalformedResponse(
                        "QueryOrders answered an order with another cl_ord_id", venue=venue.name
                    )
            else:
                for fetch in (ex.fetch_open_orders, ex.fetch_closed_orders):
                    rows = await fetch(symbol, None, None, {"clientOrderId": cid})
                    if not isinstance(rows, list):
                        raise MalformedResponse("order list is not a list", venue=venue.name)
                    mine = [o for o in rows if isinstance(o, dict) and o.get("clientOrderId") == cid]
                    if mine:
                        order = mine[0]
                        break
                    if rows:
                        raise MalformedResponse(
                            "lookup by cl_ord_id answered other orders", venue=venue.name
                        )
                if order is None:
                    raise OrderNotFound(f"no order with cl_ord_id {cid!r}", venue=venue.name)
            return await self._with_trades(venue, order, symbol)

        return await venue.call(lookup, op="query")

    async def _with_trades(self, venue: Bridge, order: dict[str, Any], symbol: str) -> Any:
        """The order with its trades read in full (``QueryTrades``), fee currency fixed."""
        info = order.get("info")
        ids = info.get("trades") if isinstance(info, dict) else None
        filled = order.get("filled")
        if not ids and isinstance(filled, int | float) and filled > 0:
            # OpenOrders / ClosedOrders list no trade ids: ask QueryOrders for them
            full = await venue.ex.fetch_order(str(order.get("id")), symbol)
            info = full.get("info") if isinstance(full, dict) else None
            ids = info.get("trades") if isinstance(info, dict) else None
        if not ids:
            return {**order, "trades": []}
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise MalformedResponse("order trades are not a list of ids", venue=venue.name)
        trades = await venue.ex.fetch_order_trades(str(order.get("id")), symbol, None, None,
                                                   {"trades": ids})
        if not isinstance(trades, list) or len(trades) != len(set(ids)):
            raise MalformedResponse("QueryTrades did not return the order's trades",
                                    venue=venue.name)
        fee = order.get("fee")
        currency = fee.get("currency") if isinstance(fee, dict) else None
        if isinstance(currency, str) and currency:
            trades = [self._fee_in(t, currency) for t in trades]
        return {**order, "trades": trades}

    @staticmethod
    def _fee_in(trade: Any, currency: str) -> Any:
        if not isinstance(trade, dict) or not isinstance(trade.get("fee"), dict):
            return trade
        return {**trade, "fee": {**trade["fee"], "currency": currency}}


QUIRKS = KrakenQuirks
