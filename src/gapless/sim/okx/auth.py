"""OKX request signing as the venue checks it: ``base64(HMAC-SHA256(secret, prehash))``.

REST prehash: ISO-8601 ms timestamp + METHOD + requestPath (with query) + body.
WS login prehash: Unix-seconds timestamp + ``GET`` + ``/users/self/verify``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

WS_VERIFY_PATH = "/users/self/verify"


def sign(secret: str, prehash: str) -> str:
    mac = hmac.new(secret.encode(), prehash.encode(), hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def verify(secret: str, prehash: str, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, prehash), signature)


def parse_iso_ms(ts: str) -> int | None:
    """``2020-12-08T09:08:57.715Z`` -> Unix milliseconds; ``None`` when malformed."""
    if not ts.endswith("Z"):
        return None
    body = ts[:-1]
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S"):
        try:
            dt = datetime.strptime(body, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
        return int(dt.timestamp() * 1000)
    return None


def parse_unix_seconds(ts: str) -> float | None:
    try:
        value = float(ts)
    except ValueError:
        return None
    return value if value > 0 else None


def past_exp_time(exp_time: str | None, now_ms: int) -> bool:
    """True when a place/amend request arrived after its optional ``expTime`` header (Unix
    ms): OKX then does not process it. ``ValueError`` when the header is not a number."""
    if exp_time is None or exp_time == "":
        return False
    if not exp_time.isascii() or not exp_time.isdigit():
        raise ValueError(exp_time)
    return now_ms > int(exp_time)
