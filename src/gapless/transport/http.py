"""Lean aiohttp REST client that maps transport failures into the error tree.

One ``ClientSession`` per client (keep-alive pool, high connection limit,
``raise_for_status=False``). The client does not interpret status codes or bodies (each
venue's ``errors.py`` does); it only

* maps transport exceptions to what they prove about the request:

  ==============================================  =====================  ==========
  failure                                         error                  outcome
  ==============================================  =====================  ==========
  cannot connect / connect timeout (not sent)     ``VenueUnavailable``   RETRYABLE
  no answer within ``timeout`` after sending      ``RequestTimeout``     UNKNOWN
  connection dropped / reset mid-request          ``Disconnected``       UNKNOWN
  unparseable HTTP response                       ``MalformedResponse``  UNKNOWN
  ==============================================  =====================  ==========

* records breaker outcomes (5xx = VENUE_DOWN, connection failures = CONNECTION,
  unparseable HTTP = BAD_DATA) and checks the breaker before sending.

The hot path does no logging and no parsing. URLs are passed pre-encoded
(``yarl.URL(..., encoded=True)``) so a signed query string is sent byte for byte.
aiohttp's silent one-time resend of idempotent requests on a stale keep-alive
connection is switched off: whether to resend is the caller's decision (a resent
DELETE may turn a successful cancel into "unknown order").
"""

from __future__ import annotations

from collections.abc import Mapping

import aiohttp
from yarl import URL

from gapless.model.errors import (
    ConfigError,
    Disconnected,
    MalformedResponse,
    RequestTimeout,
    VenueUnavailable,
)
from gapless.transport.breaker import BreakerSet, CircuitBreaker, ConnKind, FailureKind


class HttpResponse:
    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers  # case-insensitive mapping as received
        self.body = body

    def __repr__(self) -> str:
        return f"HttpResponse(status={self.status}, body={self.body[:80]!r})"


class HttpClient:
    def __init__(
        self,
        venue: str,
        base_url: str,
        *,
        timeout: float = 10.0,
        breakers: BreakerSet | None = None,
        connect_timeout: float | None = None,
        limit: int = 1000,
    ) -> None:
        self.venue = venue
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._connect_timeout = connect_timeout if connect_timeout is not None else timeout
        self._limit = limit
        self._session: aiohttp.ClientSession | None = None
        self._pub: CircuitBreaker | None = None
        self._priv: CircuitBreaker | None = None
        if breakers is not None:
            self._pub = breakers.get(ConnKind.REST_PUBLIC)
            self._priv = breakers.get(ConnKind.REST_PRIVATE)

    async def start(self) -> None:
        if self._session is not None:
            return
        connector = aiohttp.TCPConnector(
            limit=self._limit, limit_per_host=self._limit, keepalive_timeout=30.0
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=self.timeout, connect=self._connect_timeout),
            raise_for_status=False,
            auto_decompress=True,
            skip_auto_headers=("User-Agent",),
        )
        if hasattr(self._session, "_retry_connection"):
            self._session._retry_connection = False

    async def close(self) -> None:
        s, self._session = self._session, None
        if s is not None:
            await s.close()

    async def __aenter__(self) -> HttpClient:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def request(
        self,
        method: str,
        path: str,
        *,
        query: str = "",
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        private: bool = False,
    ) -> HttpResponse:
        """Send one request; ``query`` must already be encoded (it is sent as is)."""
        session = self._session
        if session is None:
            raise ConfigError("HttpClient.start() was not called", venue=self.venue)
        breaker = self._priv if private else self._pub
        if breaker is not None:
            breaker.check()
        url = URL(
            f"{self.base_url}{path}?{query}" if query else f"{self.base_url}{path}",
            encoded=True,
        )
        try:
            async with session.request(method, url, data=body, headers=headers) as resp:
                data = await resp.read()
                status = resp.status
                hdrs = resp.headers
        except aiohttp.ClientConnectorError as e:  # before ClientOSError: nothing sent
            self._fail(breaker, FailureKind.CONNECTION)
            raise VenueUnavailable(f"cannot connect: {e}", venue=self.venue) from e
        except aiohttp.ConnectionTimeoutError as e:  # connect phase: nothing sent
            self._fail(breaker, FailureKind.CONNECTION)
            raise VenueUnavailable(f"connect timeout: {e}", venue=self.venue) from e
        except TimeoutError as e:  # incl. ServerTimeoutError: sent, no answer
            self._fail(breaker, FailureKind.CONNECTION)
            raise RequestTimeout(
                f"no response within {self.timeout}s to {method} {path}", venue=self.venue
            ) from e
        except (
            aiohttp.ServerDisconnectedError,
            aiohttp.ClientPayloadError,
            aiohttp.ClientOSError,
            aiohttp.ClientConnectionError,
        ) as e:
            self._fail(breaker, FailureKind.CONNECTION)
            raise Disconnected(
                f"connection lost during {method} {path}: {e!r}", venue=self.venue
            ) from e
        except aiohttp.ClientResponseError as e:  # unparseable HTTP
            self._fail(breaker, FailureKind.BAD_DATA)
            raise MalformedResponse(
                f"malformed HTTP response to {method} {path}: {e}", venue=self.venue
            ) from e
        except aiohttp.ClientError as e:
            self._fail(breaker, FailureKind.CONNECTION)
            raise Disconnected(f"{method} {path} failed: {e!r}", venue=self.venue) from e
        if breaker is not None:
            if status >= 500:
                breaker.record_failure(FailureKind.VENUE_DOWN)
            else:
                breaker.record_success(data_ok=False)  # the payload is judged by the caller
        return HttpResponse(status, hdrs, data)

    @staticmethod
    def _fail(breaker: CircuitBreaker | None, kind: FailureKind) -> None:
        if breaker is not None:
            breaker.record_failure(kind)
