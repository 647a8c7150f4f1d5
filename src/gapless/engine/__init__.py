"""Order management: checks, write-ahead journaling, dispatch, state tracking, recovery."""

from gapless.engine.oms import Engine

__all__ = ["Engine"]
