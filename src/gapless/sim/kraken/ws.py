"""WebSocket v2 (path ``/v2``): status, ping/pong, heartbeat, ``book`` with checksums and the
private ``executions`` channel authorised by a ``GetWebSocketsToken`` token."""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
from aiohttp import WSMsgType, web

from ..core.exchange import Exchange
from ..core.faults import Faults
from ..core.models import BUY, CANCELED, EXPIRED, FILLED, MARKET, NEW, BookDelta, Event, OrderEvent
from .checksum import book_checksum
from .state import KrakenState

DEPTHS = (10, 25, 100, 500, 1000)


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


def num(d: Decimal) -> float:
    """Kraken v2 sends JSON numbers; the float's shortest repr keeps the decimal digits."""
    return float(d)


class Conn:
    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.books: dict[str, tuple[int, dict[Decimal, Decimal], dict[Decimal, Decimal]]] = {}
        self.executions = False
        self.exec_seq = 0

    def send(self, obj: Any) -> None:
        self.queue.put_nowait(orjson.dumps(obj))


class WsApi:
    def __init__(self, exchange: Exchange, faults: Faults, state: KrakenState) -> None:
        self.ex = exchange
        self.faults = faults
        self.st = state
        self.conns: set[Conn] = set()
        self._conn_ids = 0
        exchange.subscribe(self.on_event)
        faults.on_ws_disconnect(self.disconnect_all)

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/v2", self.handle)

    def disconnect_all(self) -> None:
        for c in list(self.conns):
            c.queue.put_nowait(None)

    async def close_all(self) -> None:
        for c in list(self.conns):
            with contextlib.suppress(Exception):
                await c.ws.close()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if self.faults.outage is not None:
            return web.Response(status=503, text="unavailable")
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        conn = Conn(ws)
        self.conns.add(conn)
        self._conn_ids += 1
        conn.send({"channel": "status", "type": "update", "data": [{
            "api_version": "v2", "connection_id": 10_000 + self._conn_ids, "system": "online",
            "version": "2.0.10"}]})
        writer = asyncio.get_running_loop().create_task(self._writer(conn))
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self._on_message(conn, msg.data)
                elif msg.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                    break
        finally:
            self.conns.discard(conn)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
            await ws.close()
        return ws

    async def _writer(self, conn: Conn) -> None:
        last = time.monotonic()
        while True:
            try:
                data = await asyncio.wait_for(conn.queue.get(), timeout=1.0)
            except TimeoutError:
                if (not self.faults.ws_stall and (conn.books or conn.executions)
                        and time.monotonic() - last >= 1.0):
                    await conn.ws.send_bytes(b'{"channel":"heartbeat"}')
                    last = time.monotonic()
                continue
            if data is None:  # injected disconnect
                await conn.ws.close()
                return
            if self.faults.ws_stall:
                continue
            if self.faults.latency_ms:
                await asyncio.sleep(self.faults.latency_ms / 1000)
            await conn.ws.send_str(data.decode())
            last = time.monotonic()

    # ---------------------------------------------------------- requests
    def _on_message(self, conn: Conn, text: str) -> None:
        now_in = iso(int(time.time() * 1000))
        try:
            req = orjson.loads(text)
            if not isinstance(req, dict):
                raise ValueError
        except (orjson.JSONDecodeError, ValueError):
            conn.send({"error": "Malformed request", "success": False, "time_in": now_in,
                       "time_out": now_in})
            return
        method = req.get("method")
        req_id = req.get("req_id")
        params = req.get("params") or {}

        def answer(result: Any = None, error: str | None = None) -> None:
            msg: dict[str, Any] = {"method": method}
            if error is None:
                if result is not None:
                    msg["result"] = result
                msg["success"] = True
            else:
                msg["error"] = error
                msg["success"] = False
            msg["time_in"] = now_in
            msg["time_out"] = iso(int(time.time() * 1000))
            if req_id is not None:
                msg["req_id"] = req_id
            conn.send(msg)

        if method == "ping":
            out: dict[str, Any] = {"method": "pong"}
            if req_id is not None:
                out["req_id"] = req_id
            out["time_in"] = now_in
            out["time_out"] = iso(int(time.time() * 1000))
            conn.send(out)
        elif method in ("subscribe", "unsubscribe") and isinstance(params, dict):
            channel = params.get("channel")
            if channel == "book":
                self._book_sub(conn, method, params, answer)
            elif channel == "executions":
                token = params.get("token")
                if not isinstance(token, str) or token not in self.st.ws_tokens:
                    answer(error="EAccount:Invalid permissions" if token else "Token(s) not found")
                    return
                if method == "unsubscribe":
                    conn.executions = False
                    answer({"channel": "executions"})
                    return
                conn.executions = True
                answer({"channel": "executions", "snapshot": True, "maxratecount": 180})
                if params.get("snap_orders", True):
                    data = [self._exec_snapshot_item(o) for o in self.ex.open_orders()]
                    self._exec_send(conn, "snapshot", data)
            elif channel == "heartbeat":
                answer({"channel": "heartbeat"})
            else:
                answer(error=f"Channel {channel} not found")
        else:
            answer(error=f"Method {method} not found")

    def _book_sub(self, conn: Conn, method: str, params: dict[str, Any], answer: Any) -> None:
        symbols = params.get("symbol")
        depth = params.get("depth", 10)
        if not isinstance(symbols, list) or not symbols or depth not in DEPTHS:
            answer(error="EGeneral:Invalid arguments")
            return
        for sym in symbols:
            if sym not in self.st.pairs:
                answer(error="Currency pair not supported")
                continue
            if method == "unsubscribe":
                conn.books.pop(sym, None)
                answer({"channel": "book", "depth": depth, "symbol": sym})
                continue
            answer({"channel": "book", "depth": depth, "snapshot": True, "symbol": sym})
            _, bids, asks = self.ex.depth(sym, depth)
            conn.books[sym] = (depth, dict(bids), dict(asks))
            conn.send(self._book_msg(sym, "snapshot", bids, asks, bids, asks))

    def _book_msg(self, sym: str, kind: str, bids: list[tuple[Decimal, Decimal]],
                  asks: list[tuple[Decimal, Decimal]], top_bids: list[tuple[Decimal, Decimal]],
                  top_asks: list[tuple[Decimal, Decimal]]) -> dict[str, Any]:
        p = self.st.pairs[sym]
        data: dict[str, Any] = {
            "symbol": sym,
            "bids": [{"price": num(px), "qty": num(q)} for px, q in bids],
            "asks": [{"price": num(px), "qty": num(q)} for px, q in asks],
            "checksum": book_checksum(top_asks, top_bids, p.pair_decimals, p.lot_decimals),
        }
        if kind == "update":
            data["timestamp"] = iso(self.ex.time_ms())
        return {"channel": "book", "type": kind, "data": [data]}

    # ------------------------------------------------------------ events
    def on_event(self, ev: Event) -> None:
        if not self.conns:
            return
        if isinstance(ev, BookDelta):
            self._on_book(ev.symbol)
        elif isinstance(ev, OrderEvent) and ev.order.account == Exchange.TEST_ACCOUNT:
            item = self._exec_item(ev)
            for c in self.conns:
                if c.executions:
                    self._exec_send(c, "update", [item])

    def _on_book(self, sym: str) -> None:
        for c in self.conns:
            sub = c.books.get(sym)
            if sub is None:
                continue
            depth, old_b, old_a = sub
            _, bids, asks = self.ex.depth(sym, depth)
            new_b, new_a = dict(bids), dict(asks)
            ch_b = _diff(old_b, new_b, reverse=True)
            ch_a = _diff(old_a, new_a, reverse=False)
            if not ch_b and not ch_a:
                continue
            c.books[sym] = (depth, new_b, new_a)
            c.send(self._book_msg(sym, "update", ch_b, ch_a, bids, asks))

    def _exec_send(self, conn: Conn, kind: str, data: list[dict[str, Any]]) -> None:
        conn.exec_seq += 1
        conn.send({"channel": "executions", "type": kind, "data": data, "sequence": conn.exec_seq})

    def _base(self, o: Any) -> dict[str, Any]:
        self.st.adopt(o)
        item: dict[str, Any] = {
            "order_id": self.st.txid(o.order_id),
            "symbol": o.symbol,
            "side": "buy" if o.side == BUY else "sell",
            "order_type": "market" if o.type == MARKET else "limit",
            "order_qty": num(o.qty if o.qty is not None else (o.quote_qty or Decimal(0))),
            "time_in_force": o.tif if o.type != MARKET else "IOC",
            "post_only": o.order_id in self.st.post_only,
            "cum_qty": num(o.filled),
            "cum_cost": num(o.cum_quote),
            "avg_price": num(o.cum_quote / o.filled) if o.filled else 0.0,
            "timestamp": iso(o.updated),
        }
        if o.price is not None and o.type != MARKET:
            item["limit_price"] = num(o.price)
        cl = self.st.cl_ord_id.get(o.order_id)
        if cl is not None:
            item["cl_ord_id"] = cl
        ref = self.st.userref.get(o.order_id)
        if ref is not None:
            item["order_userref"] = ref
        return item

    def _exec_snapshot_item(self, o: Any) -> dict[str, Any]:
        item = self._base(o)
        item["exec_type"] = "new"
        item["order_status"] = "partially_filled" if o.filled else "new"
        return item

    def _exec_item(self, ev: OrderEvent) -> dict[str, Any]:
        o = ev.order
        item = self._base(o)
        item["timestamp"] = iso(ev.time)
        if ev.exec_type == NEW:
            item["exec_type"] = "new"
            item["order_status"] = "new"
            # the core reports the order as it is *now*; NEW precedes its fills
            item["cum_qty"] = 0.0
            item["cum_cost"] = 0.0
            item["avg_price"] = 0.0
        elif ev.exec_type == "TRADE" and ev.fill is not None:
            f = ev.fill
            item["exec_type"] = "trade"
            done = o.qty is not None and o.filled >= o.qty
            item["order_status"] = "filled" if done or o.status == FILLED else "partially_filled"
            base, quote = o.symbol.split("/")
            item.update({
                "exec_id": self.st.trade_txid(f.trade_id),
                "trade_id": f.trade_id,
                "last_qty": num(f.qty),
                "last_price": num(f.price),
                "cost": num(f.quote_qty),
                "liquidity_ind": "m" if f.is_maker else "t",
                "fees": [{"asset": f.fee_asset or (base if o.side == BUY else quote),
                          "qty": num(f.fee)}],
            })
        elif ev.exec_type in (CANCELED, EXPIRED):
            item["exec_type"] = "canceled"
            item["order_status"] = "canceled"
            item["reason"] = "User requested" if ev.exec_type == CANCELED else "Insufficient liquidity"
        else:
            item["exec_type"] = "status"
            item["order_status"] = "new"
        return item


def _diff(old: dict[Decimal, Decimal], new: dict[Decimal, Decimal],
          reverse: bool) -> list[tuple[Decimal, Decimal]]:
    out = [(p, q) for p, q in new.items() if old.get(p) != q]
    out += [(p, Decimal(0)) for p in old if p not in new]
    out.sort(key=lambda x: x[0], reverse=reverse)
    return out
