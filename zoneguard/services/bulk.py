"""Bulk writes: drop keys and secondary indexes among some tables, write, restore them.

Inserting a large share of a table's rows is faster without per-row upkeep: every foreign
key fires a trigger per row and every index takes an insertion per row. Restored afterwards,
each index is built in one sorted pass and each foreign key is validated by one join, so the
data is checked exactly as before, inside the same transaction: a violation raises and rolls
the whole write back.

Only foreign keys between the given tables are dropped: dropping one takes ACCESS EXCLUSIVE
on the table it references too, and keys to other tables (findings to premises and schools)
stay checked row by row so that readers of those tables never wait. From the drop to the
commit the given tables hold ACCESS EXCLUSIVE: their readers wait.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

_FOREIGN_KEYS = """
SELECT c.conrelid::regclass::text AS tab, c.conname AS name,
       pg_get_constraintdef(c.oid) AS definition
FROM pg_constraint c
WHERE c.contype = 'f' AND c.conrelid = ANY(CAST(:tables AS regclass[]))
  AND c.confrelid = ANY(CAST(:tables AS regclass[]))
ORDER BY 1, 2
"""

# Indexes that back no constraint (primary keys and unique constraints stay: inserts rely on
# them for conflicts and ids).
_SECONDARY_INDEXES = """
SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition
FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
WHERE i.indrelid = ANY(CAST(:tables AS regclass[]))
  AND NOT i.indisunique AND NOT i.indisprimary
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
ORDER BY 1
"""


@dataclass(frozen=True)
class _Saved:
    keys: list[tuple[str, str, str]]  # (table, constraint, definition)
    indexes: list[tuple[str, str]]  # (index, definition)


def _saved(conn: Connection, tables: list[str]) -> _Saved:
    keys = [(r.tab, r.name, r.definition)
            for r in conn.execute(text(_FOREIGN_KEYS), {"tables": tables})]
    indexes = [(r.name, r.definition)
               for r in conn.execute(text(_SECONDARY_INDEXES), {"tables": tables})]
    return _Saved(keys, indexes)


@contextmanager
def upkeep_deferred(conn: Connection, tables: list[str], *, enabled: bool = True,
                    restoring: Callable[[], AbstractContextManager[Any]] = nullcontext,
                    ) -> Iterator[None]:
    """Within the caller's transaction, write `tables` without per-row key and index upkeep.

    Names and definitions come from the catalog (as PostgreSQL prints them), so what is
    restored is exactly what the migrations created. On an exception nothing is restored:
    the caller's transaction must roll back, which brings everything back as it was.
    The restore runs inside `restoring()` (a timer, say).
    """
    if not enabled:
        yield
        return
    quote = conn.dialect.identifier_preparer.quote
    # Locked up front in the order of `tables` (writers of findings update a finding, then
    # add its event): taking the locks one DDL at a time could deadlock with them.
    conn.exec_driver_sql(f"LOCK TABLE {', '.join(map(quote, tables))} IN ACCESS EXCLUSIVE MODE")
    saved = _saved(conn, tables)
    for table, name, _ in saved.keys:
        conn.exec_driver_sql(f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}")
    for name, _ in saved.indexes:  # regclass text: quoted and qualified as needed
        conn.exec_driver_sql(f"DROP INDEX {name}")
    yield
    with restoring():
        for _, definition in saved.indexes:  # DDL as pg_get_indexdef wrote it, no parameters
            conn.exec_driver_sql(definition)
        for table, name, definition in saved.keys:
            conn.exec_driver_sql(f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} "
                                 f"{definition}")
