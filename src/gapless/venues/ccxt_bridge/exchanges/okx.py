"""OKX V5 (spot, cash) quirks of the ccxt bridge.

* Envelope: every answer is ``{"code": "<digits>", "msg": str, "data": [...]}``.
  ccxt reads a missing or mistyped ``code`` as a business error (``ExchangeError``); the
  bridge reports it as a malformed answer (outcome unknown on a create) instead.
* Private fills: every push of the ``orders`` channel that reports a fill carries the
  whole order (``state``, ``accFillSz``, ``clOrdId``) plus that one fill (``tradeId``,
  ``fillPx``, ``fillSz``, ``fillFee``). ccxt.pro keeps those pushes as trades too
  (``watch_my_trades``), so each one becomes a report with its fill and the order's
  state at that fill.
* Validity bound: ccxt 4.5 signs no deadline. OKX takes an optional ``expTime`` header
  (Unix ms) on place / amend (single and batch) and does not process a request that
  arrives after it; the bridge adds ``expTime`` = the request's own timestamp +
  ``recv_window`` to those requests (the header is not part of the signed prehash).
"""

from __future__ import annotations

from typing import Any

import msgspec

from gapless.model import OrderReport
from gapless.model.errors import MalformedResponse
from gapless.venues.ccxt_bridge.profiles import SPOT_MARKETS, Profile
from gapless.venues.ccxt_bridge.quirks import Bridge, Quirks

PROFILE = Profile(
    create_param="clOrdId",
    query_param="clOrdId",
    cancel_param="clOrdId",
    id_pattern=r"[A-Za-z0-9]{1,32}",
    id_max=32,
    options={**SPOT_MARKETS, "fetchCurrencies": False},
    #: expTime has no documented maximum, but OKX refuses a timestamp ~30 s off its
    #: clock anyway; the native adapter's cap
    recv_window_max_ms=30000,
    sync_clock=True,
)


#: ccxt paths of the endpoints OKX documents ``expTime`` for
EXPTIME_PATHS = frozenset({"trade/order", "trade/batch-orders", "trade/amend-order",
                           "trade/amend-batch-orders"})


class OkxQuirks(Quirks):
    def sign_validity(self, venue: Bridge, recv_window_ms: int) -> float | None:
        ex = venue.ex
        sign = ex.sign

        def with_deadline(path: Any, api: Any = "public", method: str = "GET",
                          params: Any = None) -> Any:
            request = sign(path, api, method, {} if params is None else params)
            headers = request.get("headers") if isinstance(request, dict) else None
            if method == "POST" and path in EXPTIME_PATHS and isinstance(headers, dict):
                # the same clock as OK-ACCESS-TIMESTAMP (ccxt's nonce)
                headers["expTime"] = str(int(ex.nonce()) + recv_window_ms)
            return request

        ex.sign = with_deadline
        return recv_window_ms / 1000

    def envelope_problem(self, response: Any) -> str | None:
        if not isinstance(response, dict):
            return "answer is not a JSON object"
        code = response.get("code")
        if not isinstance(code, str) or not code.isdigit():
            return "code missing or not a digit string"
        if "msg" in response and not isinstance(response["msg"], str):
            return "msg is not a string"
        if not isinstance(response.get("data", []), list):
            return "data is not a list"
        return None

    watch_trades = True

    def report_from_trade(self, venue: Bridge, trade: Any) -> OrderReport | None:
        info = trade.get("info") if isinstance(trade, dict) else None
        if not isinstance(info, dict):
            raise MalformedResponse("streamed trade without its order push", venue=venue.name)
        symbol = trade.get("symbol")
        if not isinstance(symbol, str) or symbol not in venue.instruments:
            return None  # not an instrument this venue trades (e.g. another instType)
        order = venue.ex.parse_order(info)
        raw_cid = info.get("clOrdId")
        cid = raw_cid if isinstance(raw_cid, str) else ""
        rep, _ = venue.report(order, symbol, cid)
        fill = venue.fill(trade, symbol, rep.side, rep.client_order_id, rep.venue_order_id)
        if fill is None:
            return None
        return msgspec.structs.replace(rep, fills=(fill,))


QUIRKS = OkxQuirks
