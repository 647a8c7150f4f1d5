"""One endpoint table shape for every native venue.

Each venue's ``limits.py`` describes its REST endpoints as :class:`Endpoint` rows (name,
method, path, auth kind, limiter costs); the adapter sends by row instead of by path
literal, so the request pipeline (``RestVenue._send``) knows which breaker, which limiter
pools and which signing an answer belongs to, and the name is the per-endpoint label for
metrics later.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

_NO_COSTS: Mapping[str, int] = MappingProxyType({})


class AuthKind(enum.Enum):
    """What a request carries: nothing, the API key only, or a signature."""

    PUBLIC = "public"
    KEYED = "keyed"  # API key header, no signature (e.g. Binance's listenKey calls)
    SIGNED = "signed"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One REST endpoint of a venue.

    ``costs`` are paid in the venue's account-wide limiter; ``scoped_costs`` in a limiter
    per scope (OKX meters trading endpoints per instrument). ``path`` may be a template
    the adapter fills in (``/orders/historical/{order_id}``): the row still names it.
    """

    name: str
    method: str
    path: str
    auth: AuthKind = AuthKind.PUBLIC
    costs: Mapping[str, int] = field(default_factory=lambda: _NO_COSTS)
    scoped_costs: Mapping[str, int] | None = None

    @property
    def private(self) -> bool:
        """Sent with credentials: counted on the private REST breaker."""
        return self.auth is not AuthKind.PUBLIC

    def with_costs(self, costs: Mapping[str, int]) -> Endpoint:
        return replace(self, costs=MappingProxyType(dict(costs)))


def table(rows: Iterable[Endpoint]) -> Mapping[str, Endpoint]:
    """A read-only name -> row map; a repeated name is a bug in the table."""
    out: dict[str, Endpoint] = {}
    for row in rows:
        if row.name in out:
            raise ValueError(f"endpoint {row.name!r} listed twice")
        out[row.name] = row
    return MappingProxyType(out)
