"""Native Bybit V5 (category spot) adapter."""
