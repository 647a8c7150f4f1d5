"""The uniform ``recv_window`` option: how long a signed private request stays executable.

The engine declares an unknown create rejected only once "not found" comes from a query
sent after the create's validity bound has passed (``Venue.request_validity``), so the
bound the bridge reports must be the one ccxt really signs with. Where ccxt carries the
bound in an option (``options['recvWindow']``: Binance, Bybit) the profile names that
option and :meth:`Quirks.sign_validity` sets it; exchanges whose bound ccxt does not sign
(OKX ``expTime``, Coinbase JWT ``exp``, Kraken's nonce rule) handle it in their
``exchanges/<id>.py``. Everything else reports ``None``: no bound.
"""

from __future__ import annotations

from gapless.venues.base import VenueConfig
from gapless.venues.common.options import recv_window_ms as _parse

#: where the venue documents no maximum (and the option is ignored: Kraken, exchanges
#: without a bound): any whole number the shared option parser accepts
NO_DOCUMENTED_MAX_MS = 10**12 - 1


def recv_window_ms(config: VenueConfig, max_ms: int | None) -> int:
    """The ``recv_window`` option (ms, default 5000) as a whole number in 1..``max_ms``;
    anything else is a ``ConfigError`` naming the option, raised at construction (the
    same rule and message as the native adapters)."""
    return _parse(config.options, maximum=max_ms or NO_DOCUMENTED_MAX_MS,
                  family=f"ccxt {config.options.get('exchange', '').strip()}",
                  venue=config.name)
