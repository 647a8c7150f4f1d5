"""Bybit V5 signature checks (HMAC-SHA256, lowercase hex).

REST prehash: ``timestamp + api_key + recv_window + payload`` where payload is the raw
query string (GET) or the raw JSON body (POST), exactly as received.
WebSocket ``auth``: ``"GET/realtime" + expires``.
"""

from __future__ import annotations

import hashlib
import hmac


def sign(secret: str, prehash: str) -> str:
    return hmac.new(secret.encode(), prehash.encode(), hashlib.sha256).hexdigest()


def rest_prehash(timestamp: str, api_key: str, recv_window: str, payload: str) -> str:
    return f"{timestamp}{api_key}{recv_window}{payload}"


def verify(secret: str, prehash: str, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, prehash), signature.lower())


def ws_prehash(expires: int | str) -> str:
    return f"GET/realtime{expires}"
