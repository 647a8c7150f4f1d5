"""gapless: one schema for intents, journaled orders on any venue."""

__version__ = "0.1.0"
