"""Kraken spot simulator skin (REST ``/0/public|private``, WebSocket v2 on ``/v2``)."""

from .app import build

__all__ = ["build"]
