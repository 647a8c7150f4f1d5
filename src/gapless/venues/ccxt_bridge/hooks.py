"""The ccxt instance's class: the exchange's ccxt class with the bridge's two hooks.

* ``fetch2`` (every REST request): checks the circuit breaker for the connection kind,
  waits its turn in gapless' ``RateLimiter`` (ccxt's own limiter is off) with the cost
  ccxt computes for the endpoint and the priority lane of the bridge call that issued it
  (cancel > order > query), and records the outcome on the breaker;
* ``handle_errors`` (every HTTP answer): feeds the venue's usage headers back into the
  limiter (the profile's usage headers, and whatever the exchange module reads from
  them for its own rules) and remembers status and headers for the error mapping.

The bridge call's context travels in a ``ContextVar`` (:data:`CALL`), so concurrent
calls on one ccxt instance never see each other's status or headers.
"""

from __future__ import annotations

import contextlib
import contextvars
from typing import TYPE_CHECKING, Any

import ccxt.async_support as ccxt_async
from ccxt.base import errors as cx

from gapless.model.errors import ConfigError, MalformedResponse
from gapless.transport.breaker import ConnKind, FailureKind
from gapless.transport.ratelimit import Priority
from gapless.venues.ccxt_bridge.errors import retry_after_s
from gapless.venues.ccxt_bridge.values import hollow

if TYPE_CHECKING:
    from gapless.venues.ccxt_bridge.adapter import CcxtVenue


class Call:
    """What one bridge call knows about the HTTP exchange(s) it caused."""

    __slots__ = ("headers", "mutating", "priority", "raw", "status", "strict")

    def __init__(self, priority: Priority, mutating: bool, strict: bool = True) -> None:
        self.priority = priority
        self.mutating = mutating
        self.strict = strict
        self.status: int | None = None
        self.headers: dict[str, str] | None = None
        self.raw: Any = None  # the last decoded JSON answer


CALL: contextvars.ContextVar[Call | None] = contextvars.ContextVar("gapless_ccxt_call", default=None)


def is_private(api: Any) -> bool:
    names = api if isinstance(api, list | tuple) else [api]
    return any("private" in str(n).lower() or str(n).lower() in ("sapi", "papi") for n in names)


def exchange_class(exchange_id: str) -> type:
    """ccxt.pro's class when the exchange has one (WebSocket methods), else the async one,
    subclassed with the bridge hooks."""
    base: type | None = None
    with contextlib.suppress(ImportError):
        import ccxt.pro as ccxt_pro

        if exchange_id in ccxt_pro.exchanges:
            base = getattr(ccxt_pro, exchange_id)
    if base is None:
        if exchange_id not in ccxt_async.exchanges:
            raise ConfigError(f"ccxt has no exchange {exchange_id!r}")
        base = getattr(ccxt_async, exchange_id)
    assert base is not None
    parent: Any = base

    async def fetch2(self: Any, path: Any, api: Any = "public", method: str = "GET",
                     params: Any = None, config: Any = None) -> Any:
        params = {} if params is None else params
        config = {} if config is None else config
        bridge: CcxtVenue | None = getattr(self, "_gapless_bridge", None)
        if bridge is None:
            return await parent.fetch2(self, path, api, method, params, config)
        call = CALL.get()
        priority = call.priority if call is not None else Priority.QUERY
        breaker = bridge.breakers.get(
            ConnKind.REST_PRIVATE if is_private(api) else ConnKind.REST_PUBLIC
        )
        breaker.check()
        cost = self.calculate_rate_limiter_cost(api, method, path, params, config)
        try:
            cost_f = float(cost)
        except (TypeError, ValueError):
            cost_f = 1.0
        costs = bridge.limits.costs(
            cost_f, priority, bridge.quirks.limit_costs(api, method, str(path))
            if bridge.header_feedback else None,
        )
        while (hold := bridge.limits.hold_s(costs, bridge.clock.time())) > 0:
            await bridge.clock.sleep(hold)  # the venue said this pool is spent until then
        await bridge.limiter.acquire(costs, priority)
        try:
            resp = await parent.fetch2(self, path, api, method, params, config)
        except (cx.RateLimitExceeded, cx.DDoSProtection):
            status = call.status if call is not None else None
            hdrs = call.headers if call is not None else None
            bridge.limiter.on_rate_limited(retry_after_s(hdrs), banned=status == 418)
            breaker.record_success()  # the venue answered
            raise
        except cx.RequestTimeout:
            breaker.record_failure(FailureKind.CONNECTION)
            raise
        except cx.NetworkError:
            status = call.status if call is not None else None
            breaker.record_failure(
                FailureKind.VENUE_DOWN if status is not None and status >= 500
                else FailureKind.CONNECTION
            )
            raise
        except MalformedResponse:
            breaker.record_failure(FailureKind.BAD_DATA)
            raise
        except cx.ExchangeError:
            status = call.status if call is not None else None
            if status is not None and status >= 500:
                breaker.record_failure(FailureKind.VENUE_DOWN)
            else:
                breaker.record_success()
            raise
        if call is not None and call.strict and (
            not isinstance(resp, dict | list) or hollow(resp)
        ):
            breaker.record_failure(FailureKind.BAD_DATA)
            raise MalformedResponse(
                f"{self.id} {method} {path}: empty or non-JSON answer", venue=bridge.name
            )
        breaker.record_success()
        return resp

    def handle_errors(self: Any, *args: Any) -> Any:
        bridge: CcxtVenue | None = getattr(self, "_gapless_bridge", None)
        if bridge is not None and len(args) >= 7:
            code, headers, body, response = args[0], args[4], args[5], args[6]
            call = CALL.get()
            if call is not None:
                call.status = code if isinstance(code, int) else None
                call.headers = headers if isinstance(headers, dict) else None
                call.raw = response
            if isinstance(headers, dict):
                bridge.limits.sync(bridge.limiter, headers)
                if bridge.header_feedback:
                    bridge.limits.adopt(
                        bridge.limiter,
                        bridge.quirks.usage_from_headers(str(args[2]), headers),
                        bridge.clock.time(),
                    )
            if isinstance(code, int) and 200 <= code < 300:
                bridge.limiter.on_success()
                if response is None and body and call is not None and call.strict:
                    raise MalformedResponse(
                        f"{self.id}: answer is not JSON ({str(body)[:60]!r})", venue=bridge.name
                    )
                if response is not None and call is not None and call.strict:
                    problem = bridge.quirks.envelope_problem(response)
                    if problem is not None:
                        raise MalformedResponse(f"{self.id}: {problem}", venue=bridge.name)
        return parent.handle_errors(self, *args)

    return type(f"Gapless_{exchange_id}", (parent,), {"fetch2": fetch2, "handle_errors": handle_errors})
