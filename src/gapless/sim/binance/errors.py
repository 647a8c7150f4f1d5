"""Binance error codes and bodies."""

from __future__ import annotations

LEGAL_CLIENT_ID = "^[\\.A-Z\\:/a-z0-9_-]{1,36}$"


class BinanceError(Exception):
    def __init__(self, code: int, msg: str, status: int = 400,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.status = status
        self.headers = headers or {}

    def body(self) -> dict[str, object]:
        return {"code": self.code, "msg": self.msg}


def mandatory(name: str) -> BinanceError:
    return BinanceError(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")


def illegal(name: str, legal: str) -> BinanceError:
    return BinanceError(-1100, f"Illegal characters found in parameter '{name}'; legal range is '{legal}'.")


def precision(name: str) -> BinanceError:
    return BinanceError(-1111, f"Parameter '{name}' has too much precision.")


def invalid_symbol() -> BinanceError:
    return BinanceError(-1121, "Invalid symbol.")


def filter_failure(name: str) -> BinanceError:
    return BinanceError(-1013, f"Filter failure: {name}")


def insufficient_balance() -> BinanceError:
    return BinanceError(-2010, "Account has insufficient balance for requested action.")


def would_take() -> BinanceError:
    return BinanceError(-2010, "Order would immediately match and take.")


def duplicate_order() -> BinanceError:
    return BinanceError(-2010, "Duplicate order sent.")


def unknown_order_cancel() -> BinanceError:
    return BinanceError(-2011, "Unknown order sent.")


def no_such_order() -> BinanceError:
    return BinanceError(-2013, "Order does not exist.")


def bad_timestamp(ahead: bool) -> BinanceError:
    if ahead:
        return BinanceError(-1021, "Timestamp for this request was 1000ms ahead of the server's time.")
    return BinanceError(-1021, "Timestamp for this request is outside of the recvWindow.")


def bad_signature() -> BinanceError:
    return BinanceError(-1022, "Signature for this request is not valid.")


def bad_key_format() -> BinanceError:
    return BinanceError(-2014, "API-key format invalid.", status=401)


def rejected_key() -> BinanceError:
    return BinanceError(-2015, "Invalid API-key, IP, or permissions for action.", status=401)


def bad_listen_key() -> BinanceError:
    return BinanceError(-1125, "This listenKey does not exist.")


def too_much_weight(limit: int, retry_after: int) -> BinanceError:
    return BinanceError(
        -1003,
        f"Too much request weight used; current limit is {limit} request weight per 1 MINUTE. "
        "Please use WebSocket Streams for live updates to avoid polling the API.",
        status=429, headers={"Retry-After": str(retry_after)})


def banned(until_ms: int, retry_after: int) -> BinanceError:
    return BinanceError(
        -1003,
        f"Way too much request weight used; IP banned until {until_ms}. "
        "Please use WebSocket Streams for live updates to avoid bans.",
        status=418, headers={"Retry-After": str(retry_after)})


def too_many_orders(limit: int, interval: str, retry_after: int) -> BinanceError:
    return BinanceError(-1015, f"Too many new orders; current limit is {limit} orders per {interval}.",
                        status=429, headers={"Retry-After": str(retry_after)})
