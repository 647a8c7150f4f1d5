"""Bybit V5 (spot, unified account) quirks of the ccxt bridge.

* Lookup by ``orderLinkId``: ccxt's ``fetch_order(None, ..., {"orderLinkId": ...})``
  sends ``orderId=None`` as text, and Bybit lets ``orderId`` win over ``orderLinkId``,
  so it never finds the order. The bridge reads ``/v5/order/realtime`` by
  ``orderLinkId`` itself (open and recent orders), then ``/v5/order/history``, and lets
  ccxt parse the row.
* Envelope: every answer is ``{retCode: int, retMsg: str, result: {...}}``. Anything
  else is malformed, whatever ccxt would have concluded from it.
* Private fills come on the ``execution`` topic (ccxt.pro ``watch_my_trades``), not in
  ``order`` pushes. Each execution row becomes a report carrying that fill. A row has no
  cumulative quantity, so the report is FILLED only when ``leavesQty`` is 0 *and* the
  fills seen for the order add up to its ``orderQty``; PARTIALLY_FILLED otherwise (the
  ``order`` topic brings the order's own final status, e.g. Cancelled for an IOC rest).
* Rate limits: V5 meters private endpoints per UID, per endpoint, per second and reports
  the pool in every answer: ``X-Bapi-Limit`` (the endpoint's limit),
  ``X-Bapi-Limit-Status`` (requests *remaining*) and ``X-Bapi-Limit-Reset-Timestamp``
  (ms; the reset time once exceeded, else the current time). The bridge keeps one
  limiter rule per metered endpoint (the spot defaults) and adopts the venue's count,
  used = limit - remaining; remaining 0 fills the rule for its window and a reset time
  in the future holds the endpoint until then.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from gapless.model import OrderReport, OrderState
from gapless.model.errors import MalformedResponse, OrderNotFound
from gapless.transport.ratelimit import LimitRule
from gapless.venues.ccxt_bridge.errors import header
from gapless.venues.ccxt_bridge.profiles import SPOT_MARKETS, Profile
from gapless.venues.ccxt_bridge.quirks import Bridge, Quirks, Usage

PROFILE = Profile(
    create_param="orderLinkId",
    query_param="orderLinkId",
    cancel_param="orderLinkId",
    query_extra={"acknowledged": True},
    id_pattern=r"[A-Za-z0-9_-]{1,36}",
    id_max=36,
    id_alphabet="dash",
    options={**SPOT_MARKETS, "fetchCurrencies": False},
    recv_window_option="recvWindow",  # X-BAPI-RECV-WINDOW
    recv_window_max_ms=60000,  # none documented: the native adapter's (Binance's) cap
    sync_clock=True,
)


#: metered endpoint path -> requests per second (V5 spot defaults, per UID)
ENDPOINT_LIMITS: Mapping[str, int] = MappingProxyType({
    "/v5/order/create": 20,
    "/v5/order/amend": 10,
    "/v5/order/cancel": 20,
    "/v5/order/cancel-all": 20,
    "/v5/order/realtime": 50,
    "/v5/order/history": 50,
    "/v5/execution/list": 50,
    "/v5/account/wallet-balance": 50,
})
_RULE_OF_PATH = {p: "bybit" + p.replace("/v5", "", 1).replace("/", "_") for p in ENDPOINT_LIMITS}


def _int(raw: str | None) -> int | None:
    if raw is None:
        return None
    try:
        return int(raw.strip())
    except ValueError:
        return None


class BybitQuirks(Quirks):
    def limit_rules(self) -> tuple[LimitRule, ...]:
        return tuple(LimitRule(_RULE_OF_PATH[p], n, 1.0) for p, n in ENDPOINT_LIMITS.items())

    def limit_costs(self, api: Any, method: str, path: str) -> Mapping[str, int]:
        rule = _RULE_OF_PATH.get("/" + path.lstrip("/"))
        return {rule: 1} if rule is not None else {}

    def usage_from_headers(self, url: str, headers: Mapping[str, str]) -> list[Usage]:
        rule = _RULE_OF_PATH.get(urlsplit(url).path)
        if rule is None:
            return []
        limit = _int(header(headers, "X-Bapi-Limit"))
        remaining = _int(header(headers, "X-Bapi-Limit-Status"))
        if limit is None or remaining is None or limit <= 0 or not 0 <= remaining <= limit:
            return []
        reset_ms = _int(header(headers, "X-Bapi-Limit-Reset-Timestamp"))
        reset_at = reset_ms / 1000 if reset_ms is not None and reset_ms > 0 else None
        return [Usage(rule, limit - remaining, limit, reset_at)]

    def envelope_problem(self, response: Any) -> str | None:
        if not isinstance(response, dict):
            return "answer is not a JSON object"
        code = response.get("retCode")
        if not isinstance(code, int) or isinstance(code, bool):
            return "retCode missing or not an integer"
        if not isinstance(response.get("retMsg"), str):
            return "retMsg missing or not a string"
        result = response.get("result")
        if result is not None and not isinstance(result, dict):
            return "result is not an object"
        return None

    async def find_by_client_id(self, venue: Bridge, symbol: str, cid: str) -> Any | None:
        ex = venue.ex

        async def lookup() -> Any:
            market = ex.market(symbol)
            request = {"category": "spot", "symbol": market["id"], "orderLinkId": cid}
            for endpoint in (ex.privateGetV5OrderRealtime, ex.privateGetV5OrderHistory):
                resp = await endpoint(dict(request))
                result = resp.get("result") if isinstance(resp, dict) else None
                rows = result.get("list") if isinstance(result, dict) else None
                if not isinstance(rows, list):
                    raise MalformedResponse("order list missing", venue=venue.name)
                if not rows:
                    continue
                mine = [r for r in rows if isinstance(r, dict) and r.get("orderLinkId") == cid]
                if not mine:
                    raise MalformedResponse(
                        "order lookup by orderLinkId answered other orders", venue=venue.name
                    )
                return ex.parse_order(mine[0], market)
            raise OrderNotFound(f"no order with orderLinkId {cid!r}", venue=venue.name)

        return await venue.call(lookup, op="query")

    watch_trades = True

    def __init__(self) -> None:
        # per venue order id: execution ids seen on the stream and their summed qty (the
        # execution row has no cumulative fill, so FILLED is only claimed once the fills
        # we saw add up to the order's qty; the ``order`` topic settles the rest)
        self._seen: OrderedDict[str, tuple[set[str], Decimal]] = OrderedDict()

    def report_from_trade(self, venue: Bridge, trade: Any) -> OrderReport | None:
        info = trade.get("info") if isinstance(trade, dict) else None
        if not isinstance(info, dict):
            raise MalformedResponse("streamed execution without its row", venue=venue.name)
        if info.get("execType", "Trade") != "Trade":
            return None  # funding, settlement, ...: not a fill of an order
        symbol = trade.get("symbol")
        if not isinstance(symbol, str) or symbol not in venue.instruments:
            return None
        vid, cid = info.get("orderId"), info.get("orderLinkId")
        if not isinstance(vid, str) or not vid:
            raise MalformedResponse("execution without orderId", venue=venue.name)
        cid = cid if isinstance(cid, str) else ""
        fill = venue.fill(trade, symbol, None, cid, vid)
        if fill is None:
            return None
        try:
            leaves = Decimal(str(info.get("leavesQty")))
            order_qty = Decimal(str(info.get("orderQty")))
            order_px = Decimal(str(info.get("orderPrice") or "0"))
        except InvalidOperation:
            raise MalformedResponse("execution with bad quantities", venue=venue.name) from None
        if not (leaves.is_finite() and order_qty.is_finite() and order_px.is_finite()):
            raise MalformedResponse("execution with bad quantities", venue=venue.name)
        ids, filled = self._seen.pop(vid, (set(), Decimal(0)))
        if fill.trade_id not in ids:
            ids.add(fill.trade_id)
            filled += fill.qty
        done = leaves == 0 and filled == order_qty
        if not done:
            self._seen[vid] = (ids, filled)
            while len(self._seen) > _TRACKED:
                self._seen.popitem(last=False)
        return OrderReport(
            venue=venue.name,
            symbol=symbol,
            client_order_id=cid,
            venue_order_id=vid,
            state=OrderState.FILLED if done else OrderState.PARTIALLY_FILLED,
            side=fill.side,
            qty=order_qty,
            price=None if info.get("orderType") == "Market" or order_px == 0 else order_px,
            filled_qty=filled,
            fills=(fill,),
            ts_ms=fill.ts_ms,
        )


_TRACKED = 10_000

QUIRKS = BybitQuirks
