"""Bybit V5 spot simulator skin."""

from .server import BybitSkin, build

__all__ = ["BybitSkin", "build"]
