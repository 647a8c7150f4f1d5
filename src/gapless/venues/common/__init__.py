"""Venue-neutral scaffolding shared by the native adapters (never a venue's quirk).

``venue``: the ``RestVenue`` base (the request pipeline ``_send``, HTTP/WS lifecycle, clock
offset, symbol lookups); ``endpoints``: the one endpoint table shape (``Endpoint`` rows);
``wire``: strict decoding and decimal formatting; ``book``: the price-level maps of a
local order book.
"""
