from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from gapless.sim.cluster import RunningSim, start_venue_sim


@pytest.fixture
async def sim() -> AsyncIterator[RunningSim]:
    s = await start_venue_sim("binance", host="127.0.0.1", port=0, seed=1, tick_interval=0,
                              ban_seconds=5)
    try:
        yield s
    finally:
        await s.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def sign(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


async def signed(http: aiohttp.ClientSession, sim: RunningSim, method: str, path: str,
                 params: str = "", *, key: str | None = None, secret: str | None = None,
                 ts: int | None = None, in_body: bool | None = None) -> tuple[int, Any, Any]:
    ts = ts if ts is not None else int(time.time() * 1000)
    payload = (params + "&" if params else "") + f"timestamp={ts}"
    sig = sign(secret or sim.secret, payload)
    headers = {"X-MBX-APIKEY": key or sim.api_key}
    body_mode = in_body if in_body is not None else method in ("POST", "PUT")
    if body_mode:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        r = await http.request(method, sim.rest_url + path, data=f"{payload}&signature={sig}",
                               headers=headers)
    else:
        r = await http.request(method, f"{sim.rest_url}{path}?{payload}&signature={sig}",
                               headers=headers)
    return r.status, await r.json(), r.headers
