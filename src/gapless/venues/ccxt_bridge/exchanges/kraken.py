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
* Envelope: every answer is ``{"error": [str...], "result": {...}}`` (``result`` absent
  on errors). Anything else is malformed, whatever ccxt would have made of it.
* Errors ccxt maps too loosely: ``EOrder:Post only order`` (a post-only order that
  would take liquidity) arrives as a plain ``ExchangeError`` and is ``InvalidOrder``.
  ``EOrder:Unknown order`` (ccxt: ``InvalidOrder`` outside ``cancel_order``) is already
  ``OrderNotFound`` in the shared error map.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gapless.model.errors import GaplessError, InvalidOrder, MalformedResponse, OrderNotFound
from gapless.venues.ccxt_bridge.quirks import Quirks

if TYPE_CHECKING:
    from gapless.venues.ccxt_bridge.adapter import CcxtVenue

_POST_ONLY = "EOrder:Post only order"


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
        return None

    def map_error(self, exc: BaseException, *, venue: str, op: str) -> GaplessError | None:
        if op == "create" and _POST_ONLY in str(exc):
            return InvalidOrder(str(exc)[:500], venue=venue, code="EOrder:Post only order")
        return None

    async def find_by_client_id(self, venue: CcxtVenue, symbol: str, cid: str) -> Any | None:
        ex = venue.ex
        vid = venue._vid_by_cid.get(cid)

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

        return await venue._call(lookup, op="query")

    async def _with_trades(self, venue: CcxtVenue, order: dict[str, Any], symbol: str) -> Any:
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
