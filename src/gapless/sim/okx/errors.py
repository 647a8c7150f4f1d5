"""OKX error codes and the ``{"code","msg","data"}`` envelope."""

from __future__ import annotations

from typing import Any

#: pending-order clOrdId rule: case-sensitive alphanumerics, 1-32 characters
CLIENT_ID_MAX = 32


class OkxError(Exception):
    """A top-level error answer (``data`` is usually empty)."""

    def __init__(self, code: str, msg: str, status: int = 200,
                 data: list[dict[str, Any]] | None = None) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.status = status
        self.data = data or []

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "msg": self.msg, "data": self.data}


class OrderFail(Exception):
    """A per-order failure reported as ``sCode``/``sMsg`` inside ``data``."""

    def __init__(self, s_code: str, s_msg: str) -> None:
        super().__init__(s_msg)
        self.s_code = s_code
        self.s_msg = s_msg


def empty(name: str) -> OkxError:
    return OkxError("50014", f"Parameter {name} can not be empty.", 400)


def param_error(name: str) -> OkxError:
    return OkxError("51000", f"Parameter {name} error", 400)


def no_instrument() -> OkxError:
    return OkxError("51001", "Instrument ID does not exist")


def order_not_exist() -> OkxError:
    return OkxError("51603", "Order does not exist")


def rate_limited() -> OkxError:
    return OkxError("50011", "Too Many Requests", 429)


def unavailable() -> OkxError:
    return OkxError("50001", "Service temporarily unavailable. Please try again later.", 503)


def missing_header(which: str) -> OkxError:
    code = {"KEY": "50103", "PASSPHRASE": "50104", "SIGN": "50106", "TIMESTAMP": "50107"}[which]
    return OkxError(code, f'Request header "OK-ACCESS-{which}" cannot be empty', 401)


def bad_passphrase() -> OkxError:
    return OkxError("50105", 'Request header "OK-ACCESS-PASSPHRASE" incorrect', 401)


def bad_key() -> OkxError:
    return OkxError("50111", "Invalid OK-ACCESS-KEY", 401)


def bad_timestamp() -> OkxError:
    return OkxError("50112", "Invalid OK-ACCESS-TIMESTAMP", 401)


def bad_signature() -> OkxError:
    return OkxError("50113", "Invalid Sign", 401)


def expired() -> OkxError:
    return OkxError("50102", "Timestamp request expired", 401)


def not_found_path() -> OkxError:
    return OkxError("50000", "Not Found", 404)


# -- per-order failures ------------------------------------------------------------
def s_param(name: str) -> OrderFail:
    return OrderFail("51000", f"Parameter {name} error")


def s_no_instrument() -> OrderFail:
    return OrderFail("51001", "Instrument ID does not exist")


def s_insufficient(ccy: str) -> OrderFail:
    return OrderFail("51008", f"Order failed. Insufficient {ccy} balance in account")


def s_duplicate() -> OrderFail:
    return OrderFail("51016", "Client order ID already exists.")


def s_min_size() -> OrderFail:
    return OrderFail("51020", "Your order should meet or exceed the minimum order amount.")


def s_lot() -> OrderFail:
    return OrderFail("51121", "Order quantity must be a multiple of the lot size.")


def s_tick() -> OrderFail:
    return OrderFail("51000", "Parameter px error")


def s_max_size() -> OrderFail:
    return OrderFail("51202", "Market order amount exceeds the maximum amount.")


def s_exp_time_passed() -> OrderFail:
    return OrderFail("50036", "The expTime can't be earlier than the current system time. "
                              "Please adjust the expTime and try again.")


def s_cancel_failed() -> OrderFail:
    return OrderFail(
        "51400",
        "Order cancellation failed as the order has been filled, canceled or does not exist.",
    )


def s_not_exist() -> OrderFail:
    return OrderFail("51603", "Order does not exist")


def s_rate_limited() -> OrderFail:
    return OrderFail("50011", "Rate limit reached. Please refer to API documentation and throttle "
                              "requests accordingly.")
