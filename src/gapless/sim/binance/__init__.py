"""Binance Spot simulator skin (REST ``/api/v3``, WebSocket streams, user data, ``/ws-api/v3``)."""

from .app import BinanceSkin, build

__all__ = ["BinanceSkin", "build"]
