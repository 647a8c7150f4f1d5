from __future__ import annotations

import logging

import pytest

from gapless.transport.deadletter import DeadLetterQueue


def test_put_drain_len() -> None:
    q = DeadLetterQueue(maxlen=10)
    q.put("binance", "trades", b"{bad", "json")
    q.put("okx", "books", "x", "schema")
    assert len(q) == 2
    out = q.drain()
    assert [(d.venue, d.stream, d.raw, d.reason) for d in out] == [
        ("binance", "trades", b"{bad", "json"),
        ("okx", "books", "x", "schema"),
    ]
    assert len(q) == 0 and q.drain() == []


def test_overflow_is_counted_and_logged_never_silent(caplog: pytest.LogCaptureFixture) -> None:
    q = DeadLetterQueue(maxlen=3)
    with caplog.at_level(logging.WARNING, logger="gapless.transport.deadletter"):
        for i in range(8):
            q.put("v", "s", str(i), "r")
    assert len(q) == 3 and q.overflowed == 5 and q.total == 8
    assert [d.raw for d in q.drain()] == ["5", "6", "7"]  # oldest evicted
    assert len(caplog.records) == 3  # overflow #1, #2, #4


def test_maxlen_must_be_positive() -> None:
    with pytest.raises(ValueError):
        DeadLetterQueue(0)
