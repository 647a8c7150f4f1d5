"""One module per ccxt exchange id with that exchange's bridge quirks (see ``quirks.py``)."""
