"""JSON in and out: ujson, compact, raw UTF-8 (AgentOS's byte conventions, contract §1.2)."""

from __future__ import annotations

import json
from typing import Any

import ujson


def dumps(value: Any) -> str:
    try:
        return ujson.dumps(value, ensure_ascii=False, escape_forward_slashes=False)
    except OverflowError:  # integers beyond 64 bits
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def loads(text: str | bytes) -> Any:
    """ujson, with the stdlib as the fallback for what ujson refuses (e.g. huge integers)."""
    try:
        return ujson.loads(text)
    except (ValueError, OverflowError):
        return json.loads(text)
