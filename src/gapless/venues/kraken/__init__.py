"""Native Kraken Spot adapter (REST ``/0``, WebSocket v2)."""
