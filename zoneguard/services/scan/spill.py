"""Judged hits in bounded memory: spilled to a temporary file while the measurement streams.

The measurement streams on the scan's own connection, so nothing else (no COPY, no walk) may
run on it until the last row is read, and the scan must stay one transaction. The judge's
non-allowed verdicts therefore go, a chunk at a time, to an anonymous temporary file (deleted
by the operating system even when the process is killed); pairs that need a walk wait in a
second file. Once the rows are read, the walks run on the now free connection and `rows()`
gives every hit back in the order of the measured rows, for COPY into `scan_hit`. Memory
holds one chunk, whatever the number of pairs.
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any

from spatial.walking import Walker
from zoneguard.services.scan.judge import Plan, RowJudge, WalkLater, make_judge, walk_later

CHUNK_HITS = 5_000  # hits per pickled chunk


def _chunks(handle: IO[bytes]) -> Iterator[list[Any]]:
    handle.seek(0)
    while True:
        try:
            yield pickle.load(handle)
        except EOFError:
            return


class _Spool:
    """Append-only pickled chunks in an anonymous temporary file."""

    def __init__(self) -> None:
        self.file: IO[bytes] = tempfile.TemporaryFile(prefix="zoneguard-scan-")
        self.buffer: list[Any] = []
        self.count = 0

    def add(self, item: Any) -> None:
        self.buffer.append(item)
        self.count += 1
        if len(self.buffer) >= CHUNK_HITS:
            self.flush()

    def extend(self, items: Sequence[Any]) -> None:
        for item in items:
            self.add(item)

    def flush(self) -> None:
        if self.buffer:
            pickle.dump(self.buffer, self.file, protocol=pickle.HIGHEST_PROTOCOL)
            self.buffer = []

    def items(self) -> Iterator[Any]:
        self.flush()
        for chunk in _chunks(self.file):
            yield from chunk
        self.file.seek(0, 2)  # appending may go on after a read

    def close(self) -> None:
        self.file.close()


class HitSpill:
    """The hits of one measurement, judged as the rows stream and kept on disk."""

    def __init__(self) -> None:
        self.pairs = 0
        self._hits = _Spool()
        self._later = _Spool()  # (position among the hits, row) of pairs that need a walk
        self._walked = _Spool()  # (position, hits) once walked
        self._walked_hits = 0
        self._judge_row: RowJudge | None = None

    def judge(self, columns: list[str], rows: Iterable[Sequence[Any]], plan: Plan,
              walker: Walker | None) -> None:
        """Judge streamed rows; pairs that need `walker` wait for `walk` (rows hold the link)."""
        if not columns:  # a streamed result without rows may come without a description
            return
        judge_row = self._judge_row = make_judge(columns, plan)
        first_pass = walk_later if walker is not None else None
        for row in rows:
            self.pairs += 1
            try:
                self._hits.extend(judge_row(row, first_pass))
            except WalkLater:
                self._later.add((self._hits.count, tuple(row)))

    def walk(self, walker: Walker | None) -> None:
        """Judge the deferred pairs with `walker` (the measurement has been read to its end)."""
        if self._judge_row is None or not self._later.count:
            return
        for position, row in self._later.items():
            found = self._judge_row(row, walker)
            if found:
                self._walked.add((position, found))
                self._walked_hits += len(found)
        self._later.close()
        self._later = _Spool()

    @property
    def count(self) -> int:
        """Number of hits (after `walk`)."""
        return self._hits.count + self._walked_hits

    def rows(self) -> Iterator[tuple[Any, ...]]:
        """Every hit in the order of the measured rows, walked pairs in their places."""
        walked = self._walked.items()
        pending = next(walked, None)
        for index, hit in enumerate(self._hits.items()):
            while pending is not None and pending[0] <= index:
                yield from pending[1]
                pending = next(walked, None)
            yield hit
        while pending is not None:
            yield from pending[1]
            pending = next(walked, None)

    def close(self) -> None:
        """Delete the temporary files."""
        for spool in (self._hits, self._later, self._walked):
            spool.close()

    def __enter__(self) -> HitSpill:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
