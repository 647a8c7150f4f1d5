"""Durable order journal: the ``Journal`` interface and its backends."""

from __future__ import annotations

from pathlib import Path

from gapless.model import ConfigError
from gapless.store.journal import Journal

__all__ = ["Journal", "open_journal", "journal_path"]

_SQLITE = "sqlite:///"


def journal_path(url: str) -> Path:
    """The file path of a ``sqlite:///path`` URL (``sqlite:////abs`` for absolute paths)."""
    if not url.startswith(_SQLITE):
        raise ConfigError(f"not a sqlite journal URL: {url!r}")
    rest = url[len(_SQLITE) :]
    if not rest or rest == ":memory:":
        raise ConfigError(
            f"journal URL {url!r} needs a file path (in-memory journals are not durable)"
        )
    return Path(rest)


def open_journal(url: str) -> Journal:
    """Build (not yet open) the journal for ``url``; call ``await journal.open()``.

    ``sqlite:///relative/path`` (relative to the working directory) or
    ``sqlite:////absolute/path``. ``postgresql://`` is reserved for a later backend.
    """
    scheme, sep, _ = url.partition("://")
    if not sep:
        raise ConfigError(f"journal URL {url!r} has no scheme (expected sqlite:///path)")
    scheme = scheme.lower()
    if scheme == "sqlite":
        from gapless.store.sqlite import SqliteJournal

        return SqliteJournal(journal_path(url))
    if scheme in ("postgresql", "postgres") or scheme.startswith("postgresql+"):
        raise ConfigError("postgresql journals are not yet supported; use sqlite:///path")
    raise ConfigError(f"unknown journal URL scheme {scheme!r} (expected sqlite:///path)")
