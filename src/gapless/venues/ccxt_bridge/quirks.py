"""Per-exchange behaviour of the bridge that does not fit in a :class:`Profile`.

The generic bridge only uses ccxt's unified API. Where one exchange needs more (a lookup
ccxt gets wrong, an answer envelope to validate before ccxt reads it), the code lives in
``gapless.venues.ccxt_bridge.exchanges.<ccxt id>``, one module per exchange (next to its
``PROFILE``), exposing ``QUIRKS``: a :class:`Quirks` subclass, instantiated once per venue
(so it may keep per-venue state). Exchanges without one get the defaults below, which
change nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from gapless.model import Fill, Instrument, Order, OrderReport, Side
    from gapless.model.errors import GaplessError
    from gapless.transport.ratelimit import LimitRule
    from gapless.venues.ccxt_bridge.profiles import Profile

T = TypeVar("T")


class Bridge(Protocol):
    """All an exchange module may use of the venue it serves (the bridge's ``CcxtVenue``
    is one): the ccxt instance, reference data, and the bridge's own readers, so quirks
    never reach into the generic code's internals and a change there cannot break them."""

    @property
    def name(self) -> str:
        """The gapless venue name (for errors and reports)."""
        ...

    @property
    def ex(self) -> Any:
        """The ccxt exchange instance (its hooks already installed)."""
        ...

    @property
    def profile(self) -> Profile: ...

    @property
    def instruments(self) -> Mapping[str, Instrument]: ...

    def known_venue_order_id(self, client_order_id: str) -> str | None:
        """The venue order id learnt from an earlier answer for this client id."""
        ...

    async def call(self, fn: Callable[..., Awaitable[T]], *args: Any, op: str = "") -> T:
        """``fn(*args)`` as a bridge call: limiter lane, breaker and error mapping
        (``op`` as in ``errors.map_ccxt_error``)."""
        ...

    def fill(self, trade: Any, symbol: str, side: Side | None, cid: str, vid: str) -> Fill | None:
        """A ccxt trade read as a fill (``None``: no trade id)."""
        ...

    def report(self, order: Any, symbol: str, cid_hint: str = "") -> tuple[OrderReport, bool]:
        """A ccxt order read as a report; the bool says its status was known."""
        ...

    async def fills_for(self, symbol: str, rep: OrderReport) -> list[Fill]:
        """The fills of ``rep``'s order, read over REST."""
        ...


@dataclass(frozen=True, slots=True)
class Usage:
    """What one answer says about one of the exchange's own limiter rules
    (see :meth:`Quirks.limit_rules`), in the venue's own terms."""

    rule: str
    used: int  # units used in the current window, as the venue counts them
    limit: int  # the venue's limit that ``used`` is counted against
    #: wall-clock seconds; with ``used >= limit``, no request drawing from ``rule``
    #: is sent before then (``None``: the rule's own window end is enough)
    reset_at: float | None = None


class Quirks:
    """Hooks the adapter calls, each given the venue as a :class:`Bridge`; every default
    keeps the generic behaviour."""

    def limit_rules(self) -> tuple[LimitRule, ...]:
        """Limiter rules beyond ccxt's ``rateLimit`` and the profile's usage headers
        (e.g. per-endpoint limits), fed back with :meth:`usage_from_headers`."""
        return ()

    def limit_costs(self, api: Any, method: str, path: str) -> Mapping[str, int]:
        """What one request (ccxt's ``api``/``method``/``path``) draws from
        :meth:`limit_rules` (empty: nothing)."""
        return {}

    def usage_from_headers(self, url: str, headers: Mapping[str, str]) -> list[Usage]:
        """The venue's count for :meth:`limit_rules` read from one answer's headers."""
        return []

    def prepare(self, venue: Bridge) -> None:
        """Adjust the freshly built ccxt instance (``venue.ex``) once, at construction."""

    def sign_validity(self, venue: Bridge, recv_window_ms: int) -> float | None:
        """Make ccxt sign every private request with the uniform ``recv_window`` bound
        (ms) and return the bound in seconds, as the venue judges it from our signature
        (``None``: this exchange signs none, so "not found" never proves a create dead).
        Default: the ccxt option the profile names (``options['recvWindow']``), else none.
        Called once at construction, after :meth:`prepare`."""
        option = venue.profile.recv_window_option
        if option is None:
            return None
        venue.ex.options[option] = recv_window_ms
        return recv_window_ms / 1000

    def envelope_problem(self, response: Any) -> str | None:
        """Why a decoded JSON answer is not a valid envelope of this venue (``None``: fine).

        Called before ccxt's own ``handle_errors`` reads the answer, so a mangled envelope
        becomes ``MalformedResponse`` instead of whatever ccxt makes of it."""
        return None

    async def find_by_client_id(self, venue: Bridge, symbol: str, cid: str) -> Any | None:
        """A ccxt order structure for client id ``cid`` (raise ``OrderNotFound`` when the
        venue does not know it), or ``None`` to use the generic lookup."""
        return None

    #: watch ccxt.pro ``watch_my_trades`` next to ``watch_orders`` in ``private_events``
    #: and turn each trade into a report with :meth:`report_from_trade` (ccxt.pro caches
    #: orders by id, so several fills of one order between two reads collapse into one
    #: order update; its trade cache keeps every fill)
    watch_trades: bool = False

    def report_from_trade(self, venue: Bridge, trade: Any) -> OrderReport | None:
        """An order report carrying the one fill of a streamed ccxt trade (``None``: skip)."""
        return None

    async def complete_stream_report(self, venue: Bridge, rep: OrderReport) -> OrderReport:
        """A streamed order report completed with what the stream does not carry (e.g.
        fills read over REST where the venue streams cumulative state only). Must not
        raise: on trouble return ``rep`` as it is (the engine gap-fills)."""
        return rep

    def map_error(self, exc: BaseException, *, venue: str, op: str) -> GaplessError | None:
        """The gapless error for a ccxt exception this exchange's ccxt class maps wrongly
        (``None``: use the shared ``errors.map_ccxt_error``). ``op`` as there."""
        return None

    def normalize_order(self, venue: Bridge, order: Any) -> Any:
        """A ccxt order structure with what this exchange's ccxt parser leaves out filled
        in from its raw ``info`` (called on every order before it is read)."""
        return order

    def order_params(self, venue: Bridge, order: Order, params: dict[str, Any]) -> dict[str, Any]:
        """The ``params`` of ``create_order`` for ``order`` (default: unchanged)."""
        return params

    def check_created(
        self, venue: Bridge, order: Order, rep: OrderReport, prior_vid: str | None
    ) -> None:
        """Inspect a create's answer; ``prior_vid`` is the venue order id the bridge already
        held for this client id (e.g. raise ``DuplicateClientOrderId`` where a venue answers
        a reused client id with the existing order)."""


def quirks_for(exchange_id: str) -> Quirks:
    """A fresh instance of ``exchanges/<exchange_id>.py``'s ``QUIRKS`` (else the defaults)."""
    from gapless.venues.ccxt_bridge.exchanges import exchange

    return exchange(exchange_id).quirks()
