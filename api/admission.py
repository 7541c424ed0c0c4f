"""Admission of requests into a worker: a bounded number run, a short adaptive queue waits.

At most `limit` requests run at once. One more waits in a FIFO queue of at most `queue_max`:
for up to `burst_wait_s` while the queue drains now and then (a map page asking for twenty
tiles at once is served whole), but only `overload_wait_s` once the queue has stayed
non-empty for `overload_after_s` (sustained overload: the excess is shed at once, and what is
served keeps its latency). This is the adaptive queue of CoDel, in its simplest form.
Used on the event loop only (no locks).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque


class Admission:
    """Running slots and a waiting queue with an overload-aware wait limit."""

    def __init__(self, limit: int, *, queue_max: int = 64, burst_wait_s: float = 2.0,
                 overload_wait_s: float = 0.005, overload_after_s: float = 0.5) -> None:
        self.limit, self.queue_max = limit, queue_max
        self.burst_wait_s, self.overload_wait_s = burst_wait_s, overload_wait_s
        self.overload_after_s = overload_after_s
        self.running = 0
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._empty_at = time.monotonic()

    def overloaded(self) -> bool:
        """Whether requests have been waiting without a break for `overload_after_s`."""
        return bool(self._waiting) and \
            time.monotonic() - self._empty_at > self.overload_after_s

    async def enter(self) -> bool:
        """Take a running slot (True), or give up (False: shed the request)."""
        if self.running < self.limit and not self._waiting:
            self.running += 1
            return True
        if len(self._waiting) >= self.queue_max:
            return False
        wait_s = self.overload_wait_s if self.overloaded() else self.burst_wait_s
        if not self._waiting:
            self._empty_at = time.monotonic()
        slot: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(slot)
        try:
            await asyncio.wait_for(asyncio.shield(slot), wait_s)
            return True
        except TimeoutError:
            if slot.done() and not slot.cancelled():  # the slot came as the wait ended
                return True
            slot.cancel()
            return False
        except BaseException:  # the client went away while waiting
            if slot.done() and not slot.cancelled():
                self.leave()  # pass on the slot it had just been given
            else:
                slot.cancel()
            raise
        finally:
            self._drop_done()

    def leave(self) -> None:
        """Free a running slot: hand it to the first request still waiting."""
        while self._waiting:
            slot = self._waiting.popleft()
            if not slot.done():
                slot.set_result(None)  # the slot passes on; `running` stays the same
                self._mark_empty()
                return
        self.running -= 1
        self._mark_empty()

    def _drop_done(self) -> None:
        while self._waiting and self._waiting[0].done():
            self._waiting.popleft()
        self._mark_empty()

    def _mark_empty(self) -> None:
        if not self._waiting:
            self._empty_at = time.monotonic()
