"""Admission of requests into a worker: a bounded number run, a short adaptive queue waits.

At most `limit` requests run at once; more wait in a FIFO queue of at most `queue_max`. While
the worker keeps up, a waiting request may wait `burst_wait_s` (a burst is served whole). Once
it does not (the queue was full, a request waited longer than `target_s`, or the queue stayed
non-empty for `target_s` × 2), the worker is overloaded for `hold_s`, and for another `hold_s`
each time a hold ends with more than `refused_share` of its arrivals refused. While
overloaded, at most `overload_limit` requests run (fewer at once, each finishes sooner: the
worker's one interpreter lock serves them in turn) and a request that finds no free slot is
shed at once: no queue, no timer. Holding the overload by what it still refuses, not only by
how it began, keeps a sustained overload in that mode; else each hold would end in a burst
of queued requests with the full limit, and the served would pay for it in latency. At a
load its fewer slots serve, the refusals stay rare and the overload ends.

This is the adaptive queue of CoDel in its simplest form. Event loop only (no locks).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque


class Admission:
    """Running slots, a waiting queue and an overload mode that sheds at once."""

    def __init__(self, limit: int, *, queue_max: int = 32, burst_wait_s: float = 0.1,
                 target_s: float = 0.05, hold_s: float = 1.0,
                 overload_limit: int | None = None, refused_share: float = 0.1) -> None:
        self.limit, self.queue_max = limit, queue_max
        self.overload_limit = limit if overload_limit is None else min(limit, overload_limit)
        self.burst_wait_s = burst_wait_s
        self.target_s, self.hold_s = target_s, hold_s
        self.refused_share = refused_share
        self.running = 0
        self._arrived = self._refused = 0  # while overloaded, in the current hold
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._empty_at = time.monotonic()
        self._overload_at = -float("inf")

    def overloaded(self) -> bool:
        """Whether the worker is behind: it fell behind, or still refuses a good share."""
        now = time.monotonic()
        if self._waiting and now - self._empty_at > 2 * self.target_s:
            self._fell_behind(now)
        if now - self._overload_at < self.hold_s:
            return True
        if self._arrived and self._refused > self.refused_share * self._arrived:
            self._overload_at = now  # a `hold_s` more: it still refuses much of what comes
            self._arrived = self._refused = 0
            return True
        self._arrived = self._refused = 0
        return False

    def _fell_behind(self, now: float) -> None:
        if now - self._overload_at >= self.hold_s:  # a new overload: count it from now
            self._arrived = self._refused = 0
        self._overload_at = now

    async def enter(self) -> bool:
        """Take a running slot (True), or give up (False: shed the request)."""
        if self.overloaded():
            self._arrived += 1
            if self.running >= self.overload_limit or self._waiting:
                self._refused += 1
                return False
            self.running += 1
            return True
        if self.running < self.limit and not self._waiting:
            self.running += 1
            return True
        if len(self._waiting) >= self.queue_max:
            self._fell_behind(time.monotonic())
            return False
        if not self._waiting:
            self._empty_at = time.monotonic()
        slot: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(slot)
        start = time.monotonic()
        try:
            await asyncio.wait_for(asyncio.shield(slot), self.burst_wait_s)
            if time.monotonic() - start > self.target_s:
                self._fell_behind(time.monotonic())
            return True
        except TimeoutError:
            self._fell_behind(time.monotonic())  # a long wait in vain
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
