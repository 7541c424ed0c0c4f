"""Every row's attributes as JSON object text, built column by column with pyarrow.

A file of text cells (CSV) has attributes `{column: text or null}` on every row: each
column's values are escaped once, whole, and the rows' texts are joined element-wise, so no
per-row dict is encoded. The text is JSON equal in content to `json.dumps` of the row dict.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

#: Characters JSON requires escaped inside a string besides `"` and `\` (RFC 8259).
_CONTROL = [chr(code) for code in range(0x20)]
_SHORT = {"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def json_objects(names: Sequence[str], columns: Sequence[pa.Array], rows: int) -> pa.Array:
    """Return every row's `{name: value}` as JSON text; values are text or null (None)."""
    if not names:
        return pa.array(["{}"] * rows, pa.large_string())
    parts: list[Any] = []
    quote = ""  # the closing quote of the previous value, merged into the next literal
    for k, (name, column) in enumerate(zip(names, columns, strict=True)):
        key = quote + ("{" if k == 0 else ",") + json.dumps(str(name), ensure_ascii=False) + ":"
        text = _escaped(column)
        if text.null_count:  # null is a bare literal: quote each value of this column
            quoted = pc.binary_join_element_wise(_text('"'), text, _text('"'), _text(""))
            parts += [_text(key), pc.fill_null(quoted, _text("null"))]
            quote = ""
        else:
            parts += [_text(key + '"'), text]
            quote = '"'
    return pc.binary_join_element_wise(*parts, _text(quote + "}"), _text(""))


def _escaped(column: pa.Array) -> pa.Array:
    """Return each text value escaped for the inside of a JSON string (large_string)."""
    text = column.cast(pa.large_string())
    data = text.buffers()[2]
    raw = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
    # multi-byte UTF-8 sequences hold only bytes >= 0x80: an ASCII byte is that character
    if (raw == ord("\\")).any():
        text = pc.replace_substring(text, "\\", "\\\\")
    if (raw == ord('"')).any():
        text = pc.replace_substring(text, '"', '\\"')
    if (raw < 0x20).any():
        for char in _CONTROL:
            text = pc.replace_substring(text, char, _SHORT.get(char, f"\\u{ord(char):04x}"))
    return text


def _text(value: str) -> pa.Scalar:
    return pa.scalar(value, pa.large_string())


def frame_json(frame: pd.DataFrame) -> pa.Array | None:
    """Return `json_objects` of a frame whose cells are all text or None, else None."""
    names = [str(c) for c in frame.columns]
    if len(set(names)) != len(names):
        return None
    columns = []
    for i in range(len(names)):
        values = frame.iloc[:, i].tolist()
        if not set(map(type, values)) <= {str, type(None)}:
            return None
        columns.append(pa.array(values, pa.large_string()))
    return json_objects(names, columns, len(frame))
