"""The ``Venue`` interface every adapter implements (native or ccxt bridge).

Adapters speak canonical symbols (``BTC/USDT``) and the unified schema; every venue
quirk (symbol spelling, signing, error codes, client-id rules) stays in its folder.
All errors raised are from ``gapless.model.errors``.
"""

from __future__ import annotations

import abc
import re
from collections.abc import AsyncIterator

import msgspec

from gapless.model import (
    Balance,
    BookSnapshot,
    Fill,
    Instrument,
    Order,
    OrderReport,
    OrderType,
    TimeInForce,
    UnknownSymbol,
)
from gapless.model.redact import register_secret
from gapless.transport.deadletter import DeadLetterQueue


class Credentials(msgspec.Struct, frozen=True, kw_only=True):
    """API credentials; ``repr`` never shows secrets."""

    api_key: str = ""
    secret: str = ""
    passphrase: str = ""

    def __post_init__(self) -> None:
        # from now on these values are masked in every error message, log line and journal
        # text (deduplicated: recreating the same credentials does not grow the registry)
        for value in (self.api_key, self.secret, self.passphrase):
            register_secret(value)

    def __repr__(self) -> str:
        key = (self.api_key[:4] + "…") if self.api_key else ""
        return f"Credentials(api_key={key!r}, secret=<redacted>, passphrase=<redacted>)"

    __str__ = __repr__


class VenueConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Where a venue lives and how we authenticate; built by ``gapless.config``."""

    name: str
    driver: str
    rest_url: str
    ws_url: str = ""
    credentials: Credentials = msgspec.field(default_factory=Credentials)
    options: dict[str, str] = msgspec.field(default_factory=dict)
    request_timeout: float = 10.0
    #: multiplies every rate-limit rule of this venue's limiters; never read from a config
    #: file (1): only ``gapless bench`` raises it, to measure client paths, not venue limits
    limit_scale: int = 1


class Reconnected(msgspec.Struct, frozen=True):
    """Emitted by streams after a reconnect: consumers must gap-fill via REST."""

    venue: str
    stream: str


PrivateEvent = OrderReport | Fill | Balance | Reconnected


class ClientIdRule(msgspec.Struct, frozen=True, kw_only=True):
    """Which client order ids the venue takes: ``pattern`` (a full-match regex) and the
    longest id; ``Venue.client_order_id`` only ever derives ids that match."""

    pattern: str
    max_length: int

    def accepts(self, client_order_id: str) -> bool:
        return (len(client_order_id) <= self.max_length
                and re.fullmatch(self.pattern, client_order_id) is not None)


class Capabilities(msgspec.Struct, frozen=True, kw_only=True):
    """What this adapter can do (not everything the venue offers): the router picks venues
    and order shapes from it, the contract suite picks its tests. An order outside it is
    refused inside the process (``InvalidIntent``), never sent."""

    order_types: frozenset[OrderType]
    #: for limit orders (``POST_ONLY`` included); market orders are immediate by nature
    time_in_force: frozenset[TimeInForce]
    client_id: ClientIdRule
    batch_orders: bool = False  # several creates in one request
    ws_order_entry: bool = False  # orders placed over a WebSocket instead of REST
    amend: bool = False  # price/quantity changed in place, keeping the queue position
    book_stream: bool = True  # ``watch_book`` streams (rather than polls)
    private_stream: bool = True  # ``private_events`` streams (rather than polls)


#: what the interface can express; an adapter that declares nothing narrower promises this
#: (its own checks, or the venue's answers, refuse the rest)
DEFAULT_CAPABILITIES = Capabilities(
    order_types=frozenset(OrderType),
    time_in_force=frozenset(TimeInForce),
    client_id=ClientIdRule(pattern=r"[\x21-\x7e]+", max_length=64),
)


class Venue(abc.ABC):
    """One trading venue. Methods are coroutines; instances own their connections."""

    name: str
    #: declared in one place by each adapter (see :class:`Capabilities`)
    capabilities: Capabilities = DEFAULT_CAPABILITIES

    def __init__(self, config: VenueConfig) -> None:
        self.config = config
        self.name = config.name
        self.instruments: dict[str, Instrument] = {}
        #: stream messages the adapter could not process; the engine drains and reconciles
        self.dlq = DeadLetterQueue()

    # -- lifecycle -------------------------------------------------------------------
    async def start(self) -> None:
        """Open connections and load instruments."""
        await self.load_instruments()

    @abc.abstractmethod
    async def close(self) -> None: ...

    async def __aenter__(self) -> Venue:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- reference data --------------------------------------------------------------
    @abc.abstractmethod
    async def load_instruments(self) -> dict[str, Instrument]: ...

    def instrument(self, symbol: str) -> Instrument:
        try:
            return self.instruments[symbol]
        except KeyError:
            raise UnknownSymbol(f"{symbol} is not listed", venue=self.name) from None

    def request_validity(self) -> float | None:
        """Seconds a signed private request stays executable at the venue after we sign it,
        judged on the venue's clock (Binance/Bybit ``recvWindow``, OKX ``expTime``, Coinbase
        JWT ``exp``; Kraken's nonce rule gives 0: any later-nonced request the venue answered
        burns the earlier nonce). ``None``: the venue offers no bound, so "not found" never
        proves that a create will not still land."""
        return None

    @abc.abstractmethod
    def client_order_id(self, intent_id: str) -> str:
        """Deterministic venue-valid client order id for an intent (same in, same out)."""

    # -- trading ---------------------------------------------------------------------
    @abc.abstractmethod
    async def place_order(self, order: Order) -> OrderReport:
        """Send ``order`` (its ``client_order_id`` is already set). Raises the error tree."""

    @abc.abstractmethod
    async def cancel_order(self, symbol: str, client_order_id: str) -> OrderReport: ...

    @abc.abstractmethod
    async def query_order(self, symbol: str, client_order_id: str) -> OrderReport:
        """Current state by client id; raises ``OrderNotFound`` if the venue never saw it."""

    @abc.abstractmethod
    async def open_orders(self, symbol: str | None = None) -> list[OrderReport]: ...

    @abc.abstractmethod
    async def balances(self) -> dict[str, Balance]: ...

    @abc.abstractmethod
    async def my_trades(self, symbol: str, client_order_id: str | None = None) -> list[Fill]: ...

    # -- market data -----------------------------------------------------------------
    @abc.abstractmethod
    async def order_book(self, symbol: str, depth: int = 20) -> BookSnapshot: ...

    @abc.abstractmethod
    def watch_book(self, symbol: str) -> AsyncIterator[BookSnapshot]:
        """Live book: snapshot + diffs with the venue's integrity check; resync on gaps."""

    @abc.abstractmethod
    def private_events(self) -> AsyncIterator[PrivateEvent]:
        """Order updates, fills and balances; a ``Reconnected`` after every reconnect."""
