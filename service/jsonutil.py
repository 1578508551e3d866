"""JSON in and out: ujson, compact, raw UTF-8 (AgentOS's byte conventions, docs/agentos.md §1)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
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


BATCH_BYTES = 256 * 1024
"""Encoded items are handed to the connection in batches of about this size."""
ITEMWISE_ITEMS = 50
"""Answers with a list of more items than this are encoded item by item (others in one call)."""


def encode_batches(value: Any) -> list[bytes]:
    """`dumps(value)` as UTF-8, byte for byte, in batches: a top-level list (or a list value of a
    top-level object, such as a page's `data`) is encoded item by item, so a large answer never
    exists as one string and one more copy of it in bytes at once."""
    if not _has_long_list(value):
        return [dumps(value).encode()]
    batches: list[bytes] = []
    pending: list[str] = []
    size = 0
    for part in _parts(value):
        pending.append(part)
        size += len(part)
        if size >= BATCH_BYTES:
            batches.append("".join(pending).encode())
            pending, size = [], 0
    if pending:
        batches.append("".join(pending).encode())
    return batches


def _has_long_list(value: Any) -> bool:
    if isinstance(value, list):
        return len(value) > ITEMWISE_ITEMS
    return (
        isinstance(value, dict)
        and all(isinstance(key, str) for key in value)
        and any(isinstance(item, list) and len(item) > ITEMWISE_ITEMS for item in value.values())
    )


def _parts(value: list[Any] | dict[str, Any]) -> Iterator[str]:
    if isinstance(value, list):
        yield from _list_parts(value)
        return
    yield "{"
    for index, (key, item) in enumerate(value.items()):
        yield ("," if index else "") + dumps(key) + ":"
        if isinstance(item, list) and item:
            yield from _list_parts(item)
        else:
            yield dumps(item)
    yield "}"


def _list_parts(items: list[Any]) -> Iterator[str]:
    yield "["
    for index, item in enumerate(items):
        yield ("," if index else "") + dumps(item)
    yield "]"
