"""The `{name:code}` path convertor: a school code, which may hold `/` and any character.

Starlette's `path` convertor stops at a line break (`.*`); a code read from a registry file
may hold one, and its sheet and map must still answer (the file name is RFC 5987-encoded).
"""

from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor


class CodeConvertor(Convertor[str]):
    """Any non-empty text, slashes and line breaks included."""

    regex = r"[\s\S]+"

    def convert(self, value: str) -> str:
        """The path text as the code."""
        return value

    def to_string(self, value: str) -> str:
        """The code as path text."""
        return value


register_url_convertor("code", CodeConvertor())
