"""Any ccxt exchange as a gapless venue (config ``driver = "ccxt"``, ``exchange = "<id>"``).

Nothing in this package imports ccxt at import time except ``adapter``, ``errors``,
``limits`` and ``catalog``, which are only imported when a ccxt venue is built or listed
(importing ccxt costs more than a second).

ccxt comes with the ``ccxt`` extra (``pip install 'gapless[ccxt]'``), not the core install;
without it ``venues.registry`` answers a ``ConfigError`` naming that extra.
"""
