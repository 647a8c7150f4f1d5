"""The one error tree of gapless.

Every error states its *outcome* so callers never guess what happened to an order:

    GaplessError
    ├── ConfigError                      bad configuration; nothing was sent
    ├── LocalDenial          (DENIED)    refused inside the process; nothing was sent
    │   ├── InvalidIntent                malformed intent (missing/negative fields, bad enum)
    │   ├── UnknownSymbol                symbol not listed by the venue
    │   ├── FilterViolation              tick/step/min qty/min notional would fail
    │   ├── InsufficientBalance          local balance check failed
    │   ├── CircuitOpen                  the venue's breaker is open (also retryable later)
    │   ├── DuplicateIntent              the journal already holds this intent id / client id
    │   └── JournalError                 the journal could not durably record (do not send)
    ├── Rejected             (REJECTED)  the venue definitively did not accept the request
    │   ├── InsufficientFunds
    │   ├── InvalidOrder                 filter failure, bad precision, post-only would cross
    │   ├── AuthError                    bad key, signature, permissions
    │   ├── OrderNotFound                query/cancel of an order the venue does not know
    │   ├── DuplicateClientOrderId       client id already used among open orders
    │   └── TimestampRejected            request outside recvWindow (clock skew): safe to re-sign
    ├── Retryable            (RETRYABLE) not executed; may be retried after ``retry_after``
    │   ├── RateLimited                  429 and similar; ``banned`` for 418-style bans
    │   └── VenueUnavailable             connection refused / 503 before acceptance
    └── OutcomeUnknown       (UNKNOWN)   the request may or may not have taken effect
        ├── RequestTimeout               no answer in time after sending
        ├── ServerError                  5xx after sending
        ├── Disconnected                 connection dropped after sending
        └── MalformedResponse            answer could not be parsed / wrong types

``OutcomeUnknown`` on a create is never "failed": the engine resolves it by querying the
client order id before it would ever re-send.

Messages are scrubbed of secrets where they are born (``gapless.model.redact``): venues echo
signed strings and request headers, and ``str(exc)`` is what the CLI prints and the engine
journals as ``reject_reason``.
"""

from __future__ import annotations

import enum

from gapless.model.redact import scrub as _scrub


class Outcome(enum.Enum):
    """What an error proves about the request that raised it."""

    CONFIG = "config"
    DENIED = "denied"  # never left the process
    REJECTED = "rejected"  # venue proved non-acceptance
    RETRYABLE = "retryable"  # not executed, try again later
    UNKNOWN = "unknown"  # may have executed


class GaplessError(Exception):
    """Base of every error gapless raises on purpose."""

    outcome: Outcome = Outcome.UNKNOWN

    def __init__(
        self,
        message: str = "",
        *,
        venue: str | None = None,
        code: str | int | None = None,
        retry_after: float | None = None,
    ) -> None:
        message = _scrub(message)  # never raises; repr(exc) shows args, so scrub before
        super().__init__(message)
        self.message = message
        self.venue = venue
        self.code = code
        self.retry_after = retry_after

    def __str__(self) -> str:
        parts = [self.message or type(self).__name__]
        if self.venue:
            parts.insert(0, f"[{self.venue}]")
        if self.code is not None:
            parts.append(f"(code {self.code})")
        # again at rendering: ``message`` may have been reassigned, ``code`` is venue text
        return _scrub(" ".join(parts))


class ConfigError(GaplessError):
    outcome = Outcome.CONFIG


class LocalDenial(GaplessError):
    outcome = Outcome.DENIED


class InvalidIntent(LocalDenial):
    pass


class UnknownSymbol(LocalDenial):
    pass


class FilterViolation(LocalDenial):
    pass


class InsufficientBalance(LocalDenial):
    pass


class CircuitOpen(LocalDenial):
    """Nothing was sent; the caller may try again after ``retry_after``."""


class DuplicateIntent(LocalDenial):
    """``record_new`` for an intent id (or venue client order id) already journaled."""


class JournalError(LocalDenial):
    """A journal write did not become durable (or the journal is closed); never send."""


class Rejected(GaplessError):
    outcome = Outcome.REJECTED


class InsufficientFunds(Rejected):
    pass


class InvalidOrder(Rejected):
    pass


class AuthError(Rejected):
    pass


class OrderNotFound(Rejected):
    pass


class DuplicateClientOrderId(Rejected):
    pass


class TimestampRejected(Rejected):
    """Outside the venue's validity window: nothing executed, safe to re-sign once."""


class Retryable(GaplessError):
    outcome = Outcome.RETRYABLE


class RateLimited(Retryable):
    def __init__(self, message: str = "", *, banned: bool = False, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.banned = banned


class VenueUnavailable(Retryable):
    pass


class OutcomeUnknown(GaplessError):
    outcome = Outcome.UNKNOWN


class RequestTimeout(OutcomeUnknown):
    pass


class ServerError(OutcomeUnknown):
    pass


class Disconnected(OutcomeUnknown):
    pass


class MalformedResponse(OutcomeUnknown):
    pass


class OverfillDetected(GaplessError):
    """A fill would take filled quantity above the order quantity; it is not applied."""

    outcome = Outcome.REJECTED


class InvalidTransition(GaplessError):
    """The order state machine refused a transition."""

    outcome = Outcome.DENIED
