"""The divergence table of docs/compatibility.md: its rows parsed, and a pair of answers checked
against one (by the contract suite and by `agno-session compare`). Pure functions, no I/O."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from service.compare.diff import Difference, compare

_UNDOCUMENTED: Any = object()
"""A cell's body when it holds no complete JSON body (prose, or a status only)."""

WILDCARD = "…"
"""A documented body's value that stands for any value (a timestamp of "now", an echoed input that
differs between the requests one row covers); the rest of the body, key order included, is compared."""


def wildcard_paths(body: Any, path: tuple[str | int, ...] = ()) -> list[str]:
    """The diff patterns (see service.compare.diff) of every WILDCARD value in `body`."""
    if body == WILDCARD:
        return [".".join(str(p) for p in path) or "$"]
    if isinstance(body, dict):
        return [w for k, v in body.items() for w in wildcard_paths(v, (*path, k))]
    if isinstance(body, list):
        return [w for i, v in enumerate(body) for w in wildcard_paths(v, (*path, i))]
    return []


def compare_documented(expected: Any, actual: Any) -> list[Difference]:
    """`actual` against a documented body, its WILDCARD values matching anything."""
    return compare(None, expected, None, actual, ignore_paths=wildcard_paths(expected))


# --------------------------------------------------------------------------------------------------------
# documented divergences (docs/compatibility.md)
# --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Divergence:
    """A row of the divergence table: what AgentOS answers and what agno-session answers instead."""

    id: str
    request: str
    agentos_status: int
    agentos_body: Any  # the parsed JSON when the cell holds a complete JSON body, else _UNDOCUMENTED
    ours_status: int
    ours_body: Any
    ours_cell: str = ""  # the agno-session cell as written (names the 422 error types it documents)

    @property
    def checks_agentos_body(self) -> bool:
        return self.agentos_body is not _UNDOCUMENTED

    @property
    def checks_ours_body(self) -> bool:
        return self.ours_body is not _UNDOCUMENTED


def _split_row(line: str) -> list[str]:
    cells = re.split(r"(?<!\\)\|", line.strip())
    if cells and cells[0].strip() == "":
        cells = cells[1:]
    if cells and cells[-1].strip() == "":
        cells = cells[:-1]
    return [c.strip().replace("\\|", "|") for c in cells]


def _parse_cell(cell: str) -> tuple[int, Any] | None:
    text = cell.strip()
    if len(text) >= 2 and text.startswith("`") and text.endswith("`"):
        text = text.strip("`").strip()
    m = re.match(r"^`?(\d{3})\b`?\s*(.*)$", text, re.S)
    if not m:
        return None
    rest = m.group(2).strip().strip("`").strip()
    body: Any = _UNDOCUMENTED
    if rest:
        try:
            body = json.loads(rest)
        except ValueError:
            body = _UNDOCUMENTED
    return int(m.group(1)), body


def parse_divergences(markdown: str) -> dict[str, Divergence]:
    """The rows of every markdown table whose header is `| id | request | AgentOS | agno-session | ... |`."""
    out: dict[str, Divergence] = {}
    columns: list[str] | None = None
    for line in markdown.splitlines():
        if not line.strip().startswith("|"):
            columns = None
            continue
        cells = _split_row(line)
        lowered = [c.strip("` ").lower() for c in cells]
        if "id" in lowered and "agentos" in lowered and "agno-session" in lowered:
            columns = lowered
            continue
        if columns is None or all(set(c) <= set("-: ") for c in cells):
            continue
        row = dict(zip(columns, cells, strict=False))
        div_id = row.get("id", "").strip("` ")
        theirs = _parse_cell(row.get("agentos", ""))
        ours = _parse_cell(row.get("agno-session", ""))
        if not div_id or theirs is None or ours is None:
            continue
        out[div_id] = Divergence(
            div_id, row.get("request", ""), theirs[0], theirs[1], ours[0], ours[1], row.get("agno-session", "")
        )
    return out


def check_divergence(
    div: Divergence,
    agentos_status: int | None,
    agentos_json: Any,
    actual_status: int | None,
    actual_json: Any,
) -> list[Difference]:
    """Differences between a documented divergence and what the two services answered."""
    diffs: list[Difference] = []
    sides = (
        ("AgentOS ", div.agentos_status, agentos_status, div.checks_agentos_body, div.agentos_body, agentos_json),
        ("", div.ours_status, actual_status, div.checks_ours_body, div.ours_body, actual_json),
    )
    for prefix, documented, status, check_body, body, answered in sides:
        if status != documented:
            broken = "AgentOS no longer answers" if prefix else "agno-session should answer"
            note = f"divergence {div.id}: {broken} as documented"
            diffs.append(Difference(f"{prefix}status", "status", documented, status, note))
        elif check_body:
            diffs.extend(
                Difference(prefix + d.path, d.kind, d.expected, d.actual, f"divergence {div.id}")
                for d in compare_documented(body, answered)
            )
    return diffs
