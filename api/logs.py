"""Keys never reach a log: `api_key=…` and `zg_<prefix>_<secret>` are redacted in records."""

from __future__ import annotations

import logging
import re

_QUERY_KEY = re.compile(r"(api_key=)[^&\s\"']*", re.IGNORECASE)
_TOKEN = re.compile(r"\b(zgp?_[0-9a-f]{12}_)[A-Za-z0-9_-]+")
LOGGERS = ("uvicorn.access", "uvicorn.error", "zoneguard", "zoneguard.api")


def redact(text: str) -> str:
    """The text with API keys and page tokens replaced by their public prefix and `***`."""
    return _TOKEN.sub(r"\1***", _QUERY_KEY.sub(r"\1***", text))


class RedactKeys(logging.Filter):
    """A logging filter that redacts keys in a record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record in place; never drop it."""
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def install_redaction() -> None:
    """Add the filter to uvicorn's and ZoneGuard's loggers (once per process)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactKeys) for f in logger.filters):
            logger.addFilter(RedactKeys())
