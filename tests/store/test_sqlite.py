"""SQLite-specific journal tests: pragmas, schema versioning, crash durability, URLs."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gapless.model import ConfigError, JournalError
from gapless.store import journal_path, open_journal
from gapless.store.sqlite import SCHEMA_VERSION, SqliteJournal


async def test_schema_version_and_pragmas(tmp_path: Path) -> None:
    db = tmp_path / "j.db"
    j = SqliteJournal(db)
    await j.open()
    assert await j.schema_version() == SCHEMA_VERSION >= 1
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
    from decimal import Decimal

    from .test_journal_contract import make_order

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
