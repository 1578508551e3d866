"""The sessions repository: named queries in, plain dicts out.

Also the pure rules for what a write stores (create, PATCH), mirroring agno 3.1.10's
`upsert_session` column by column (docs/agentos.md §4, §5, §7), and the legacy 2.x run merge (§4).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any, NamedTuple, cast

import psycopg2.errors

from service import counts, search, shaping
from service.db import Cursor, Database
from service.errors import TablesMissing
from service.jsonutil import dumps, loads
from service.rows import (
    SESSION_COLUMNS,
    CreateSessionBody,
    JSONObject,
    ListFilters,
    ReadSession,
    RunDict,
    SessionRow,
    SessionType,
    SessionWithRuns,
    UpdateSessionBody,
)

RESERVED_METADATA_KEYS = ("agno_component_version", "agno_dispatch_chain", "agno_dispatch_depth")
SORT_COLUMNS = frozenset(SESSION_COLUMNS)
MAX_OFFSET = 2**62


class SessionExists(Exception):
    """A session with the requested id already exists (any type)."""


class RunIdConflict(Exception):
    """An imported run id is already stored (run ids are unique across sessions)."""


def order_by_clause(
    fragment: Callable[..., str], sort_by: str | None, sort_order: str, legacy_runs: bool = False
) -> str:
    """AgentOS's `apply_sorting`: a column of the table, `updated_at` falling back to `created_at`;
    anything else means no sorting at all. The clause comes from this whitelist only. On the 2.x
    layout `runs` is a column too. `fragment` is `Database.fragment` / `Queries.fragment`."""
    if sort_by == "runs" and legacy_runs:
        key = fragment("sort_key_legacy_runs")
    elif sort_by == "updated_at":
        key = fragment("sort_key_updated_at")
    elif sort_by in SORT_COLUMNS:
        key = fragment("sort_key_column", column=sort_by)
    else:
        return ""
    return fragment("sort_asc" if sort_order == "asc" else "sort_desc", sort_key=key)


_TRIGRAM_RUN = re.compile(r"[^%_]{3}")


def index_serves_search(session_name: str | None) -> bool:
    """Whether the trigram index can serve a name search (three literal characters in a row); such a
    search runs with `search_planner_hint`."""
    return bool(session_name and _TRIGRAM_RUN.search(session_name))


LARGE_PAGE = 100
"""Pages of more rows than this are large: expensive requests (db.Database.expensive_slot)."""


def is_expensive(filters: ListFilters, limit: int) -> bool:
    """A name search (a scan of names unless the trigram index serves it) or a large page."""
    return filters["session_name"] is not None or limit > LARGE_PAGE


def merge_legacy_runs(table_runs: list[RunDict], legacy: Any) -> list[RunDict]:
    """agno's `merge_runs_table_with_legacy_blob`: legacy order, each entry replaced by the runs-table
    row of the same run_id, then the runs-table-only rows in table order."""
    if isinstance(legacy, str):
        try:
            legacy = loads(legacy)
        except ValueError:
            legacy = None
    if not isinstance(legacy, list) or not legacy:
        return table_runs
    by_id = {run.get("run_id"): run for run in table_runs}
    merged: list[RunDict] = []
    seen: set[Any] = set()
    for entry in legacy:
        if not isinstance(entry, dict) or entry.get("run_id") is None:
            continue
        run_id = entry["run_id"]
        merged.append(by_id.get(run_id, entry))
        seen.add(run_id)
    merged.extend(run for run in table_runs if run.get("run_id") not in seen)
    return merged


def _session_row(record: dict[str, Any]) -> SessionRow:
    # the record holds the 14 columns (plus query extras such as `runs`, which readers ignore)
    return cast(SessionRow, record)


def legacy_column_runs(legacy: Any) -> list[RunDict]:
    """The runs of a session on the 2.x layout *without* a runs table, where agno reads the `runs`
    column as stored, without the merge: only a list's dict entries are runs (a JSON string is not
    parsed, so it holds none). agno answers 500 where it meets an entry that is not a dict (or, for
    agent/team sessions, drops every run when the first entry is not one: shaping applies that)."""
    if not isinstance(legacy, list):
        return []
    return [run for run in legacy if isinstance(run, dict)]


def _with_runs(
    record: dict[str, Any], table_runs: list[RunDict] | None = None, *, runs_table: bool = True
) -> SessionWithRuns:
    """A record with its effective runs: `table_runs` (else the record's own `runs` column), merged
    with the legacy `runs` column when the table has one; without a runs table, the legacy column
    read as agno reads it then."""
    if not runs_table:
        legacy = record.get("legacy_runs")
        record[shaping.UNMERGED_LEGACY_RUNS] = legacy
        return SessionWithRuns(row=_session_row(record), runs=legacy_column_runs(legacy))
    runs = (record.get("runs") or []) if table_runs is None else table_runs
    return SessionWithRuns(row=_session_row(record), runs=merge_legacy_runs(runs, record.get("legacy_runs")))


def scrub_metadata(metadata: JSONObject | None) -> JSONObject | None:
    """Drop agno's reserved run keys; an object left empty by that becomes None."""
    if metadata is None:
        return None
    cleaned = {k: v for k, v in metadata.items() if k not in RESERVED_METADATA_KEYS}
    if not cleaned and len(cleaned) != len(metadata):
        return None
    return cleaned


def _json(value: Any) -> str:
    """A JSON column value: Python None is stored as JSON null, like agno does."""
    return dumps(value)


def create_values(session_type: SessionType, body: CreateSessionBody, now: int) -> dict[str, Any]:
    """Parameters of `insert_<type>_session` for a POST /sessions body (docs/agentos.md §5)."""
    session_data: JSONObject | None = None
    if body.get("session_state") is not None:
        session_data = {"session_state": body["session_state"]}
    if body.get("session_name") is not None:
        session_data = {**(session_data or {}), "session_name": body["session_name"]}
    metadata = scrub_metadata(body.get("metadata"))
    component_data: JSONObject | None = None
    if session_type == "workflow":
        session_data = session_data or {}
        component_data = {}
        metadata = metadata if metadata is not None else {}
    return {
        "session_id": body.get("session_id") or str(uuid.uuid4()),
        "component_id": body.get(f"{session_type}_id"),
        "user_id": body.get("user_id"),
        "session_data": _json(session_data),
        "component_data": _json(component_data),
        "metadata": _json(metadata),
        "summary": _json(body.get("summary")),
        "now": now,
    }


def update_values(row: SessionRow, as_type: SessionType, body: UpdateSessionBody, now: int) -> dict[str, Any]:
    """Parameters of `update_<type>_session` for a PATCH body applied to a loaded row (docs/agentos.md §7)."""
    session_data = row["session_data"]
    if body.get("session_name") is not None:
        session_data = dict(session_data or {})
        session_data["session_name"] = body["session_name"]
    if body.get("session_state") is not None:
        session_data = dict(session_data or {})
        session_data["session_state"] = body["session_state"]
    metadata = row["metadata"]
    if body.get("metadata") is not None:
        metadata = scrub_metadata(body["metadata"])
    component_data = row[f"{as_type}_data"]  # type: ignore[literal-required]
    summary: Any = None
    if as_type == "workflow":
        # a workflow session has no summary: agno drops it on every write
        session_data = session_data if session_data is not None else {}
        component_data = component_data if component_data is not None else {}
        metadata = metadata if metadata is not None else {}
    elif body.get("summary") is not None:
        summary = body["summary"]
    else:
        summary = shaping.summary_for_detail(row["summary"])
    return {
        "session_id": row["session_id"],
        "component_id": row[f"{as_type}_id"],  # type: ignore[literal-required]
        "user_id": row["user_id"],
        "session_data": _json(session_data),
        "component_data": _json(component_data),
        "metadata": _json(metadata),
        "summary": _json(summary),
        "now": now,
    }


def import_run_rows(session_type: SessionType, user_id: str | None, runs: list[RunDict], now: int) -> str:
    """The import extension's runs as `insert_runs` records (JSON text), in the given order."""
    records = []
    for index, run in enumerate(runs):
        if run.get("workflow_id"):
            run_type = "workflow"
        elif run.get("team_id") and not run.get("agent_id"):
            run_type = "team"
        elif run.get("agent_id"):
            run_type = "agent"
        else:
            run_type = session_type
        created_at = run.get("created_at")
        records.append(
            {
                "run_id": run["run_id"],
                "run_type": run_type,
                "agent_id": run.get("agent_id"),
                "team_id": run.get("team_id"),
                "workflow_id": run.get("workflow_id"),
                "user_id": run.get("user_id", user_id),
                "parent_run_id": run.get("parent_run_id"),
                "status": run.get("status"),
                "run_index": index,
                "run_data": run,
                "created_at": created_at if isinstance(created_at, int) else now,
            }
        )
    return dumps(records)


# ---------------------------------------------------------------------- read-back after an unanswered COMMIT


def is_created_row(record: dict[str, Any], session_type: SessionType, values: dict[str, Any]) -> bool:
    """Whether a stored row is the one `insert_<type>_session` wrote with `values` (not a session of
    the same id created by someone else: that one stays a 409)."""
    return bool(
        record["session_type"] == session_type
        and record[f"{session_type}_id"] == values["component_id"]
        and record["user_id"] == values["user_id"]
        and record["created_at"] == values["now"]
        and record["session_data"] == loads(values["session_data"])
        and record["metadata"] == loads(values["metadata"])
    )


def is_updated_row(record: dict[str, Any], body: UpdateSessionBody, now: int) -> bool:
    """Whether a stored row carries a PATCH made at `now` with `body`. A false "no" only re-applies
    the same values (a PATCH is idempotent but for updated_at), so the check may be strict."""
    session_data = record["session_data"] if isinstance(record["session_data"], dict) else {}
    return (
        record["updated_at"] == now
        and (body.get("session_name") is None or session_data.get("session_name") == body["session_name"])
        and (body.get("session_state") is None or session_data.get("session_state") == body["session_state"])
        and (body.get("metadata") is None or record["metadata"] == scrub_metadata(body["metadata"]))
    )


# ---------------------------------------------------------------------- reads


async def answer_snapshot(db: Database) -> str:
    return str(await db.read(lambda cur: cur.value("answer_snapshot", {})))


async def get_session(db: Database, session_id: str, user_id: str | None) -> ReadSession | None:
    async def work(cur: Cursor) -> dict[str, Any] | None:
        return await cur.one("get_session", {"session_id": session_id, "user_id": user_id}, lock="")

    record = await db.read(work)
    if record is None:
        return None
    return ReadSession(**_with_runs(record, runs_table=db.has_runs_table), snapshot=record["snapshot"])


class ListPage(NamedTuple):
    total: int
    sessions: list[SessionWithRuns]
    """The page's sessions, with the runs needed to derive their names."""
    snapshot: str
    """The committed state the page was read under (`answer_snapshot`'s identity)."""


async def list_sessions(
    db: Database, filters: ListFilters, sort_by: str | None, sort_order: str, limit: int, page: int
) -> ListPage:
    name = filters["session_name"]
    count_key = counts.filters_key(filters["user_id"], filters["component_id"], filters["session_type"], name)
    params = {
        "user_id": filters["user_id"],
        "component_id": filters["component_id"],
        "session_type": filters["session_type"],
        "name_pattern": None if name is None else f"%{name}%",
        "index_pattern": None,
        "known_snapshot": None,
        "limit": limit,
        "offset": min((page - 1) * limit, MAX_OFFSET),
    }

    hint = db.fragment("search_planner_hint") if index_serves_search(name) else ""
    params["statement_timeout"] = f"{max(1, int(db.list_timeout(is_expensive(filters, limit)) * 1000))}ms"

    async def work(cur: Cursor) -> tuple[int, list[dict[str, Any]], dict[str, list[RunDict]], str]:
        if name is not None:
            params["index_pattern"] = search.index_pattern(name, await db.name_sample(cur))
        known = db.count_cache.known(count_key)
        params["known_snapshot"] = None if known is None else known.snapshot
        records = await cur.all(
            "list_sessions",
            params,
            order_by=order_by_clause(db.fragment, sort_by, sort_order, db.has_legacy_runs),
            planner_hint=hint,
        )
        first = records[0]  # the count row is always there; page columns are NULL past the end
        counted = None if first["total_count"] is None else int(first["total_count"])
        total = db.count_cache.settle(count_key, known, first["snapshot"], counted)
        page_records = [r for r in records if r["session_id"] is not None]
        unnamed = [r["session_id"] for r in page_records if not _has_stored_name(r["session_data"])]
        runs_by_session: dict[str, list[RunDict]] = {}
        if unnamed:
            for run in await cur.all("runs_for_naming", {"session_ids": unnamed}):
                runs_by_session.setdefault(run["session_id"], []).append(run["run_data"])
        return total, page_records, runs_by_session, first["snapshot"]

    total, records, runs_by_session, snapshot = await db.read(work)
    if not db.has_runs_table:  # agno's list names sessions from the raw column (no merge, no parsing)
        legacy = [SessionWithRuns(row=_session_row(r), runs=legacy_column_runs(r.get("legacy_runs"))) for r in records]
        return ListPage(total, legacy, snapshot)
    return ListPage(total, [_with_runs(r, runs_by_session.get(r["session_id"], [])) for r in records], snapshot)


def _has_stored_name(session_data: Any) -> bool:
    return isinstance(session_data, dict) and session_data.get("session_name") is not None


# ---------------------------------------------------------------------- writes


async def create_session(db: Database, session_type: SessionType, body: CreateSessionBody, now: int) -> SessionWithRuns:
    values = create_values(session_type, body, now)
    runs = body.get("runs") or []

    async def work(cur: Cursor) -> dict[str, Any]:
        record = await cur.one(f"insert_{session_type}_session", values)
        if record is None:
            raise SessionExists(values["session_id"])
        if runs and not db.has_runs_table:  # a 2.x database keeps its runs in the sessions' `runs` column
            if not db.has_legacy_runs:
                raise TablesMissing(db.db_id)
            await cur.run("set_legacy_runs", {"session_id": values["session_id"], "runs": dumps(runs)})
        elif runs:
            rows = import_run_rows(session_type, body.get("user_id"), runs, now)
            await cur.run("insert_runs", {"session_id": values["session_id"], "runs": rows})
        return record

    async def verify(cur: Cursor) -> tuple[bool, dict[str, Any]]:
        record = await cur.one("get_session", {"session_id": values["session_id"], "user_id": None}, lock="")
        return record is not None and is_created_row(record, session_type, values), record or {}

    try:
        record = await db.write(work, verify)
    except psycopg2.errors.UniqueViolation:  # only run ids can clash: the session insert skips conflicts
        raise RunIdConflict(values["session_id"]) from None
    return SessionWithRuns(row=_session_row(record), runs=list(runs))


async def rename_session(
    db: Database, session_id: str, name: str, session_type: SessionType | None, user_id: str | None
) -> SessionWithRuns | None:
    params = {"session_id": session_id, "session_name": name, "session_type": session_type, "user_id": user_id}

    async def work(cur: Cursor) -> dict[str, Any] | None:
        return await cur.one("rename_session", params)

    async def verify(cur: Cursor) -> tuple[bool, dict[str, Any] | None]:
        record = await cur.one("get_session", {"session_id": session_id, "user_id": user_id}, lock="")
        stored = (
            record is not None
            and (session_type is None or record["session_type"] == session_type)
            and isinstance(record["session_data"], dict)
            and record["session_data"].get("session_name") == name
        )
        return stored, record

    record = await db.write(work, verify)
    return None if record is None else _with_runs(record, runs_table=db.has_runs_table)


async def update_session(
    db: Database,
    session_id: str,
    user_id: str | None,
    as_type: SessionType | None,
    body: UpdateSessionBody,
    now: int,
) -> tuple[SessionWithRuns, SessionType, SessionType] | None:
    """Read-modify-write under a row lock; returns the new row, the type to answer it as and the
    type its runs were parsed as."""

    async def work(cur: Cursor) -> tuple[SessionWithRuns, SessionType, SessionType] | None:
        params = {"session_id": session_id, "user_id": user_id}
        record = await cur.one("get_session", params, lock=db.fragment("lock_session_row"))
        if record is None:
            return None
        loaded = _with_runs(record, runs_table=db.has_runs_table)
        write_type = as_type or shaping.detect_session_type(loaded["row"])
        updated = await cur.one(f"update_{write_type}_session", update_values(loaded["row"], write_type, body, now))
        assert updated is not None  # noqa: S101 -- narrowing: the row is locked, the UPDATE returns it
        if shaping.UNMERGED_LEGACY_RUNS in record:
            updated[shaping.UNMERGED_LEGACY_RUNS] = record[shaping.UNMERGED_LEGACY_RUNS]
        row = _session_row(updated)
        # like agno: loaded (runs parsed) and written as the requested type, answered as the stored type
        return SessionWithRuns(row=row, runs=loaded["runs"]), shaping.detect_session_type(row), write_type

    async def verify(cur: Cursor) -> tuple[bool, tuple[SessionWithRuns, SessionType, SessionType] | None]:
        record = await cur.one("get_session", {"session_id": session_id, "user_id": user_id}, lock="")
        if record is None or not is_updated_row(record, body, now):
            return False, None
        loaded = _with_runs(record, runs_table=db.has_runs_table)
        stored_type = shaping.detect_session_type(loaded["row"])
        return True, (loaded, stored_type, as_type or stored_type)

    return await db.write(work, verify)


async def delete_session(db: Database, session_id: str, user_id: str | None) -> None:
    async def work(cur: Cursor) -> int:
        # without a runs table (2.x layout) only the session row goes, as in agno
        query = "delete_session" if db.has_runs_table else "delete_session_row"
        return await cur.run(query, {"session_id": session_id, "user_id": user_id})

    async def verify(cur: Cursor) -> tuple[bool, int]:
        return await cur.one("get_session", {"session_id": session_id, "user_id": user_id}, lock="") is None, 1

    await db.write(work, verify)


async def delete_sessions(db: Database, session_ids: list[str], user_id: str | None) -> None:
    async def work(cur: Cursor) -> int:
        query = "delete_sessions" if db.has_runs_table else "delete_session_rows"
        return await cur.run(query, {"session_ids": session_ids, "user_id": user_id})

    async def verify(cur: Cursor) -> tuple[bool, int]:
        left = await cur.value("count_sessions_by_ids", {"session_ids": session_ids, "user_id": user_id})
        return left == 0, len(session_ids)

    await db.write(work, verify)
