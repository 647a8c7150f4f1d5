"""Kraken error strings (``<severity><category>:<message>``) and the envelope."""

from __future__ import annotations


class KrakenError(Exception):
    """Answered as ``{"error":[message],"result":{}}`` with HTTP ``status`` (normally 200)."""

    def __init__(self, message: str, status: int = 200) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


INVALID_KEY = "EAPI:Invalid key"
INVALID_SIGNATURE = "EAPI:Invalid signature"
INVALID_NONCE = "EAPI:Invalid nonce"
API_RATE_LIMIT = "EAPI:Rate limit exceeded"
ORDER_RATE_LIMIT = "EOrder:Rate limit exceeded"
INSUFFICIENT_FUNDS = "EOrder:Insufficient funds"
UNKNOWN_ORDER = "EOrder:Unknown order"
INVALID_ARGUMENTS = "EGeneral:Invalid arguments"
POST_ONLY = "EOrder:Post only order"
ORDER_MINIMUM = "EOrder:Order minimum not met"
COST_MINIMUM = "EOrder:Cost minimum not met"
INVALID_PRICE = "EOrder:Invalid price"
UNKNOWN_PAIR = "EQuery:Unknown asset pair"
DUPLICATE_ORDER = "EOrder:Duplicate order"  # venue string unverified
UNAVAILABLE = "EService:Unavailable"
UNKNOWN_METHOD = "EGeneral:Unknown method"
#: AddOrder's ``deadline`` had passed on arrival (string as listed in our venue notes; not
#: found on Kraken's public pages)
DEADLINE_ELAPSED = "EService:Deadline elapsed"


def invalid_argument(name: str) -> KrakenError:
    return KrakenError(f"{INVALID_ARGUMENTS}:{name}")
