"""Typed rows and request bodies: the data layer's vocabulary.

JSON columns are decoded by psycopg2 (ujson) into plain Python values; SQL NULL and the JSON
literal `null` both read as None (agno treats them alike everywhere except rename, see store).
Run dicts are agno's serialised `RunOutput`/`TeamRunOutput`/`WorkflowRunOutput` (`run_data`).
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

SessionType = Literal["agent", "team", "workflow"]
SESSION_TYPES: tuple[SessionType, ...] = ("agent", "team", "workflow")
SORT_ORDERS: tuple[str, ...] = ("asc", "desc")

JSONObject = dict[str, Any]
RunDict = dict[str, Any]


def is_workflow_run(run: RunDict) -> bool:
    """agno's `get_run_type(run) == "workflow"`: the run names no agent and no team."""
    return not (run.get("agent_id") or run.get("agent_name") or run.get("team_id") or run.get("team_name"))


class SessionRow(TypedDict):
    """One row of `agno_sessions` (JSON columns decoded): agno's 14 columns, in agno's order."""

    session_id: str
    session_type: str | None
    agent_id: str | None
    team_id: str | None
    workflow_id: str | None
    user_id: str | None
    session_data: Any
    agent_data: Any
    team_data: Any
    workflow_data: Any
    metadata: Any
    summary: Any
    created_at: int | None
    updated_at: int | None


SESSION_COLUMNS: tuple[str, ...] = tuple(SessionRow.__annotations__)


class SessionWithRuns(TypedDict):
    """A session row plus its effective run list (runs table merged with a legacy `runs` column)."""

    row: SessionRow
    runs: list[RunDict]


class ReadSession(SessionWithRuns):
    """A session as a read found it, with the committed state it was read under (store.answer_snapshot)."""

    snapshot: str


class ListFilters(TypedDict):
    session_type: SessionType | None
    component_id: str | None
    user_id: str | None
    session_name: str | None


class CreateSessionBody(TypedDict, total=False):
    session_id: str | None
    session_name: str | None
    session_state: JSONObject | None
    metadata: JSONObject | None
    user_id: str | None
    agent_id: str | None
    team_id: str | None
    workflow_id: str | None
    # import extension (not in AgentOS): history carried along with the session
    runs: list[RunDict] | None
    summary: JSONObject | None


class UpdateSessionBody(TypedDict, total=False):
    session_name: str | None
    session_state: JSONObject | None
    metadata: JSONObject | None
    summary: JSONObject | None
