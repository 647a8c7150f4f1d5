"""Coinbase Advanced Trade (API v3) quirks of the ccxt bridge.

* Start-up: ccxt's ``load_markets`` first reads currencies from three v2 public
  endpoints, metered at about 10 000 requests per hour (ccxt cost 10.6 each); the bridge
  never uses currency data, so the instance skips them (markets come from v3 products).
* Market buys: ccxt sizes every spot market buy in quote currency (``quote_size``) and
  wants a price to compute it (``createMarketBuyOrderRequiresPrice``). The venue also
  takes ``base_size`` for a market buy, which is what a gapless order means, so the
  bridge turns that option off and sends ``market_market_ioc.base_size`` itself.
* Reused client ids: the venue answers a reused ``client_order_id`` with the order it
  already holds (idempotent create). When that answer names the order id the bridge
  already holds for the client id, the create had no effect: ``DuplicateClientOrderId``.
* Errors ccxt maps too loosely: a post-only order that would cross
  (``INVALID_LIMIT_PRICE_POST_ONLY``) arrives as a plain ``ExchangeError`` and is
  ``InvalidOrder``. An unknown order ("... not found", plain ``ExchangeError``) is
  already ``OrderNotFound`` in the shared error map.
* Lookup by client id: the venue addresses orders by its own id only; the generic
  lookup (the id learnt from an earlier answer, else a scan of open, closed and canceled
  orders for ``client_order_id``) applies.
* Private stream: the ``user`` channel carries cumulative order state, no per-fill
  data. When a streamed order's filled quantity grows, its fills are read over REST
  (``/orders/historical/fills`` for that order) and the ones not yet streamed are
  attached, with the venue's trade ids (so stream and REST fills deduplicate).
* Validity bound: every request carries a fresh JWT; ccxt signs ``exp = nbf + 120``
  with ``nbf`` its clock in whole seconds (floored). The bridge shortens the lifetime to
  ``ceil(recv_window / 1000)`` whole seconds (at most the venue's 120) by rewriting the
  claims just before ccxt signs them, so a token lives at most that long after signing,
  and puts them on the venue's clock (ccxt measures the offset from ``/time`` at start
  but signs the JWT with its own clock).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import Any

import msgspec

from gapless.model import Order, OrderReport, OrderType, Side
from gapless.model.errors import DuplicateClientOrderId, GaplessError, InvalidOrder
from gapless.venues.ccxt_bridge.profiles import Profile
from gapless.venues.ccxt_bridge.quirks import Bridge, Quirks

_POST_ONLY = "INVALID_LIMIT_PRICE_POST_ONLY"
_TRACKED = 10_000

PROFILE = Profile(
    create_param="client_order_id",
    id_pattern=r"[A-Za-z0-9_-]{1,64}",
    id_max=64,
    id_alphabet="dash",
    # the venue's clock from v3 (ccxt's default reads v2); the JWT claims use it
    options={"fetchBalance": "v3", "fetchTime": "v3PublicGetBrokerageTime"},
    recv_window_max_ms=120_000,  # JWT exp - nbf
    sync_clock=True,
)


class CoinbaseQuirks(Quirks):
    def __init__(self) -> None:
        # per venue order id: trade ids already attached to a streamed report
        self._sent: OrderedDict[str, set[str]] = OrderedDict()

    def prepare(self, venue: Bridge) -> None:
        venue.ex.has = {**venue.ex.has, "fetchCurrencies": False}

    def sign_validity(self, venue: Bridge, recv_window_ms: int) -> float | None:
        ex = venue.ex
        lifetime = math.ceil(recv_window_ms / 1000)  # the claims are whole seconds
        jwt = ex.jwt  # ccxt's static signer: (claims, secret, algorithm, is_rsa, opts)

        def short_lived(request: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(request, dict) and isinstance(request.get("nbf"), int) \
                    and "exp" in request:
                # ccxt's claims use our clock; the venue judges them on its own, which
                # ccxt measured at start (timeDifference = ours - venue's, in ms)
                offset = ex.safe_integer(ex.options, "timeDifference", 0) or 0
                nbf = (ex.milliseconds() - offset) // 1000  # the venue's now, floored
                request = {**request, "nbf": nbf, "iat": nbf, "exp": nbf + lifetime}
            return jwt(request, *args, **kwargs)

        ex.jwt = short_lived
        return float(lifetime)

    def order_params(self, venue: Bridge, order: Order, params: dict[str, Any]) -> dict[str, Any]:
        if order.type is OrderType.MARKET and order.side is Side.BUY:
            return {
                **params,
                "createMarketBuyOrderRequiresPrice": False,
                "order_configuration": {"market_market_ioc": {"base_size": format(order.qty, "f")}},
            }
        return params

    def check_created(
        self, venue: Bridge, order: Order, rep: OrderReport, prior_vid: str | None
    ) -> None:
        if prior_vid is not None and rep.venue_order_id == prior_vid:
            raise DuplicateClientOrderId(
                f"client order id {order.client_order_id} is already in use by {prior_vid}: "
                "the venue answered with that order", venue=venue.name,
                code="existing_client_order_id",
            )

    def map_error(self, exc: BaseException, *, venue: str, op: str) -> GaplessError | None:
        if op == "create" and _POST_ONLY in str(exc):
            return InvalidOrder(str(exc)[:500], venue=venue, code=_POST_ONLY)
        return None

    async def complete_stream_report(self, venue: Bridge, rep: OrderReport) -> OrderReport:
        if rep.filled_qty <= 0 or rep.fills or not rep.venue_order_id:
            return rep
        try:
            fills = await venue.fills_for(rep.symbol, rep)
        except GaplessError:
            return rep  # the engine gap-fills from REST after the fact
        sent = self._sent.pop(rep.venue_order_id, set())
        new = tuple(f for f in fills if f.trade_id not in sent)
        sent.update(f.trade_id for f in new)
        if not rep.state.is_terminal:
            self._sent[rep.venue_order_id] = sent
            while len(self._sent) > _TRACKED:
                self._sent.popitem(last=False)
        return msgspec.structs.replace(rep, fills=new) if new else rep


QUIRKS = CoinbaseQuirks
