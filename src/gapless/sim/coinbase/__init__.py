"""Coinbase Advanced Trade simulator skin (REST ``/api/v3/brokerage``, ``/v2``, WebSocket)."""

from .app import CoinbaseSkin, build

__all__ = ["CoinbaseSkin", "build"]
