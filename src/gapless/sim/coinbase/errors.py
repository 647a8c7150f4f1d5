"""Coinbase Advanced Trade error envelopes.

* generic errors: HTTP 4xx/5xx with ``{"error","error_details","message"}``;
* authentication failures: HTTP 401 with the plain-text body ``Unauthorized``;
* rate limiting: HTTP 429 with ``{"errors":[{"id":"rate_limit_exceeded",...}]}``;
* order rejects: HTTP **200** with ``success:false`` and an ``error_response``.
"""

from __future__ import annotations

from typing import Any


class CoinbaseError(Exception):
    """An error answered with a non-200 status."""

    def __init__(self, status: int, error: str, message: str, details: str = "",
                 headers: dict[str, str] | None = None, text: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.details = details or message
        self.headers = headers or {}
        self.text = text  # plain-text body instead of JSON

    def body(self) -> dict[str, Any]:
        if self.error == "rate_limit_exceeded":
            return {"errors": [{"id": "rate_limit_exceeded", "message": self.message}]}
        return {"error": self.error, "error_details": self.details, "message": self.message}


def unauthorized() -> CoinbaseError:
    return CoinbaseError(401, "UNAUTHENTICATED", "Unauthorized", text="Unauthorized")


def invalid_argument(message: str) -> CoinbaseError:
    return CoinbaseError(400, "INVALID_ARGUMENT", message)


def not_found(message: str) -> CoinbaseError:
    return CoinbaseError(404, "NOT_FOUND", message)


def rate_limited(retry_after: int) -> CoinbaseError:
    return CoinbaseError(429, "rate_limit_exceeded", "Too many requests",
                         headers={"Retry-After": str(retry_after)})


def unavailable() -> CoinbaseError:
    return CoinbaseError(503, "UNAVAILABLE", "service unavailable")


# new-order failure reasons (error_response.error) and their preview counterparts
REJECTS: dict[str, tuple[str, str, str]] = {
    # core reason -> (error, preview_failure_reason, message)
    "insufficient_balance": ("INSUFFICIENT_FUND", "PREVIEW_INSUFFICIENT_FUND", "Insufficient balance in source account"),
    "would_take": ("INVALID_LIMIT_PRICE_POST_ONLY", "PREVIEW_INVALID_LIMIT_PRICE_POST_ONLY",
                   "Post-only order would cross the book"),
    "unknown_symbol": ("INVALID_PRODUCT_ID", "PREVIEW_INVALID_PRODUCT_ID", "Invalid product_id"),
    "PRICE_FILTER": ("INVALID_PRICE_PRECISION", "PREVIEW_INVALID_PRICE_PRECISION",
                     "Price does not match the product's price increment or bounds"),
    "LOT_SIZE": ("INVALID_SIZE_PRECISION", "PREVIEW_INVALID_SIZE_PRECISION",
                 "Size does not match the product's base increment or bounds"),
    "MARKET_LOT_SIZE": ("INVALID_SIZE_PRECISION", "PREVIEW_INVALID_SIZE_PRECISION",
                        "Size does not match the product's base increment or bounds"),
    "NOTIONAL": ("INVALID_SIZE_PRECISION", "PREVIEW_INVALID_QUOTE_SIZE_PRECISION",
                 "Order value is outside the product's quote size bounds"),
    "bad_param": ("INVALID_REQUEST", "PREVIEW_INVALID_REQUEST", "Invalid order request"),
    "unsupported": ("UNSUPPORTED_ORDER_CONFIGURATION", "PREVIEW_INVALID_ORDER_CONFIG",
                    "Unsupported order configuration"),
    "side": ("INVALID_SIDE", "PREVIEW_INVALID_SIDE", "Invalid side"),
    "no_liquidity": ("INVALID_NO_LIQUIDITY", "PREVIEW_INVALID_NO_LIQUIDITY", "No liquidity"),
}


def order_failure(reason: str, detail: str = "") -> dict[str, Any]:
    """The HTTP 200 ``success:false`` create-order answer."""
    error, preview, message = REJECTS.get(detail) or REJECTS.get(reason, REJECTS["bad_param"])
    if detail and reason == "bad_param":
        message = f"{message}: {detail}"
    return {
        "success": False,
        "failure_reason": "UNKNOWN_FAILURE_REASON",
        "order_id": "",
        "error_response": {
            "error": error,
            "message": message,
            "error_details": message,
            "preview_failure_reason": preview,
            "new_order_failure_reason": error,
        },
    }
