"""Bybit V5 signing: ``hex(HMAC-SHA256(secret, timestamp + api_key + recv_window + payload))``.

``payload`` is the query string exactly as sent (GET) or the raw JSON body (POST). The
private WebSocket ``auth`` op signs ``"GET/realtime" + expires`` with the same secret.
"""

from __future__ import annotations

import hashlib
import hmac

from gapless.model.errors import ConfigError


class BybitSigner:
    """Keyed HMAC state prepared once; ``headers`` builds the four ``X-BAPI-*`` headers."""

    __slots__ = ("_base", "api_key", "recv_window")

    def __init__(self, api_key: str, secret: str, recv_window: int = 5000) -> None:
        if not api_key or not secret:
            raise ConfigError("bybit: api_key and secret are required for private requests")
        self.api_key = api_key
        self.recv_window = str(recv_window)
        self._base = hmac.new(secret.encode(), digestmod=hashlib.sha256)

    def sign(self, prehash: str) -> str:
        h = self._base.copy()
        h.update(prehash.encode())
        return h.hexdigest()

    def rest_signature(self, timestamp_ms: int, payload: str) -> str:
        return self.sign(f"{timestamp_ms}{self.api_key}{self.recv_window}{payload}")

    def headers(self, timestamp_ms: int, payload: str, *, json_body: bool = False) -> dict[str, str]:
        h = {
            "X-BAPI-API-KEY": self.api_key,
            "X-BAPI-TIMESTAMP": str(timestamp_ms),
            "X-BAPI-RECV-WINDOW": self.recv_window,
            "X-BAPI-SIGN": self.rest_signature(timestamp_ms, payload),
        }
        if json_body:
            h["Content-Type"] = "application/json"
        return h

    def ws_auth_args(self, expires_ms: int) -> list[object]:
        """``args`` of ``{"op": "auth"}``: key, expiry (ms, in the future), signature."""
        return [self.api_key, expires_ms, self.sign(f"GET/realtime{expires_ms}")]
