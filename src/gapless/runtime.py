"""The one composition root: config -> journal -> venues -> engine.

The CLI commands, ``gapless demo``, a strategy's ``async with open_engine(...)`` and later
``gapless serve`` all assemble an engine here, so the order of opening and closing (and
what a bad config or an unreachable venue does) is decided once:

- a config problem (unknown venue name, an adapter refusing its options) is a
  ``ConfigError`` raised before anything is opened or sent;
- an unreachable venue does not fail the start: the engine records it in
  ``Engine.unreachable`` and keeps trying it while streams are followed;
- however the block ends, the engine (its tasks and venues) closes first, then the
  journal, so nothing the engine still writes is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Iterable
from typing import Any

from gapless.config import GaplessConfig, load_config
from gapless.engine import Engine
from gapless.model.errors import ConfigError
from gapless.model.redact import scrub
from gapless.store import Journal, open_journal
from gapless.venues.base import Venue, VenueConfig
from gapless.venues.registry import create_venue

__all__ = ["ConfigSource", "open_engine", "open_journal_of", "resolve_config"]

#: a config file path, or a config already loaded with ``load_config``/``parse_config``
ConfigSource = str | os.PathLike[str] | GaplessConfig


def resolve_config(config: ConfigSource) -> GaplessConfig:
    """The loaded config (a path is read and validated; a loaded one is used as is)."""
    return config if isinstance(config, GaplessConfig) else load_config(config)


def _source(cfg: GaplessConfig) -> str:
    return cfg.path or "the config"


def _build_venues(cfg: GaplessConfig, names: Iterable[str] | None, into: dict[str, Venue]) -> None:
    """Adapters for ``names`` (default: every configured venue) into ``into``, not started.

    Building one sends nothing, so whatever goes wrong here is a ``ConfigError`` naming
    the venue; the caller closes what was built before the error."""
    for name in list(cfg.venues) if names is None else list(names):
        if name not in cfg.venues:
            known = ", ".join(sorted(cfg.venues)) or "none"
            raise ConfigError(f"venue {name!r} is not in {_source(cfg)} (configured: {known})")
        into[name] = _build(cfg.venues[name], _source(cfg))


def _build(config: VenueConfig, source: str) -> Venue:
    """An adapter, or a ``ConfigError`` naming the venue."""
    try:
        return create_venue(config)
    except ConfigError as exc:
        if exc.venue or config.name in str(exc):
            raise
        raise ConfigError(f"{source}: venues.{config.name}: {exc}") from None
    except Exception as exc:
        raise ConfigError(
            f"{source}: venues.{config.name}: the {config.driver!r} adapter refused its "
            f"settings: {type(exc).__name__}: {scrub(str(exc))}"
        ) from None


@contextlib.asynccontextmanager
async def open_journal_of(config: ConfigSource) -> AsyncIterator[Journal]:
    """The config's journal alone, opened and closed: reading it needs no venue."""
    journal = open_journal(resolve_config(config).journal)
    await journal.open()
    try:
        yield journal
    finally:
        await journal.close()


@contextlib.asynccontextmanager
async def open_engine(
    config: ConfigSource,
    *,
    venues: Iterable[str] | None = None,
    streams: bool = True,
    load_balances: bool = True,
    **engine_options: Any,
) -> AsyncIterator[Engine]:
    """A started engine: journal open, venues started, journaled orders recovered and
    (with ``streams``, the default) private streams followed; all closed on exit.

    ``venues`` limits which configured venues are started (default: all);
    ``engine_options`` go to ``Engine`` (``clock``, ``risk_checks``, ...) over the
    config's ``[engine]`` table. Short-lived
    commands pass ``streams=False``: they recover, act once and leave."""
    cfg = resolve_config(config)
    chosen: dict[str, Venue] = {}
    journal: Journal | None = None
    try:
        _build_venues(cfg, venues, chosen)
        journal = open_journal(cfg.journal)
        await journal.open()
        # the config's [engine] knobs; arguments given here win over them
        engine = Engine(journal, chosen, **{**cfg.engine.engine_kwargs(), **engine_options})
    except BaseException:
        await asyncio.gather(*(v.close() for v in chosen.values()), return_exceptions=True)
        if journal is not None:
            await journal.close()
        raise
    try:
        try:
            await engine.start(load_balances=load_balances, streams=streams)
            yield engine
        finally:
            await engine.close()
    finally:
        await journal.close()
