"""Every venue gapless can drive, with capabilities: native drivers and every ccxt id.

Importing this module is cheap; :func:`venue_catalog` imports ccxt (over a second).
"""

from __future__ import annotations

from typing import Any

from gapless.venues.ccxt_bridge.profiles import profile_for

#: what the native adapters implement (see each ``venues/<name>/adapter.py``)
_NATIVE_CAPS: dict[str, Any] = {
    "ws_book": True,
    "ws_orders": True,
    "client_ids": True,
    "query_by_client_id": True,
    "cancel_all": False,
    "order_types": ["limit", "market"],
    "time_in_force": ["gtc", "ioc", "fok", "post_only"],
}


def _flag(has: dict[str, Any], key: str) -> bool:
    return bool(has.get(key))


def ccxt_capabilities(exchange_id: str, has: dict[str, Any]) -> dict[str, Any]:
    profile = profile_for(exchange_id)  # the generic one without an exchanges/<id>.py
    types = ["limit"] if has.get("createLimitOrder", True) else []
    if _flag(has, "createMarketOrder"):
        types.append("market")
    for key, name in (("createStopOrder", "stop"), ("createStopLimitOrder", "stop_limit"),
                      ("createTrailingAmountOrder", "trailing"),
                      ("createTriggerOrder", "trigger")):
        if _flag(has, key):
            types.append(name)
    tif = ["gtc"]
    if _flag(has, "createOrder"):
        tif += ["ioc", "fok"]
    if _flag(has, "createPostOnlyOrder") or _flag(has, "createOrder"):
        tif.append("post_only")
    return {
        "ws_book": _flag(has, "watchOrderBook"),
        "ws_orders": _flag(has, "watchOrders"),
        # every ccxt venue gets a client id; a profile means we know the venue's own field
        "client_ids": True,
        "client_id_param": profile.create_param,
        "query_by_client_id": bool(profile.query_param),
        "cancel_all": _flag(has, "cancelAllOrders"),
        "order_types": types,
        "time_in_force": tif,
        "fetch_my_trades": _flag(has, "fetchMyTrades"),
    }


def venue_catalog() -> list[dict[str, Any]]:
    """One row per venue: ``{"venue", "driver", "exchange", ...capabilities}``."""
    from gapless.venues.registry import DRIVERS

    rows: list[dict[str, Any]] = []
    for driver in sorted(DRIVERS):
        if driver == "ccxt":
            continue
        rows.append({"venue": driver, "driver": driver, "exchange": "", **_NATIVE_CAPS})

    try:
        import ccxt.async_support as ccxt_async
    except ImportError:  # the ccxt extra is not installed: the native venues only
        return rows

    try:
        import ccxt.pro as ccxt_pro

        pro_ids = set(ccxt_pro.exchanges)
    except ImportError:  # pragma: no cover
        ccxt_pro, pro_ids = None, set()
    for exchange_id in sorted(ccxt_async.exchanges):
        mod: Any = ccxt_pro if exchange_id in pro_ids else ccxt_async
        try:
            has = dict(getattr(mod, exchange_id)().has)
        except Exception:  # an exchange class that cannot even be built offline
            continue
        rows.append({
            "venue": f"ccxt:{exchange_id}",
            "driver": "ccxt",
            "exchange": exchange_id,
            **ccxt_capabilities(exchange_id, has),
        })
    return rows
