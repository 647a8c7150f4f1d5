"""Any ccxt exchange as a gapless venue (config ``driver = "ccxt"``, ``exchange = "<id>"``).

Nothing in this package imports ccxt at import time except ``adapter`` and what it
builds on (``hooks``, ``streams``, ``errors``, ``limits``, exchange modules that read
headers) and ``catalog.venue_catalog``, which are only imported when a ccxt venue is
built or listed (importing ccxt costs more than a second). Layout: docs/venues/ccxt_bridge.md.

ccxt comes with the ``ccxt`` extra (``pip install 'gapless[ccxt]'``), not the core install;
without it ``venues.registry`` answers a ``ConfigError`` naming that extra.
"""
