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

import re

from gapless.model.errors import ConfigError
from gapless.venues.base import VenueConfig

DEFAULT_MS = 5000
#: where a venue documents no maximum: a day keeps a typo from meaning "for ever"
NO_DOCUMENTED_MAX_MS = 86_400_000


def recv_window_ms(config: VenueConfig, max_ms: int | None) -> int:
    """The ``recv_window`` option (ms, default 5000) as a whole number in 1..``max_ms``;
    anything else is a ``ConfigError`` naming the option, raised at construction."""
    raw = config.options.get("recv_window", str(DEFAULT_MS))
    top = max_ms if max_ms is not None else NO_DOCUMENTED_MAX_MS
    text = raw.strip() if isinstance(raw, str) else ""
    # ASCII digits only: no signs, exponents, fractions, "_" separators or other scripts
    if not re.fullmatch(r"[0-9]{1,12}", text) or not 0 < int(text) <= top:
        raise ConfigError(
            f"venue {config.name!r}: option recv_window must be a whole number of "
            f"milliseconds from 1 to {top}, got {str(raw)[:40]!r}"
        )
    return int(text)
