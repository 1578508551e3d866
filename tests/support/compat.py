"""The divergence table of docs/compatibility.md as tests read it: a test of a documented divergence
asserts the row's own answer, so the table cannot drift from what the service does."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from service.compare.divergences import Divergence, compare_documented, parse_divergences

COMPAT_DOC = Path(__file__).resolve().parents[2] / "docs" / "compatibility.md"


@cache
def divergences() -> dict[str, Divergence]:
    return parse_divergences(COMPAT_DOC.read_text(encoding="utf-8"))


def assert_documented(row_id: str, status: int, body: object) -> None:
    """`status` and `body` are our answer as row `row_id` documents it (its status and JSON body)."""
    row = divergences()[row_id]
    assert row.checks_ours_body, f"row {row_id} of docs/compatibility.md documents no body for agno-session"
    assert status == row.ours_status, (row_id, status, row.ours_status)
    differences = compare_documented(row.ours_body, body)
    assert not differences, f"row {row_id}: " + "; ".join(str(d) for d in differences)
