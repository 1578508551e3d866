"""JSON in and out: ujson, compact, raw UTF-8 (AgentOS's byte conventions, contract §1.2)."""

from __future__ import annotations

import json
import re
from typing import Any

import ujson

_SURROGATE = re.compile("[\ud800-\udfff]")


def dumps(value: Any) -> str:
    try:
        return ujson.dumps(value, ensure_ascii=False, escape_forward_slashes=False)
    except OverflowError:  # integers beyond 64 bits
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def without_surrogates(value: Any) -> Any:
    """`value` with unpaired surrogates (not Unicode, so not encodable as UTF-8) replaced by U+FFFD;
    for the input a 422 echoes (every other answer holds only what PostgreSQL stored)."""
    if isinstance(value, str):
        return value if value.isascii() else _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [without_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {without_surrogates(k): without_surrogates(v) for k, v in value.items()}
    return value


def loads(text: str | bytes) -> Any:
    """ujson, with the stdlib as the fallback for what ujson refuses (e.g. huge integers)."""
    try:
        return ujson.loads(text)
    except (ValueError, OverflowError):
        return json.loads(text)
