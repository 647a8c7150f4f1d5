"""Strict wire helpers shared by the venues' ``translate`` and ``errors`` modules.

Decoding never guesses: an unknown enum value, a malformed number or a body of the wrong
shape raises ``MalformedResponse``. Formatting never rounds: a value finer than the
instrument's increment raises ``FilterViolation``.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import TypeVar

import msgspec

from gapless.model.errors import FilterViolation, InvalidIntent, MalformedResponse

ZERO = Decimal(0)
ONE = Decimal(1)
K = TypeVar("K")
T = TypeVar("T")


# -- enums in ----------------------------------------------------------------------------
def lookup(table: Mapping[str, T], raw: str, what: str, venue: str) -> T:
    """``table[raw]``, or ``MalformedResponse("unknown <what> 'raw'")``."""
    try:
        return table[raw]
    except KeyError:
        raise MalformedResponse(f"unknown {what} {raw!r}", venue=venue) from None


# -- bodies in ---------------------------------------------------------------------------
def strict_decoder(tp: type[T], venue: str) -> Callable[[bytes], T]:
    """A msgspec JSON decoder that turns every parse or type failure into
    ``MalformedResponse("bad <TypeName>: ...")``."""
    dec = msgspec.json.Decoder(tp).decode

    def decode(body: bytes) -> T:
        try:
            return dec(body)
        except msgspec.DecodeError as exc:  # ValidationError is a DecodeError
            raise MalformedResponse(f"bad {tp.__name__}: {exc}", venue=venue) from None

    return decode


# -- numbers out -------------------------------------------------------------------------
def quantum_of(increment: Decimal) -> Decimal:
    """The quantize exponent of a tick/step: 0.01000000 -> 0.01, 10 -> 1, 0 -> 0 (none)."""
    if increment <= 0:
        return ZERO
    exp = increment.normalize().as_tuple().exponent
    assert isinstance(exp, int)
    return ONE.scaleb(min(0, exp))


def fmt_decimal(value: Decimal, quantum: Decimal, what: str = "value") -> str:
    """Plain (no exponent) string with exactly the increment's decimals.

    Raises ``FilterViolation`` if ``value`` carries more precision than ``quantum``:
    silently rounding would change the order.
    """
    if not value.is_finite():
        raise InvalidIntent(f"{what} {value} is not a finite number")
    if not quantum:
        return f"{value.normalize():f}" if value else "0"
    try:
        q = value.quantize(quantum)
    except InvalidOperation:
        raise FilterViolation(f"{what} {value} cannot be formatted") from None
    if q != value:
        raise FilterViolation(f"{what} {value} has more precision than {quantum}")
    return f"{q:f}"


# -- client order ids --------------------------------------------------------------------
def hashed_client_id(intent_id: str, prefix: str = "gl", length: int = 30) -> str:
    """``prefix`` + ``length`` lowercase base32 characters of the intent id's SHA-256: a
    deterministic id for intent ids the venue's own pattern does not accept."""
    digest = hashlib.sha256(intent_id.encode()).digest()
    return prefix + base64.b32encode(digest).decode()[:length].lower()


# -- headers -----------------------------------------------------------------------------
def header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header lookup that also works on plain dicts."""
    v = headers.get(name)
    if v is not None:
        return v
    low = name.lower()
    v = headers.get(low)
    if v is not None:
        return v
    for k, val in headers.items():
        if k.lower() == low:
            return val
    return None
