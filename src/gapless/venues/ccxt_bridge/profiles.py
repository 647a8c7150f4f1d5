"""Per-exchange facts the bridge needs beyond what ccxt's unified API says.

Each profile names the request parameter that carries our client order id (ccxt's
unified ``clientOrderId`` is not honoured the same way everywhere), the parameter that
looks an order up by that id (when the venue can), the id rules, ccxt options that keep
an instance on spot and away from endpoints a spot account does not need, and the usage
headers a venue reports so the limiter can adopt the venue's own count. Each exchange's
profile lives in its own ``exchanges/<ccxt id>.py`` (``PROFILE``), next to its quirks.

Pure data and pure functions: no ccxt import here.
"""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class HeaderRule:
    """A usage counter the venue reports in a response header.

    ``limit`` per ``window_s`` is the venue's published pool. ``per`` says what one
    request draws from it: ``"cost"`` (ccxt's endpoint cost, scaled to the pool) or
    ``"order"`` (1 per order-creating request).
    """

    name: str
    header: str  # lower-case header name
    limit: int
    window_s: float
    per: str = "cost"


@dataclass(frozen=True)
class Profile:
    create_param: str = "clientOrderId"  # where the client id goes on create
    query_param: str | None = None  # fetch_order(None, symbol, {query_param: cid})
    cancel_param: str | None = None  # cancel_order(None, symbol, {cancel_param: cid})
    query_extra: dict[str, Any] = field(default_factory=dict)
    id_pattern: str = r"[A-Za-z0-9]{1,32}"
    id_max: int = 32
    id_alphabet: str = "alnum"  # "alnum" | "dash" (adds _ and -) | "uuid"
    options: dict[str, Any] = field(default_factory=dict)
    headers: tuple[HeaderRule, ...] = ()
    #: order book depths the REST endpoint accepts (None: pass the depth through)
    book_limits: tuple[int, ...] | None = None
    #: the ccxt option that carries the uniform ``recv_window`` (ms) into every signed
    #: request (None: ccxt signs no such bound; the exchange module may add one)
    recv_window_option: str | None = None
    #: the venue's documented maximum for that bound in ms (None: none documented)
    recv_window_max_ms: int | None = None
    #: sign on the venue's clock: read the venue's time (ccxt ``load_time_difference``)
    #: before anything else at start, so every signed timestamp, and with it the
    #: validity bound the venue judges, is on the venue's clock, not ours
    sync_clock: bool = False

    def client_order_id(self, intent_id: str) -> str:
        return derive_client_order_id(intent_id, self)


#: ccxt options that keep an instance on spot markets (most exchange profiles use them)
SPOT_MARKETS: dict[str, Any] = {"defaultType": "spot", "fetchMarkets": {"types": ["spot"]}}

#: every exchange without a module (or without a ``PROFILE`` in it): the client id under
#: ccxt's unified ``clientOrderId``, looked up by scanning, no signed validity bound
GENERIC = Profile()


def profile_for(exchange_id: str) -> Profile:
    """The ``PROFILE`` of ``exchanges/<exchange_id>.py``, else :data:`GENERIC`."""
    from gapless.venues.ccxt_bridge.exchanges import exchange

    return exchange(exchange_id).profile


def derive_client_order_id(intent_id: str, profile: Profile) -> str:
    """Deterministic, venue-valid id: the intent id itself when it already fits the
    venue's rule, else a digest of it (``gl`` + base32 / hex, or a UUID for venues that
    only take UUIDs)."""
    digest = hashlib.sha256(intent_id.encode("utf-8")).digest()
    if profile.id_alphabet == "uuid":
        if re.fullmatch(profile.id_pattern, intent_id):
            return intent_id
        return str(uuid.UUID(bytes=digest[:16], version=4))
    if re.fullmatch(profile.id_pattern, intent_id):
        return intent_id
    body = base64.b32encode(digest).decode("ascii").rstrip("=").lower()
    return ("gl" + body)[: min(profile.id_max, 32)]


def rewrite_url(url: str, base: str) -> str:
    """Replace scheme and host of ``url`` with those of ``base``; keep path and query."""
    from urllib.parse import urlsplit

    target = urlsplit(base)
    parts = urlsplit(url)
    return parts._replace(scheme=target.scheme, netloc=target.netloc).geturl()


def rewrite_api_urls(api: Any, rest_url: str, ws_url: str) -> Any:
    """Rewrite every URL in a ccxt ``urls['api']`` tree (dicts, lists and strings);
    http(s) URLs go to ``rest_url``, ws(s) URLs to ``ws_url`` (each only when given)."""
    if isinstance(api, dict):
        return {k: rewrite_api_urls(v, rest_url, ws_url) for k, v in api.items()}
    if isinstance(api, list):
        return [rewrite_api_urls(v, rest_url, ws_url) for v in api]
    if isinstance(api, str):
        if rest_url and api.startswith(("http://", "https://")):
            return rewrite_url(api, rest_url)
        if ws_url and api.startswith(("ws://", "wss://")):
            return rewrite_url(api, ws_url)
    return api
