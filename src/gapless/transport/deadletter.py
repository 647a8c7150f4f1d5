"""Bounded dead-letter queue for messages that could not be processed.

Never unbounded, never silent: when full, the oldest letter is evicted, the
``overflowed`` counter is incremented and a warning is logged (rate-limited to powers of
two so a flood does not flood the log too).
"""

from __future__ import annotations

import collections
import logging
import time
from dataclasses import dataclass

log = logging.getLogger("gapless.transport.deadletter")


@dataclass(frozen=True, slots=True)
class DeadLetter:
    venue: str
    stream: str
    raw: bytes | str
    reason: str
    at: float  # wall seconds


class DeadLetterQueue:
    def __init__(self, maxlen: int = 10000) -> None:
        if maxlen < 1:
            raise ValueError("maxlen must be >= 1")
        self.maxlen = maxlen
        self._q: collections.deque[DeadLetter] = collections.deque()
        self.overflowed = 0
        self.total = 0

    def put(self, venue: str, stream: str, raw: bytes | str, reason: str) -> None:
        self.total += 1
        if len(self._q) >= self.maxlen:
            dropped = self._q.popleft()
            self.overflowed += 1
            n = self.overflowed
            if n & (n - 1) == 0:  # 1, 2, 4, 8, ...
                log.warning(
                    "dead-letter queue full (maxlen=%d): evicted oldest letter from %s/%s; "
                    "%d evicted so far",
                    self.maxlen, dropped.venue, dropped.stream, n,
                )
        self._q.append(DeadLetter(venue, stream, raw, reason, time.time()))

    def drain(self) -> list[DeadLetter]:
        out = list(self._q)
        self._q.clear()
        return out

    def __len__(self) -> int:
        return len(self._q)
