"""Binance Spot adapter (``driver = "binance"``)."""
