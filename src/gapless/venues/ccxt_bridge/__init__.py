"""Any ccxt exchange as a gapless venue (config ``driver = "ccxt"``, ``exchange = "<id>"``).

Nothing in this package imports ccxt at import time except ``adapter``, ``errors``,
``limits`` and ``catalog``, which are only imported when a ccxt venue is built or listed
(importing ccxt costs more than a second).
"""
