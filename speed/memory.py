"""What a process keeps in its own memory, bounded in size and in time.

- `LocalTier`: the copies of public pages this process last served
  (`letters.http.public_response` answers from it with no I/O until the
  copy's own `fresh_until`; PUBLIC_PAGE_LOCAL_TIER=False turns it off).
- `TtlMemo`: a value per key for a few seconds (the letter a sign POST is
  for, SIGNING_LETTER_TTL; day counts computed while the cache was down).

Nothing here is invalidated across processes: each use states the staleness
it accepts, and every entry expires within it (docs/speed.md).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable


class LocalTier[C]:
    """A bounded LRU (entries and bytes), safe across threads.  `size` says
    how many bytes an entry weighs."""

    def __init__(self, max_entries: int, max_bytes: int, size: Callable[[C], int]) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._size = size
        self._copies: OrderedDict[str, C] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> C | None:
        with self._lock:
            copy = self._copies.get(key)
            if copy is not None:
                self._copies.move_to_end(key)
            return copy

    def put(self, key: str, copy: C) -> None:
        size = self._size(copy)
        if size > self.max_bytes:
            return
        with self._lock:
            old = self._copies.pop(key, None)
            if old is not None:
                self._bytes -= self._size(old)
            self._copies[key] = copy
            self._bytes += size
            while len(self._copies) > self.max_entries or self._bytes > self.max_bytes:
                _key, evicted = self._copies.popitem(last=False)
                self._bytes -= self._size(evicted)

    def clear(self) -> None:
        with self._lock:
            self._copies.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._copies)


class TtlMemo[T]:
    """Values kept for `ttl` seconds each, at most `max_entries` of them
    (past that, all are dropped: simpler than an LRU, and rare)."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._values: dict[str, tuple[float, T]] = {}

    def get(self, key: str) -> T | None:
        kept = self._values.get(key)
        if kept is not None and kept[0] > time.monotonic():
            return kept[1]
        return None

    def put(self, key: str, value: T, ttl: float) -> None:
        if ttl <= 0:
            return
        if len(self._values) >= self.max_entries:
            self._values.clear()
        self._values[key] = (time.monotonic() + ttl, value)

    def get_or_compute(self, key: str, compute: Callable[[], T], ttl: float) -> T:
        """The kept value, or `compute()`'s, kept for `ttl` seconds."""
        kept = self.get(key)
        if kept is None:
            kept = compute()
            self.put(key, kept, ttl)
        return kept

    def clear(self) -> None:
        self._values.clear()
