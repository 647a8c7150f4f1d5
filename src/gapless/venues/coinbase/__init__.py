"""Coinbase Advanced Trade adapter (API v3, CDP JWT keys)."""
