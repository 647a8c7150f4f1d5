"""Venue-neutral scaffolding shared by the native adapters (never a venue's quirk).

``venue``: the ``RestVenue`` base (HTTP/WS lifecycle, clock offset, symbol lookups,
the ``bad_data`` breaker wrapper); ``wire``: strict decoding and decimal formatting;
``book``: the price-level maps of a local order book.
"""
