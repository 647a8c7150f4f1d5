"""SQLite-specific journal tests: pragmas, schema versioning, crash durability, URLs."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from decimal import Decimal
from pathlib import Path

import pytest

from gapless.model import ConfigError, JournalError
from gapless.store import journal_path, open_journal
from gapless.store.sqlite import SCHEMA_VERSION, SqliteJournal

from .test_journal_contract import make_order


async def test_schema_version_and_pragmas(tmp_path: Path) -> None:
    db = tmp_path / "j.db"
    j = SqliteJournal(db)
    await j.open()
    assert await j.schema_version() == SCHEMA_VERSION >= 1
    # the connection that commits every write: WAL, and fsync on every commit (FULL = 2)
    assert await j.durability() == ("wal", 2)
    await j.close()
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY 1")]
        assert versions == list(range(1, SCHEMA_VERSION + 1))
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"orders", "fills", "schema_version"} <= tables
    finally:
        conn.close()


async def test_reopen_does_not_rerun_migrations(tmp_path: Path) -> None:
    db = tmp_path / "j.db"
    for _ in range(3):
        j = SqliteJournal(db)
        await j.open()
        await j.close()
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM schema_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()


async def test_newer_schema_refused(tmp_path: Path) -> None:
    db = tmp_path / "j.db"
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.commit()
    conn.close()
    with pytest.raises(JournalError, match="newer"):
        await SqliteJournal(db).open()


async def test_decimals_stored_as_exact_text(tmp_path: Path) -> None:
    db = tmp_path / "j.db"
    j = SqliteJournal(db)
    await j.open()
    await j.record_new(make_order(qty=Decimal("0.10000000"), price=Decimal("0.1")))
    await j.close()
    conn = sqlite3.connect(db)
    row = conn.execute("SELECT qty, price, typeof(qty) FROM orders").fetchone()
    conn.close()
    assert row == ("0.10000000", "0.1", "text")


def test_open_journal_urls(tmp_path: Path) -> None:
    j = open_journal(f"sqlite:///{tmp_path}/x.db")
    assert isinstance(j, SqliteJournal) and Path(j.path) == tmp_path / "x.db"
    assert journal_path("sqlite:///rel/x.db") == Path("rel/x.db")
    assert journal_path("sqlite:////abs/x.db") == Path("/abs/x.db")
    with pytest.raises(ConfigError, match="not yet supported"):
        open_journal("postgresql://user:pw@localhost/db")
    with pytest.raises(ConfigError, match="unknown"):
        open_journal("mysql://localhost/db")
    with pytest.raises(ConfigError):
        open_journal("journal.db")
    with pytest.raises(ConfigError):
        open_journal("sqlite:///:memory:")
    with pytest.raises(ConfigError):
        open_journal("sqlite:///")


CRASH_WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from decimal import Decimal
    from gapless.model import Order, OrderType, Side, TimeInForce
    from gapless.store.sqlite import SqliteJournal

    async def one(j, n):
        o = Order(intent_id=f"i-{n}", venue="v", symbol="BTC/USDT", side=Side.BUY,
                  type=OrderType.LIMIT, qty=Decimal("1"), price=Decimal("2"),
                  tif=TimeInForce.GTC, client_order_id=f"c-{n}")
        await j.record_new(o)
        sys.stdout.write(f"{o.intent_id}\\n")
        sys.stdout.flush()

    async def main():
        j = SqliteJournal(sys.argv[1])
        await j.open()
        n = 0
        while True:  # until SIGKILLed; batches of concurrent writers share commits
            await asyncio.gather(*(one(j, n + k) for k in range(8)))
            n += 8

    asyncio.run(main())
    """
)


def test_sigkill_mid_stream_keeps_every_acknowledged_write(tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    script = tmp_path / "writer.py"
    script.write_text(CRASH_WRITER)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    printed: list[str] = []
    try:
        for raw in proc.stdout:
            printed.append(raw.decode().strip())
            if len(printed) >= 400:
                break
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        rest, err = proc.communicate(timeout=30)
    assert len(printed) >= 400, err.decode(errors="replace")
    assert proc.returncode == -signal.SIGKILL
    # whatever was printed before the kill landed too (complete lines only)
    printed += [ln for ln in rest.decode().split("\n")[:-1] if ln]
    conn = sqlite3.connect(db)
    stored = {r[0] for r in conn.execute("SELECT intent_id FROM orders")}
    conn.close()
    missing = set(printed) - stored
    assert not missing, f"{len(missing)} acknowledged writes lost: {sorted(missing)[:5]}"


async def test_sqlite_errors_surface_as_journal_error(tmp_path: Path) -> None:
    j = SqliteJournal(tmp_path / "j.db")
    await j.open()
    try:
        with pytest.raises(JournalError, match="no such table"):
            await j._write(lambda c: c.execute("INSERT INTO nope VALUES (1)"))
        # the writer is still healthy afterwards
        await j.record_new(make_order(1))
        assert await j.get("intent-1") is not None
    finally:
        await j.close()


async def test_failed_batch_fails_every_caller_in_it(tmp_path: Path) -> None:
    """A batch whose transaction dies reports failure to all its callers: no write is
    acknowledged without being stored, and none is stored while reported failed."""
    j = SqliteJournal(tmp_path / "j.db")
    await j.open()
    try:
        # hold the writer so everything below queues up and is committed in few batches
        gate = threading.Event()
        blocker = asyncio.create_task(j._write(lambda c: gate.wait(10)))
        calls = [asyncio.create_task(j.record_new(make_order(i))) for i in range(30)]
        poison = asyncio.create_task(j._write(lambda c: c.execute("ROLLBACK")))
        calls += [asyncio.create_task(j.record_new(make_order(i))) for i in range(30, 60)]
        await asyncio.sleep(0)  # every task has enqueued its job
        gate.set()
        results = await asyncio.gather(*calls, return_exceptions=True)
        poisoned = await asyncio.gather(blocker, poison, return_exceptions=True)
        assert isinstance(poisoned[1], JournalError)
        failed = [r for r in [*results, poisoned[0]] if r is not None and r is not True]
        assert failed and all(isinstance(r, JournalError) for r in failed)  # batch-mates too
        stored = {o.intent_id for o in await j.all_orders()}
        for i, r in enumerate(results):
            assert (not isinstance(r, BaseException)) == (f"intent-{i}" in stored)
        await j.record_new(make_order("after"))  # the writer recovered
    finally:
        await j.close()


async def test_close_never_drops_a_write_silently(tmp_path: Path) -> None:
    j = SqliteJournal(tmp_path / "j.db")
    await j.open()
    tasks = [asyncio.create_task(j.record_new(make_order(i))) for i in range(50)]
    await asyncio.sleep(0)  # let some of them enqueue
    await j.close()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    j2 = SqliteJournal(tmp_path / "j.db")
    await j2.open()
    stored = {o.intent_id for o in await j2.all_orders()}
    await j2.close()
    for i, r in enumerate(results):
        assert not isinstance(r, BaseException) or isinstance(r, JournalError)
        assert (not isinstance(r, BaseException)) == (f"intent-{i}" in stored)
