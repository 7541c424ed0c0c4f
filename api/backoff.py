"""Backoff on failed keys: a client address that keeps sending bad keys is answered 429.

After `free` failures within `window_s`, every further failure doubles the time the address
must wait (1 s, 2 s, 4 s … up to `max_wait_s`); a request with a good key clears the count.
Kept per worker process, on the event loop (no lock needed).
"""

from __future__ import annotations

import time

FREE_FAILURES = 10
WINDOW_S = 300.0
MAX_WAIT_S = 300.0


class FailedKeys:
    """Failed-key counts and wait deadlines by client address."""

    def __init__(self, free: int = FREE_FAILURES, window_s: float = WINDOW_S,
                 max_wait_s: float = MAX_WAIT_S, max_entries: int = 100_000) -> None:
        self.free, self.window_s, self.max_wait_s = free, window_s, max_wait_s
        self.max_entries = max_entries
        # address -> (failures, time of the last failure, blocked until)
        self._entries: dict[str, tuple[int, float, float]] = {}

    def wait_s(self, address: str) -> float:
        """Seconds the address must still wait before its next key is looked at (0: none)."""
        entry = self._entries.get(address)
        if entry is None:
            return 0.0
        return max(0.0, entry[2] - time.monotonic())

    def failed(self, address: str) -> None:
        """Count one failed key from the address; past the free ones, block it for a while."""
        now = time.monotonic()
        count, last, _ = self._entries.get(address, (0, now, 0.0))
        if now - last > self.window_s:
            count = 0
        count += 1
        until = 0.0
        if count > self.free:
            until = now + min(self.max_wait_s, 2.0 ** (count - self.free - 1))
        if len(self._entries) >= self.max_entries and address not in self._entries:
            self._entries.clear()
        self._entries[address] = (count, now, until)

    def succeeded(self, address: str) -> None:
        """A good key from the address: forget its failures."""
        self._entries.pop(address, None)

    def clear(self) -> None:
        """Forget every address."""
        self._entries.clear()
