"""Unit tests of service.compare.diff and .divergences: the comparison of two answers and the divergence
table's parser (pure functions; the table of docs/compatibility.md itself: tests/contract/test_divergence_table.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.compare.diff import compare, format_differences, parse_json, tie_key
from service.compare.divergences import check_divergence, compare_documented, parse_divergences

NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)


def kinds(diffs: list) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return [(d.path, d.kind) for d in diffs]


def test_equal_and_status() -> None:
    assert compare(200, {"a": [1, {"b": None}]}, 200, {"a": [1, {"b": None}]}) == []
    assert kinds(compare(200, {}, 404, {})) == [("status", "status")]


def test_key_order_is_a_difference() -> None:
    diffs = compare(200, {"a": 1, "b": 2}, 200, {"b": 2, "a": 1})
    assert kinds(diffs) == [("$", "key-order")]
    assert "expected ['a', 'b']" in format_differences(diffs)


def test_missing_extra_and_types() -> None:
    diffs = compare(200, {"a": 1, "f": 0.0, "t": True}, 200, {"f": 0, "t": 1, "x": None})
    assert ("$.a", "missing") in kinds(diffs)
    assert ("$.x", "extra") in kinds(diffs)
    assert ("$.f", "type") in kinds(diffs)  # 0.0 is not 0
    assert ("$.t", "type") in kinds(diffs)  # true is not 1


def test_lists_are_ordered_by_default() -> None:
    assert kinds(compare(200, [1, 2], 200, [2, 1])) == [("$[0]", "value"), ("$[1]", "value")]
    assert kinds(compare(200, [1, 2], 200, [1])) == [("$", "length"), ("$[1]", "missing")]


def test_ignore_paths() -> None:
    exp = {"meta": {"search_time_ms": 0.0, "page": 1}, "x": 1}
    act = {"meta": {"page": 1, "search_time_ms": 3.5}, "x": 1}
    assert compare(200, exp, 200, act, ignore_paths=["meta.search_time_ms"]) == []
    assert compare(200, {"a": {"b": 1}}, 200, {"a": {"b": 2}}, ignore_paths=["**.b"]) == []


def test_tie_groups_are_unordered_but_groups_are_ordered() -> None:
    exp = {"data": [{"id": "a", "k": 2}, {"id": "b", "k": 2}, {"id": "c", "k": 1}]}
    swapped = {"data": [{"id": "b", "k": 2}, {"id": "a", "k": 2}, {"id": "c", "k": 1}]}
    wrong = {"data": [{"id": "c", "k": 1}, {"id": "a", "k": 2}, {"id": "b", "k": 2}]}
    assert compare(200, exp, 200, swapped, unordered={"data": ["k"]}) == []
    assert compare(200, exp, 200, swapped) != []
    assert ("$.data[0]", "order") in kinds(compare(200, exp, 200, wrong, unordered={"data": ["k"]}))
    changed = {"data": [{"id": "b", "k": 2}, {"id": "z", "k": 2}, {"id": "c", "k": 1}]}
    assert compare(200, exp, 200, changed, unordered={"data": ["k"]}) != []
    assert compare(200, exp, 200, wrong, unordered={"data": None}) == []


def test_tie_key_alternatives() -> None:
    assert tie_key({"created_at": "x"}, ["updated_at|created_at"]) == tie_key({"updated_at": "x"}, ["updated_at"])


def test_now_and_uuid_formats() -> None:
    now = NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
    later = (NOW + timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    old = "2025-01-01T12:00:00Z"
    f = {"**.updated_at": "now", "session_id": "uuid4"}
    assert compare(201, {"updated_at": now}, 201, {"updated_at": later}, formats=f, now=NOW) == []
    assert compare(201, {"updated_at": now}, 201, {"updated_at": old}, formats=f, now=NOW) != []
    assert compare(200, {"updated_at": old}, 200, {"updated_at": "2025-01-01T12:00:01Z"}, formats=f, now=NOW) != []
    u1, u2 = "0b6f2f0e-5a3c-4c1e-9d0f-2f6f6c2f1a10", "9a1d3c55-0f0b-4d8e-8a55-4b0c9d4e2f11"
    assert compare(201, {"session_id": u1}, 201, {"session_id": u2}, formats=f, now=NOW) == []
    assert compare(201, {"session_id": u1}, 201, {"session_id": "x"}, formats=f, now=NOW) != []


def test_twin_time() -> None:
    f = {"created_at": "twin-time"}
    now = NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert (
        compare(
            200, {"created_at": "2025-01-01T00:00:00Z"}, 200, {"created_at": "2025-01-01T00:00:01Z"}, formats=f, now=NOW
        )
        == []
    )
    assert compare(200, {"created_at": now}, 200, {"created_at": "2025-01-01T00:00:01Z"}, formats=f, now=NOW) != []


def test_unknown_format_kind_rejected() -> None:
    with pytest.raises(ValueError, match="unknown format kind"):
        compare(200, {}, 200, {}, formats={"a": "whatever"})


TABLE = """
# Compatibility

| id | request | AgentOS | agno-session | why |
| --- | --- | --- | --- | --- |
| page-zero | `GET /sessions?page=0` | 500 `{"detail":"Internal server error (ValueError)"}` | 422 `ge` | x |
| limit-cap | `GET /sessions?limit=N` \\| big | 200, loads every row | `422` error | y |
| not-a-row | text | no status | 200 | z |

| topic | AgentOS | agno-session |
| --- | --- | --- |
| Headers | a | b |
"""


def test_parse_divergences() -> None:
    divs = parse_divergences(TABLE)
    assert set(divs) == {"page-zero", "limit-cap"}
    pz = divs["page-zero"]
    assert (pz.agentos_status, pz.ours_status) == (500, 422)
    assert pz.checks_agentos_body
    assert pz.agentos_body == {"detail": "Internal server error (ValueError)"}
    assert not pz.checks_ours_body
    assert divs["limit-cap"].request == "`GET /sessions?limit=N` | big"
    assert check_divergence(pz, 500, {"detail": "Internal server error (ValueError)"}, 422, {"detail": []}) == []
    assert check_divergence(pz, 500, {"detail": "Internal server error (TypeError)"}, 422, None) != []
    assert kinds(check_divergence(pz, 500, {"detail": "Internal server error (ValueError)"}, 500, None)) == [
        ("status", "status")
    ]


def test_wildcards_in_a_documented_body() -> None:
    documented = {"detail": [{"type": "string_nul", "loc": "…", "input": "…"}]}
    assert compare_documented(documented, {"detail": [{"type": "string_nul", "loc": ["query", "x"], "input": 1}]}) == []
    assert kinds(compare_documented(documented, {"detail": [{"type": "enum", "loc": [], "input": None}]})) == [
        ("$.detail[0].type", "value")
    ]
    assert ("$.detail", "length") in kinds(compare_documented(documented, {"detail": []}))
    assert compare_documented("…", [1, 2]) == []


def test_parse_json_is_strict() -> None:
    assert list(parse_json(b'{"b":1,"a":2}')) == ["b", "a"]
    assert parse_json(b"") is None
    with pytest.raises(ValueError, match="duplicate key"):
        parse_json(b'{"a":1,"a":2}')
    with pytest.raises(ValueError, match="is not JSON"):
        parse_json(b'{"a":NaN}')
