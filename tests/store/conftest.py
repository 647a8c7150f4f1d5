"""Journal backends for the contract suite: add a fixture param to test a new backend."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from gapless.store.journal import Journal
from gapless.store.sqlite import SqliteJournal

# A factory builds a fresh (unopened) journal on the *same* storage each call, so tests
# can close and reopen.
JournalFactory = Callable[[], Journal]


def _sqlite_factory(tmp_path: Path) -> JournalFactory:
    db = tmp_path / "journal.db"
    return lambda: SqliteJournal(db)


BACKENDS: dict[str, Callable[[Path], JournalFactory]] = {
    "sqlite": _sqlite_factory,
    # "postgresql": ...  (later: skip unless a test database URL is configured)
}


@pytest.fixture(params=sorted(BACKENDS))
def journal_factory(request: pytest.FixtureRequest, tmp_path: Path) -> JournalFactory:
    return BACKENDS[request.param](tmp_path)


@pytest.fixture
async def journal(journal_factory: JournalFactory) -> AsyncIterator[Journal]:
    j = journal_factory()
    await j.open()
    try:
        yield j
    finally:
        await j.close()


Opener = Callable[[], Awaitable[Journal]]
