"""Hand-written SQL (functions, views) applied by migrations."""

from pathlib import Path

SQL_DIR = Path(__file__).resolve().parent


def read_sql(name: str) -> str:
    """Return the text of one SQL file of this directory."""
    return (SQL_DIR / name).read_text(encoding="utf-8")
