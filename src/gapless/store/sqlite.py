"""SQLite journal: WAL, ``synchronous=FULL``, one writer thread with group commit.

Every write (``record_new``, ``update``, ``record_fill``) is queued to a single writer
thread that owns its own connection. The writer takes *all* pending writes, runs them in
one ``BEGIN IMMEDIATE … COMMIT`` transaction (each inside its own SAVEPOINT, so one
failing write does not undo its neighbours) and only then resolves the callers' futures.
An awaited write is therefore on disk (WAL fsync'd), and concurrent writers share a
single fsync. Reads run on a second connection in a one-thread executor.

Decimals are stored as TEXT (``str(Decimal)`` round-trips exactly, exponent included).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gapless.model import (
    Fill,
    JournalError,
    Order,
    OrderEvent,
)
from gapless.store import events as ev
from gapless.store import rows as rowmap
from gapless.store.journal import Journal

# -- schema ---------------------------------------------------------------------------
# Each migration is a list of statements applied in one transaction; never edit an
# applied migration, append a new one.
MIGRATIONS: list[list[str]] = [
    # 1: initial schema
    [
        """
        CREATE TABLE schema_version (
            version     INTEGER PRIMARY KEY,
            applied_at  INTEGER NOT NULL
        )
        """,
        """
        CREATE TABLE orders (
            intent_id        TEXT PRIMARY KEY,
            venue            TEXT NOT NULL,
            client_order_id  TEXT NOT NULL,
            venue_order_id   TEXT NOT NULL DEFAULT '',
            symbol           TEXT NOT NULL,
            side             TEXT NOT NULL,
            type             TEXT NOT NULL,
            qty              TEXT NOT NULL,
            price            TEXT,
            tif              TEXT NOT NULL,
            state            TEXT NOT NULL,
            filled_qty       TEXT NOT NULL,
            quote_filled     TEXT NOT NULL,
            fees             TEXT NOT NULL DEFAULT '{}',
            fill_ids         TEXT NOT NULL DEFAULT '[]',
            reject_reason    TEXT NOT NULL DEFAULT '',
            t_intent         INTEGER NOT NULL DEFAULT 0,
            t_checked        INTEGER NOT NULL DEFAULT 0,
            t_journaled      INTEGER NOT NULL DEFAULT 0,
            t_sent           INTEGER NOT NULL DEFAULT 0,
            t_acked          INTEGER NOT NULL DEFAULT 0,
            t_first_fill     INTEGER NOT NULL DEFAULT 0,
            t_done           INTEGER NOT NULL DEFAULT 0,
            created_at       INTEGER NOT NULL,
            updated_at       INTEGER NOT NULL,
            UNIQUE (venue, client_order_id)
        )
        """,
        "CREATE INDEX orders_state ON orders (state)",
        """
        CREATE TABLE fills (
            venue            TEXT NOT NULL,
            trade_id         TEXT NOT NULL,
            intent_id        TEXT NOT NULL,
            symbol           TEXT NOT NULL,
            side             TEXT NOT NULL,
            qty              TEXT NOT NULL,
            price            TEXT NOT NULL,
            fee              TEXT NOT NULL,
            fee_asset        TEXT NOT NULL,
            is_maker         INTEGER NOT NULL,
            ts_ms            INTEGER NOT NULL,
            client_order_id  TEXT NOT NULL,
            venue_order_id   TEXT NOT NULL,
            recorded_at      INTEGER NOT NULL,
            PRIMARY KEY (venue, trade_id)
        )
        """,
        "CREATE INDEX fills_intent ON fills (intent_id)",
    ],
    # 2: the validity bound of an order's last request, so "not found" is judged after it
    ["ALTER TABLE orders ADD COLUMN t_expires INTEGER NOT NULL DEFAULT 0"],
    # 3: every state change of every order, append-only (engine events)
    [ev.CREATE_TABLE, ev.CREATE_INDEX],
]

SCHEMA_VERSION = len(MIGRATIONS)


def _now_ns() -> int:
    return time.time_ns()


def _connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30.0)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the database to ``SCHEMA_VERSION``; returns the resulting version."""
    (current,) = conn.execute("PRAGMA user_version").fetchone()
    if current > SCHEMA_VERSION:
        raise JournalError(
            f"journal schema version {current} is newer than this gapless supports "
            f"({SCHEMA_VERSION}); upgrade gapless"
        )
    for version in range(current + 1, SCHEMA_VERSION + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for stmt in MIGRATIONS[version - 1]:
                conn.execute(stmt)
            conn.execute(
                "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                (version, _now_ns()),
            )
            conn.execute(f"PRAGMA user_version = {version:d}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return SCHEMA_VERSION


# -- writer thread --------------------------------------------------------------------
@dataclass(slots=True)
class _Job:
    fn: Callable[[sqlite3.Connection], Any]
    fut: concurrent.futures.Future[Any]


_STOP = object()


@dataclass(slots=True)
class WriterStats:
    batches: int = 0  # transactions committed (= fsyncs)
    writes: int = 0  # jobs executed
    max_batch: int = 0


class _Writer(threading.Thread):
    def __init__(self, path: str, max_batch: int) -> None:
        super().__init__(name="gapless-journal-writer", daemon=True)
        self.path = path
        self.max_batch = max_batch
        self.q: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        self.stats = WriterStats()
        self.fatal: BaseException | None = None

    def run(self) -> None:
        try:
            conn = _connect(self.path)
            migrate(conn)
        except BaseException as e:
            self.ready.set_exception(e)
            return
        self.ready.set_result(None)
        try:
            stop = False
            while not stop:
                batch: list[_Job] = []
                item = self.q.get()
                while True:
                    if item is _STOP:
                        stop = True
                    elif item.fut.set_running_or_notify_cancel():
                        batch.append(item)
                    if len(batch) >= self.max_batch:
                        break
                    try:
                        item = self.q.get_nowait()
                    except queue.Empty:
                        break
                if batch:
                    self._run_batch(conn, batch)
        except BaseException as e:  # pragma: no cover - defensive
            self.fatal = e
            self._fail_pending(e)
        finally:
            conn.close()
            if self.fatal is None:
                self._fail_pending(JournalError("journal is closed"))

    def _fail_pending(self, exc: BaseException) -> None:
        while True:
            try:
                item = self.q.get_nowait()
            except queue.Empty:
                return
            if item is not _STOP and item.fut.set_running_or_notify_cancel():
                item.fut.set_exception(exc)

    def _run_batch(self, conn: sqlite3.Connection, batch: list[_Job]) -> None:
        results: list[tuple[bool, Any]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for job in batch:
                conn.execute("SAVEPOINT job")
                try:
                    res = job.fn(conn)
                except Exception as e:
                    conn.execute("ROLLBACK TO job")
                    conn.execute("RELEASE job")
                    if isinstance(e, sqlite3.Error):
                        err = JournalError(f"journal write failed: {e}")
                        err.__cause__ = e
                        e = err
                    results.append((False, e))
                else:
                    conn.execute("RELEASE job")
                    results.append((True, res))
            conn.execute("COMMIT")  # synchronous=FULL: WAL is fsync'd before this returns
        except Exception as e:
            with contextlib.suppress(Exception):
                conn.execute("ROLLBACK")
            err = JournalError(f"journal commit failed: {e}")
            err.__cause__ = e
            for job in batch:
                job.fut.set_exception(err)
            return
        self.stats.batches += 1
        self.stats.writes += len(batch)
        self.stats.max_batch = max(self.stats.max_batch, len(batch))
        for job, (ok, val) in zip(batch, results, strict=True):
            if ok:
                job.fut.set_result(val)
            else:
                job.fut.set_exception(val)


# -- the journal ----------------------------------------------------------------------
class SqliteJournal(Journal):
    """Journal on one SQLite file. ``await``ed writes are durable (group-committed)."""

    def __init__(self, path: str | os.PathLike[str], *, max_batch: int = 1024) -> None:
        self.path = str(path)
        self.max_batch = max_batch
        self._writer: _Writer | None = None
        self._reader: sqlite3.Connection | None = None
        self._queued: set[asyncio.Future[Any]] = set()  # writes not yet committed
        self._read_exec: concurrent.futures.ThreadPoolExecutor | None = None
        self._closed = False

    @property
    def stats(self) -> WriterStats:
        return self._writer.stats if self._writer else WriterStats()

    async def open(self) -> None:
        if self._writer is not None:
            return
        try:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise JournalError(f"cannot create the journal directory for {self.path}: {e}") from e
        writer = _Writer(self.path, self.max_batch)
        writer.start()
        try:
            await asyncio.wrap_future(writer.ready)
        except JournalError:
            raise
        except Exception as e:
            raise JournalError(f"cannot open journal {self.path}: {e}") from e
        self._writer = writer
        self._read_exec = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="gapless-journal-reader"
        )
        self._reader = await self._read(lambda: _connect(self.path), raw=True)
        self._closed = False

    async def close(self) -> None:
        writer, self._writer = self._writer, None
        self._closed = True
        if writer is not None:
            writer.q.put(_STOP)
            await asyncio.to_thread(writer.join)
        if self._reader is not None and self._read_exec is not None:
            reader, self._reader = self._reader, None
            await asyncio.get_running_loop().run_in_executor(self._read_exec, reader.close)
        if self._read_exec is not None:
            self._read_exec.shutdown(wait=True)
            self._read_exec = None

    async def __aenter__(self) -> SqliteJournal:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- plumbing --
    def _enqueue(self, fn: Callable[[sqlite3.Connection], Any]) -> asyncio.Future[Any]:
        """Queue a write for the writer thread (FIFO: after every write queued before)."""
        writer = self._writer
        if writer is None or not writer.is_alive():
            raise JournalError("journal is not open")
        fut: concurrent.futures.Future[Any] = concurrent.futures.Future()
        writer.q.put(_Job(fn, fut))
        queued = asyncio.wrap_future(fut)
        self._queued.add(queued)
        queued.add_done_callback(self._queued.discard)
        return queued

    async def _write(self, fn: Callable[[sqlite3.Connection], Any]) -> Any:
        return await self._enqueue(fn)

    async def _read(self, fn: Callable[..., Any], *, raw: bool = False) -> Any:
        if self._read_exec is None:
            raise JournalError("journal is not open")
        if self._queued:  # read your writes: what was queued before this read is in it
            await asyncio.wait(set(self._queued))
        loop = asyncio.get_running_loop()
        if raw:
            return await loop.run_in_executor(self._read_exec, fn)
        reader = self._reader
        if reader is None:
            raise JournalError("journal is not open")
        return await loop.run_in_executor(self._read_exec, fn, reader)

    # -- writes --
    async def record_new(self, order: Order, events: Sequence[OrderEvent] = ()) -> list[int]:
        params = rowmap.order_params(order)

        def job(c: sqlite3.Connection) -> list[int]:
            rowmap.insert_order(c, order, params)
            return ev.insert_all(c, events)

        seqs: list[int] = await self._write(job)
        return seqs

    async def update(self, order: Order, events: Sequence[OrderEvent] = ()) -> list[int]:
        seqs: list[int] = await self.update_behind(order, events)
        return seqs

    def update_behind(
        self, order: Order, events: Sequence[OrderEvent] = ()
    ) -> asyncio.Future[list[int]]:
        params = rowmap.order_params(order)  # the order as it is now, not when written
        events = tuple(events)

        def job(c: sqlite3.Connection) -> list[int]:
            rowmap.update_order(c, order, params)
            return ev.insert_all(c, events)

        return self._enqueue(job)

    def record_fill_behind(self, fill: Fill, intent_id: str) -> asyncio.Future[bool]:
        return self._enqueue(lambda c: rowmap.insert_fill(c, fill, intent_id))

    async def events_since(self, after_seq: int = 0, limit: int = 10_000) -> list[OrderEvent]:
        def q(c: sqlite3.Connection) -> list[OrderEvent]:
            rows = c.execute(f"SELECT {ev.COLS} FROM order_events WHERE seq > ? ORDER BY seq "
                             "LIMIT ?", (after_seq, limit)).fetchall()
            return [ev.row_to_event(r) for r in rows]

        result: list[OrderEvent] = await self._read(q)
        return result

    async def last_event_seq(self) -> int:
        def q(c: sqlite3.Connection) -> int:
            (seq,) = c.execute("SELECT coalesce(max(seq), 0) FROM order_events").fetchone()
            return int(seq)

        result: int = await self._read(q)
        return result

    async def record_fill(self, fill: Fill, intent_id: str) -> bool:
        return bool(await self._write(lambda c: rowmap.insert_fill(c, fill, intent_id)))

    async def durability(self) -> tuple[str, int]:
        """The *writer* connection's ``journal_mode`` and ``synchronous`` level (2 = FULL):
        what every acknowledged write really relied on, for tests and diagnostics."""

        def q(c: sqlite3.Connection) -> tuple[str, int]:
            mode = c.execute("PRAGMA journal_mode").fetchone()[0]
            return str(mode), int(c.execute("PRAGMA synchronous").fetchone()[0])

        result: tuple[str, int] = await self._write(q)
        return result

    # -- reads --
    async def get(self, intent_id: str) -> Order | None:
        def q(c: sqlite3.Connection) -> Order | None:
            rows = c.execute(
                f"SELECT {rowmap.ORDER_COLS} FROM orders WHERE intent_id = ?", (intent_id,)
            ).fetchall()  # fetchall: never leave a read snapshot open
            return rowmap.row_to_order(rows[0]) if rows else None

        result: Order | None = await self._read(q)
        return result

    async def find_by_client_id(self, venue: str, client_order_id: str) -> Order | None:
        def q(c: sqlite3.Connection) -> Order | None:
            rows = c.execute(
                f"SELECT {rowmap.ORDER_COLS} FROM orders WHERE venue = ? AND client_order_id = ?",
                (venue, client_order_id),
            ).fetchall()
            return rowmap.row_to_order(rows[0]) if rows else None

        result: Order | None = await self._read(q)
        return result

    async def open_orders(self) -> list[Order]:
        marks = ", ".join("?" * len(rowmap.TERMINAL))

        def q(c: sqlite3.Connection) -> list[Order]:
            rows = c.execute(
                f"SELECT {rowmap.ORDER_COLS} FROM orders WHERE state NOT IN ({marks}) "
                "ORDER BY created_at, rowid",
                rowmap.TERMINAL,
            ).fetchall()
            return [rowmap.row_to_order(r) for r in rows]

        result: list[Order] = await self._read(q)
        return result

    async def all_orders(self) -> list[Order]:
        def q(c: sqlite3.Connection) -> list[Order]:
            rows = c.execute(
                f"SELECT {rowmap.ORDER_COLS} FROM orders ORDER BY created_at, rowid"
            ).fetchall()
            return [rowmap.row_to_order(r) for r in rows]

        result: list[Order] = await self._read(q)
        return result

    async def fills(self, intent_id: str) -> list[Fill]:
        def q(c: sqlite3.Connection) -> list[Fill]:
            rows = c.execute(
                f"SELECT {rowmap.FILL_COLS} FROM fills WHERE intent_id = ? ORDER BY rowid",
                (intent_id,),
            ).fetchall()
            return [rowmap.row_to_fill(r) for r in rows]

        result: list[Fill] = await self._read(q)
        return result

    async def schema_version(self) -> int:
        def q(c: sqlite3.Connection) -> int:
            return int(c.execute("PRAGMA user_version").fetchall()[0][0])

        result: int = await self._read(q)
        return result
