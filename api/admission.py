"""Admission of requests into a worker: a bounded number run, a short adaptive queue waits.

At most `limit` requests run at once; more wait in a FIFO queue of at most `queue_max`. While
the worker keeps up, a waiting request may wait `burst_wait_s` (a burst is served whole). Once
it does not (the queue was full, a request waited longer than `target_s`, or the queue stayed
non-empty for `target_s` × 2), the worker is overloaded for the next `hold_s`: at most
`overload_limit` requests run (fewer at once, each finishes sooner: the worker's one
interpreter lock serves them in turn) and new requests wait at most `overload_wait_s`, so
the excess is shed at once and what is served keeps its latency. This is the adaptive queue
of CoDel in its simplest form. Event loop only (no locks).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque


class Admission:
    """Running slots and a waiting queue with an overload-aware wait limit."""

    def __init__(self, limit: int, *, queue_max: int = 32, burst_wait_s: float = 0.1,
                 overload_wait_s: float = 0.005, target_s: float = 0.05,
                 hold_s: float = 1.0, overload_limit: int | None = None) -> None:
        self.limit, self.queue_max = limit, queue_max
        self.overload_limit = limit if overload_limit is None else min(limit, overload_limit)
        self.burst_wait_s, self.overload_wait_s = burst_wait_s, overload_wait_s
        self.target_s, self.hold_s = target_s, hold_s
        self.running = 0
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._empty_at = time.monotonic()
        self._overload_at = -float("inf")

    def overloaded(self) -> bool:
        """Whether the worker fell behind within the last `hold_s`."""
        now = time.monotonic()
        if self._waiting and now - self._empty_at > 2 * self.target_s:
            self._overload_at = now
        return now - self._overload_at < self.hold_s

    async def enter(self) -> bool:
        """Take a running slot (True), or give up (False: shed the request)."""
        limit = self.overload_limit if self.overloaded() else self.limit
        if self.running < limit and not self._waiting:
            self.running += 1
            return True
        if len(self._waiting) >= self.queue_max:
            self._overload_at = time.monotonic()
            return False
        wait_s = self.overload_wait_s if self.overloaded() else self.burst_wait_s
        if not self._waiting:
            self._empty_at = time.monotonic()
        slot: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(slot)
        start = time.monotonic()
        try:
            await asyncio.wait_for(asyncio.shield(slot), wait_s)
            if time.monotonic() - start > self.target_s:
                self._overload_at = time.monotonic()
            return True
        except TimeoutError:
            # A long wait in vain is a sign of overload; the short one of overload mode is not
            # (else that mode, with its fewer slots, would keep itself on at a load it could
            # serve with all of them).
            if wait_s >= self.target_s:
                self._overload_at = time.monotonic()
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
        """Free a running slot: hand it to the first request still waiting (within the limit)."""
        limit = self.overload_limit if self.overloaded() else self.limit
        while self._waiting and self.running <= limit:
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
