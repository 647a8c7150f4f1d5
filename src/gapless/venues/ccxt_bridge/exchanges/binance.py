"""Binance Spot: only a profile; ccxt's unified API covers the rest (no quirks).

* Client ids travel as ``newClientOrderId`` and orders are looked up and canceled by
  ``origClientOrderId``; ids up to 36 of ``[A-Za-z0-9_-]``.
* Creates ask for the ``FULL`` answer (fills included), so a fill rarely needs a second
  read.
* The venue reports its counts in ``X-MBX-USED-WEIGHT-1M`` (6000 / 60 s) and
  ``X-MBX-ORDER-COUNT-10S`` (100 / 10 s); the limiter adopts them.
* Validity bound: ccxt signs ``recvWindow`` (its default 10000 ms; the venue's maximum
  60000), on the venue's clock read at start.
"""

from __future__ import annotations

from gapless.venues.ccxt_bridge.profiles import SPOT_MARKETS, HeaderRule, Profile

PROFILE = Profile(
    create_param="newClientOrderId",
    query_param="origClientOrderId",
    cancel_param="origClientOrderId",
    id_pattern=r"[A-Za-z0-9_-]{1,36}",
    id_max=36,
    id_alphabet="dash",
    options={**SPOT_MARKETS, "fetchCurrencies": False, "fetchMargins": False,
             "newOrderRespType": {"market": "FULL", "limit": "FULL"},
             "fetchOpenOrders": {"warnWithoutSymbol": False}},
    headers=(
        HeaderRule("weight_1m", "x-mbx-used-weight-1m", 6000, 60.0),
        HeaderRule("orders_10s", "x-mbx-order-count-10s", 100, 10.0, per="order"),
    ),
    book_limits=(5, 10, 20, 50, 100, 500, 1000, 5000),
    recv_window_option="recvWindow",  # ccxt's own default is 10000
    recv_window_max_ms=60000,
    sync_clock=True,
)
