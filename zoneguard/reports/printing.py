"""PDF printing with a bound and a cache.

At most `MAX_PRINTERS` Chromium processes per worker at once; a request beyond that is refused
at once (`Busy`, 503 with Retry-After); a printed PDF is reused while its HTML (which names the
record and holds all of its content) is unchanged.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

from zoneguard.errors import Busy
from zoneguard.reports.record import html_to_pdf

MAX_PRINTERS = 2
WAIT_S = 0.2
CACHE_MAX_BYTES = 64 * 1024 * 1024

_printers = threading.BoundedSemaphore(MAX_PRINTERS)
_cache: OrderedDict[bytes, bytes] = OrderedDict()
_cache_lock = threading.Lock()


def _cached(digest: bytes) -> bytes | None:
    with _cache_lock:
        pdf = _cache.get(digest)
        if pdf is not None:
            _cache.move_to_end(digest)
        return pdf


def _remember(digest: bytes, pdf: bytes) -> None:
    with _cache_lock:
        _cache[digest] = pdf
        while sum(len(v) for v in _cache.values()) > CACHE_MAX_BYTES and len(_cache) > 1:
            _cache.popitem(last=False)


def cached_pdf(html: str) -> bytes:
    """The PDF of a record page: from the cache, else printed within the concurrency bound."""
    digest = hashlib.sha256(html.encode()).digest()
    pdf = _cached(digest)
    if pdf is not None:
        return pdf
    if not _printers.acquire(timeout=WAIT_S):
        raise Busy(f"{MAX_PRINTERS} PDF records are being printed; retry in a few seconds")
    try:
        pdf = _cached(digest) or html_to_pdf(html)
    finally:
        _printers.release()
    _remember(digest, pdf)
    return pdf


def clear_cache() -> None:
    """Forget every printed PDF (tests)."""
    with _cache_lock:
        _cache.clear()
