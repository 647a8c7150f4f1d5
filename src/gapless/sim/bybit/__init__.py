"""Bybit V5 spot simulator skin."""

from .app import BybitSkin, build

__all__ = ["BybitSkin", "build"]
