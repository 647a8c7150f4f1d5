"""Native OKX V5 spot adapter (tdMode=cash)."""
