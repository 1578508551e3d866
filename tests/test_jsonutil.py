"""encode_batches: a large answer in batches, byte for byte what one `dumps` gives."""

from __future__ import annotations

from typing import Any

import pytest

from service.jsonutil import BATCH_BYTES, dumps, encode_batches

PAGE = {"data": [{"i": i, "s": "é✓" * (i * 997 % 40_000)} for i in range(200)], "meta": {"page": 1, "total": 200}}


@pytest.mark.parametrize(
    "value",
    [PAGE, PAGE["data"], [], {}, [1], {"data": []}, "text", None, {"k": [1, [2, 3]], "n": 2**70}, {1: "int key"}],
)
def test_batches_join_to_the_one_encoding(value: Any) -> None:
    assert b"".join(encode_batches(value)) == dumps(value).encode()


def test_a_large_page_comes_in_batches() -> None:
    batches = encode_batches(PAGE)
    whole = sum(len(batch) for batch in batches)
    assert whole > 10 * BATCH_BYTES
    assert max(len(batch) for batch in batches) < whole / 4
