"""Bybit V5 ``retCode``/``retMsg`` errors as the simulator answers them.

Business errors travel as HTTP 200 with a non-zero ``retCode`` in the usual envelope.
"""

from __future__ import annotations


class BybitError(Exception):
    def __init__(self, code: int, msg: str, *, status: int = 200,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.status = status
        self.headers = headers or {}


def params(detail: str = "") -> BybitError:
    return BybitError(10001, f"params error: {detail}" if detail else "Request parameter error.")


def timestamp_window(req_ts: int, server_ts: int, recv_window: int) -> BybitError:
    return BybitError(
        10002,
        "invalid request, please check your server timestamp or recv_window param. "
        f"req_timestamp[{req_ts}],server_timestamp[{server_ts}],recv_window[{recv_window}]")


def invalid_key() -> BybitError:
    return BybitError(10003, "API key is invalid.")


def bad_sign(origin: str) -> BybitError:
    return BybitError(10004, "error sign! origin_string[" + origin + "]")


def rate_limited(headers: dict[str, str]) -> BybitError:
    return BybitError(10006, "Too many visits. Exceeded the API Rate Limit.", headers=headers)


def insufficient_balance() -> BybitError:
    return BybitError(170131, "Insufficient balance.")


def invalid_symbol() -> BybitError:
    return BybitError(170121, "Invalid symbol.")


def price_too_high() -> BybitError:
    return BybitError(170132, "Order price too high.")


def price_too_low() -> BybitError:
    return BybitError(170133, "Order price lower than the minimum.")


def price_precision() -> BybitError:
    return BybitError(170134, "Order price decimal too long.")


def qty_too_low() -> BybitError:
    return BybitError(170136, "Order quantity lower than the minimum.")


def qty_precision() -> BybitError:
    return BybitError(170137, "Order volume decimal too long")


def qty_too_high() -> BybitError:
    return BybitError(170124, "Order amount too large.")


def value_too_low() -> BybitError:
    return BybitError(170140, "Order value exceeded lower limit")


def duplicate_link_id() -> BybitError:
    return BybitError(170141, "Duplicate clientOrderId")


def post_only_cross() -> BybitError:
    return BybitError(170218, "The LIMIT-MAKER order is rejected due to invalid price.")


def order_not_exist() -> BybitError:
    return BybitError(170213, "Order does not exist.")
