"""OKX request signing (docs §7.2).

REST: ``OK-ACCESS-SIGN = base64(HMAC-SHA256(secret, timestamp + METHOD + requestPath + body))``
where ``timestamp`` is ISO-8601 UTC with milliseconds and ``requestPath`` includes the
query string for GET. WS login signs ``unix_seconds + "GET" + "/users/self/verify"``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

WS_LOGIN_PATH = "/users/self/verify"


def iso_ms(t: float) -> str:
    """Unix seconds -> ``2020-12-08T09:08:57.715Z``."""
    ms = round(t * 1000)
    secs, milli = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{milli:03d}Z"


def sign(secret: str, prehash: str) -> str:
    mac = hmac.new(secret.encode(), prehash.encode(), hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def rest_prehash(timestamp: str, method: str, request_path: str, body: str = "") -> str:
    return f"{timestamp}{method.upper()}{request_path}{body}"


class Signer:
    """Holds the key material; ``headers()`` builds the four OK-ACCESS-* headers."""

    __slots__ = ("_base", "_mac", "api_key", "passphrase")

    def __init__(self, api_key: str, secret: str, passphrase: str, *, demo: bool = False) -> None:
        self.api_key = api_key
        self.passphrase = passphrase
        self._mac = hmac.new(secret.encode(), digestmod=hashlib.sha256)
        self._base = {
            "OK-ACCESS-KEY": api_key,
            "OK-ACCESS-PASSPHRASE": passphrase,
            "Content-Type": "application/json",
        }
        if demo:
            self._base["x-simulated-trading"] = "1"

    def sign(self, prehash: str) -> str:
        mac = self._mac.copy()
        mac.update(prehash.encode())
        return base64.b64encode(mac.digest()).decode()

    def headers(
        self, timestamp: str, method: str, request_path: str, body: str = "",
        exp_time_ms: int | None = None,
    ) -> dict[str, str]:
        """``exp_time_ms``: the ``expTime`` header (venue-clock Unix ms), after which OKX
        will not process a place/amend request; it is not part of the signature."""
        h = dict(self._base)
        h["OK-ACCESS-TIMESTAMP"] = timestamp
        h["OK-ACCESS-SIGN"] = self.sign(rest_prehash(timestamp, method, request_path, body))
        if exp_time_ms is not None:
            h["expTime"] = str(exp_time_ms)
        return h

    def ws_login(self, unix_seconds: str) -> dict[str, object]:
        return {
            "op": "login",
            "args": [{
                "apiKey": self.api_key,
                "passphrase": self.passphrase,
                "timestamp": unix_seconds,
                "sign": self.sign(f"{unix_seconds}GET{WS_LOGIN_PATH}"),
            }],
        }
