"""The request matrix of the contract suite (docs/agentos.md, docs/security.md), in execution order.

Reads come first (they see the seed exactly), then mutations (each on twin sessions, followed by a
read-back), then reads that observe the mutations. A case's `instance` names the server pair it runs on:

    single  one database (db id contract-a); no auth
    multi   contract-a, contract-b, contract-legacy (agno 2.x layout) and contract-edge (rows that make
            AgentOS fail: documented divergences); `db_id` is mandatory
    auth    contract-a with OS_SECURITY_KEY set on both services (and agno-session's page-size cap left
            at its default, for the documented `limit-cap` divergence)
    legacy2x  contract-legacy-2x: the agno 2.x layout without an agno_runs table (runs only in the sessions'
            `runs` column), both services told not to create tables
    media-local, media-s3   contract-media (runs whose media agno offloaded) with media storage configured on
            both services: one local directory, or one bucket of a moto S3 server; media answers are
            compared with their headers and bytes (harness `media_differences`)

Placeholders: `{T}` in a path, query value or body becomes `-os` in the request sent to AgentOS and `-us` in
the one sent to the service under test (twin sessions, seeded twice); `{ID}` in a read-back path is the
session id that each service generated in the case named by `source`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .media_objects import OBJECTS as MEDIA_OBJECTS
from .media_objects import S3_PREFIX
from .media_objects import key as media_key

NO_BODY: Any = type("NoBody", (), {"__repr__": lambda self: "NO_BODY"})()

SECURITY_KEY = "contract-secret-key"
DB_IDS = {
    "a": "contract-a",
    "b": "contract-b",
    "legacy": "contract-legacy",
    "edge": "contract-edge",
    "legacy2x": "contract-legacy-2x",
    "media": "contract-media",
}
A, B, LEG, EDGE = DB_IDS["a"], DB_IDS["b"], DB_IDS["legacy"], DB_IDS["edge"]
INSTANCES: dict[str, dict[str, Any]] = {
    "single": {"dbs": ["a"]},
    "multi": {"dbs": ["a", "b", "legacy", "edge"]},
    "auth": {"dbs": ["a"], "auth": True, "max_page_size": 1000},
    # an agno 2.x database never migrated (no agno_runs table); neither side may create tables
    "legacy2x": {"dbs": ["legacy2x"], "auto_provision": False},
    # media storage on both services (agno's LocalMediaStorage / S3MediaStorage on a moto server)
    "media-local": {"dbs": ["media"], "media": "local"},
    "media-s3": {"dbs": ["media"], "media": "s3"},
}
AUTH = {"Authorization": f"Bearer {SECURITY_KEY}"}

# "now" values (created/updated by the suite itself, or a workflow's NULL updated_at) are checked for
# format only; every other timestamp must be equal.
NOW_FORMATS = {"**.created_at": "now", "**.updated_at": "now"}


@dataclass(frozen=True)
class Case:
    name: str
    method: str = "GET"
    path: str = "/sessions"
    query: tuple[tuple[str, str], ...] = ()
    body: Any = NO_BODY
    raw_body: str | bytes | None = None
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    instance: str = "single"
    db: str = "a"  # the database a twin lives in (for row checks)
    divergence: str | None = None
    unordered: dict[str, list[str] | None] = field(default_factory=dict)
    formats: dict[str, str] = field(default_factory=lambda: dict(NOW_FORMATS))
    ignore: tuple[str, ...] = ()
    kind: str = "request"  # or "readback"
    readback: tuple[str, ...] = ()
    source: str | None = None
    db_rows: tuple[str, ...] = ()
    generates_id: bool = False
    allow_5xx: tuple[int, ...] = ()  # a 5xx that is AgentOS's designed answer (503: no media storage)

    def is_twin(self) -> bool:
        raw = self.raw_body.decode("utf-8", "replace") if isinstance(self.raw_body, bytes) else self.raw_body
        parts = [self.path, raw or "", json.dumps(list(self.query))]
        if self.body is not NO_BODY:
            parts.append(json.dumps(self.body))
        return any("{T}" in p for p in parts)


Q = Sequence[tuple[str, str]]
_SORT_TIES = {
    "created_at": ["created_at"],
    "updated_at": ["updated_at|created_at"],  # AgentOS sorts on coalesce(updated_at, created_at)
    "session_id": ["session_id"],
    "user_id": ["user_id"],
    "agent_id": ["agent_id"],
    "team_id": ["team_id"],
    "workflow_id": ["workflow_id"],
    "session_type": ["session_type"],
    "summary": ["session_summary"],
    "runs": None,
}


def list_ties(query: Q) -> dict[str, list[str] | None]:
    """Tie groups of a list answer: rows with equal sort keys may come back in any order."""
    sort_by = "created_at"
    for k, v in query:
        if k == "sort_by":
            sort_by = v
    if sort_by in _SORT_TIES:
        return {"data": _SORT_TIES[sort_by]}
    return {"data": None}  # no ORDER BY (unknown column) or a JSON column: the order is the database's


def lst(name: str, *query: tuple[str, str], **kw: Any) -> Case:
    return Case(name, "GET", "/sessions", tuple(query), unordered=list_ties(query), **kw)


def get(name: str, path: str, *query: tuple[str, str], **kw: Any) -> Case:
    return Case(name, "GET", path, tuple(query), **kw)


def mutation(case: Case, *readback: str, rows: Sequence[str] = (), query: Q = ()) -> list[Case]:
    """A mutating case and its read-back (each service reads both twins; rows compared when given)."""
    rb = Case(
        f"{case.name}__readback",
        kind="readback",
        readback=tuple(readback),
        query=tuple(query),
        source=case.name,
        instance=case.instance,
        db=case.db,
        divergence=case.divergence,
        db_rows=tuple(rows),
        headers=case.headers,
    )
    return [case, rb] if readback or rows else [case]


# ========================================================================================================
# misc: health, home, routing (docs/agentos.md §1)
# ========================================================================================================
def misc_cases() -> list[Case]:
    return [
        get("health", "/health", formats={"instantiated_at": "now"}, ignore=("instantiated_at",)),
        get("health_trailing_slash", "/health/", ignore=("instantiated_at",)),
        get("home", "/"),
        get("healthz_is_not_agentos", "/healthz", divergence="extra-endpoints"),
        get("unknown_path_404", "/sessionz"),
        get("unknown_nested_path_404", "/sessions/agent-00/runs/agent-00-r0/extra"),
        Case("method_put_sessions_405", "PUT", "/sessions", body={}),
        Case("method_patch_sessions_405", "PATCH", "/sessions", body={}),
        Case("method_get_rename_405", "GET", "/sessions/agent-00/rename"),
        Case("method_post_runs_405", "POST", "/sessions/agent-00/runs", body={}),
        Case("method_delete_run_405", "DELETE", "/sessions/agent-00/runs/agent-00-r0"),
        Case("method_put_session_405", "PUT", "/sessions/agent-00", body={}),
        Case("trailing_slash_list", "GET", "/sessions/", (("limit", "3"),), unordered=list_ties(())),
        get("trailing_slash_get", "/sessions/agent-00/"),
        get("trailing_slash_runs", "/sessions/agent-00/runs/"),
        get("trailing_slash_run", "/sessions/agent-00/runs/agent-00-r1/"),
        get("media_without_storage_503", "/sessions/agent-00/media/some/key.png", allow_5xx=(503,)),
        # agno's TrailingSlashMiddleware strips every trailing slash; uvicorn percent-decodes the path
        # before routing (an encoded `/` separates segments)
        get("trailing_slash_previews", "/sessions/agent-00/run-previews/"),
        get("trailing_slash_media", "/sessions/agent-00/media/k.png/", allow_5xx=(503,)),
        Case("trailing_slashes_many_list", "GET", "/sessions//", (("limit", "2"),), unordered=list_ties(())),
        get("trailing_slashes_many_runs", "/sessions/agent-00/runs//"),
        get("trailing_slashes_many_health", "/health//", ignore=("instantiated_at",)),
        get("trailing_slashes_many_unknown", "/sessionz//"),
        get("root_double_slash", "//"),
        get("double_slash_inside", "/sessions//agent-00"),
        get("double_slash_inside_runs", "/sessions/agent-00//runs"),
        get("pct_slash_in_session_id", "/sessions/a%2Fb"),
        get("pct_slash_in_session_id_runs", "/sessions/a%2Fb/runs"),
        get("pct_slash_joins_route", "/sessions/agent-00%2Fruns"),
        get("pct_slash_joins_run", "/sessions/agent-00/runs%2Fagent-00-r0"),
        get("pct_slash_in_run_id", "/sessions/agent-00/runs/a%2Fb"),
        get("pct_slash_trailing", "/sessions/agent-00%2F"),
        get("pct_slash_trailing_run", "/sessions/agent-00/runs/agent-00-r0%2F%2f"),
        get("pct_slash_leading", "/%2Fsessions"),
        get("pct_encoded_route_letter", "/%73essions/agent-00"),
        get("pct_encoded_everything", "/sessions%2Fagent-00%2Frun-previews"),
        get("pct_encoded_media_key", "/sessions/agent-00/media/a%2F%2Fb", allow_5xx=(503,)),
        get("pct_double_encoded", "/sessions/a%252Fb"),
        get("pct_encoded_dash", "/sessions/agent%2D00", ("type", "agent")),
        get("pct_encoded_dot", "/sessions/%2E"),
        get("dot_dot_segment", "/sessions/.."),
        get("dot_dot_run_id", "/sessions/agent-00/runs/.."),
        get("plus_in_path_is_literal", "/sessions/a+b"),
        get("paths_are_case_sensitive", "/SESSIONS"),
        get("paths_are_case_sensitive_runs", "/sessions/agent-00/RUNS"),
        Case("query_empty_pairs", "GET", "/sessions?&&limit=1&", unordered=list_ties(())),
        Case("query_key_without_value", "GET", "/sessions?limit"),
        Case("query_value_without_key", "GET", "/sessions?limit=1&=x", unordered=list_ties(())),
        Case("query_semicolon_is_not_a_separator", "GET", "/sessions?limit=1;type=team"),
        Case("query_encoded_key", "GET", "/sessions?%6Cimit=2&type%3Dx=1", unordered=list_ties(())),
        Case("query_plus_is_space", "GET", "/sessions?type=team+"),
        Case("query_plus_in_user_id", "GET", "/sessions/agent-00?user_id=alice+x@example.com"),
    ]


# ========================================================================================================
# GET /sessions (docs/agentos.md §9)
# ========================================================================================================
def list_cases() -> list[Case]:
    c: list[Case] = [lst("list_default"), lst("list_limit_all", ("limit", "1000"))]
    for t in ("agent", "team", "workflow"):
        c.append(lst(f"list_type_{t}", ("type", t), ("limit", "100")))
    c += [
        lst("list_type_invalid", ("type", "robot")),
        lst("list_type_uppercase", ("type", "AGENT")),
        lst("list_type_empty", ("type", "")),
        lst("list_component_agent", ("type", "agent"), ("component_id", "support-agent")),
        lst("list_component_team", ("type", "team"), ("component_id", "oracle-team")),
        lst("list_component_workflow", ("type", "workflow"), ("component_id", "etl-workflow")),
        lst("list_component_no_type", ("component_id", "review-team")),
        lst("list_component_no_type_agent", ("component_id", "sales-agent"), ("limit", "50")),
        lst("list_component_type_mismatch", ("type", "team"), ("component_id", "support-agent")),
        lst("list_component_unknown", ("component_id", "nope")),
        lst("list_component_empty", ("component_id", "")),
        lst("list_user", ("user_id", "alice@example.com")),
        lst("list_user_unknown", ("user_id", "nobody@example.com")),
        lst("list_user_empty_string", ("user_id", "")),
        lst("list_user_and_type", ("user_id", "carol@example.com"), ("type", "workflow")),
        lst("list_name_partial", ("session_name", "conversation")),
        lst("list_name_case_insensitive", ("session_name", "AGENT CONVERSATION 0")),
        lst("list_name_unicode", ("session_name", "café ü")),
        lst("list_name_emoji", ("session_name", "🚀")),
        lst("list_name_percent_wildcard", ("session_name", "%"), ("limit", "100")),
        lst("list_name_underscore_wildcard", ("session_name", "Team_session")),
        lst("list_name_percent_inside", ("session_name", "W%00")),
        lst("list_name_derived_not_matched", ("session_name", "Question zero")),
        lst("list_name_empty_matches_all", ("session_name", ""), ("limit", "100")),
        lst("list_name_with_type", ("session_name", "session"), ("type", "team")),
        lst("list_name_no_match", ("session_name", "zzz-no-such-name")),
    ]
    for sb in (
        "created_at",
        "updated_at",
        "session_id",
        "user_id",
        "agent_id",
        "team_id",
        "workflow_id",
        "session_type",
    ):
        for so in ("asc", "desc"):
            c.append(lst(f"list_sort_{sb}_{so}", ("sort_by", sb), ("sort_order", so), ("limit", "100")))
    c += [
        lst("list_sort_updated_at_page2", ("sort_by", "updated_at"), ("limit", "7"), ("page", "2")),
        lst(
            "list_sort_session_id_asc_page3",
            ("sort_by", "session_id"),
            ("sort_order", "asc"),
            ("limit", "5"),
            ("page", "3"),
        ),
        lst("list_sort_summary_team", ("sort_by", "summary"), ("type", "team")),
        lst("list_sort_order_only_asc", ("sort_order", "asc")),
        lst("list_sort_by_unknown_column", ("sort_by", "bogus"), ("type", "agent"), ("limit", "100")),
        lst("list_sort_by_session_name_not_a_column", ("sort_by", "session_name"), ("type", "team")),
        lst("list_sort_by_empty", ("sort_by", ""), ("type", "workflow")),
        lst("list_sort_by_runs_not_a_column", ("sort_by", "runs"), ("type", "team")),
        lst("list_sort_by_uppercase_column", ("sort_by", "CREATED_AT"), ("type", "team")),
        lst("list_sort_order_invalid", ("sort_order", "sideways")),
        lst("list_sort_order_uppercase", ("sort_order", "ASC")),
        lst("list_sort_order_empty", ("sort_order", "")),
    ]
    for attr in ("keys", "values", "items", "get"):
        c.append(lst(f"list_sort_by_attribute_{attr}", ("sort_by", attr), divergence="sort-by-attribute"))
    c += [
        lst("list_page1_limit5", ("limit", "5"), ("page", "1")),
        lst("list_page2_limit5", ("limit", "5"), ("page", "2")),
        lst("list_page_last_partial", ("limit", "7"), ("page", "10")),
        lst("list_page_beyond_end", ("limit", "5"), ("page", "99")),
        lst("list_page_far_beyond_end", ("limit", "20"), ("page", "1000000")),
        lst("list_limit1", ("limit", "1")),
        lst("list_limit1_page2", ("limit", "1"), ("page", "2")),
        lst("list_limit_huge", ("limit", "1000000")),
        lst("list_limit_over_int32", ("limit", "3000000000")),
        lst("list_limit_zero", ("limit", "0")),
        lst("list_limit_negative", ("limit", "-1")),
        lst("list_limit_not_int", ("limit", "abc")),
        lst("list_limit_float", ("limit", "2.5")),
        lst("list_limit_empty", ("limit", "")),
        lst("list_limit_whitespace", ("limit", " 3 ")),
        lst("list_limit_plus_sign", ("limit", "+3")),
        lst("list_page_zero", ("page", "0"), divergence="page-zero"),
        lst("list_page_negative", ("page", "-1")),
        lst("list_page_not_int", ("page", "x")),
        lst("list_page_and_limit_invalid", ("limit", "0"), ("page", "-1"), ("type", "robot")),
        lst("list_empty_params", ("type", ""), ("limit", ""), ("page", "")),
        lst("list_errors_listed_in_param_order", ("sort_order", "q"), ("page", "x"), ("limit", "y"), ("type", "z")),
        lst(
            "list_combined",
            ("type", "agent"),
            ("user_id", "alice@example.com"),
            ("sort_by", "created_at"),
            ("sort_order", "asc"),
            ("limit", "1"),
            ("page", "2"),
        ),
        lst(
            "list_combined_team_component_user",
            ("type", "team"),
            ("component_id", "oracle-team"),
            ("user_id", "carol@example.com"),
        ),
        lst(
            "list_combined_all_filters",
            ("type", "agent"),
            ("component_id", "support-agent"),
            ("user_id", "alice@example.com"),
            ("session_name", "conversation"),
            ("sort_by", "updated_at"),
            ("sort_order", "asc"),
            ("limit", "10"),
            ("page", "1"),
            ("db_id", A),
        ),
        lst("list_db_id_valid", ("db_id", A), ("limit", "3")),
        lst("list_db_id_unknown", ("db_id", "nope")),
        lst("list_table_without_db_id", ("table", "agno_sessions")),
        lst("list_db_id_and_table_valid", ("db_id", A), ("table", "agno_sessions"), ("limit", "2")),
        lst("list_db_id_and_memory_table", ("db_id", A), ("table", "agno_memories"), ("limit", "2")),
        lst("list_db_id_and_runs_table_rejected", ("db_id", A), ("table", "agno_runs")),
        lst("list_db_id_and_table_unknown", ("db_id", A), ("table", "nope")),
        lst("list_db_id_empty", ("db_id", ""), ("limit", "3")),
        lst("list_table_empty", ("table", ""), ("limit", "3")),
        lst("list_db_id_and_table_empty", ("db_id", ""), ("table", ""), ("type", "team")),
        lst("list_db_id_valid_table_empty", ("db_id", A), ("table", ""), ("limit", "2")),
        lst("list_db_id_empty_table_given", ("db_id", ""), ("table", "agno_sessions")),
        lst("list_db_id_empty_table_unknown", ("db_id", ""), ("table", "nope")),
        lst("list_db_id_empty_type_invalid", ("db_id", ""), ("type", "robot")),
        lst("list_db_id_repeated_empty_last", ("db_id", A), ("db_id", ""), ("limit", "2")),
        lst("list_db_id_repeated_empty_first", ("db_id", ""), ("db_id", "nope")),
        lst("list_unknown_query_param_ignored", ("foo", "bar"), ("limit", "2")),
        lst("list_repeated_type_last_wins", ("type", "agent"), ("type", "team"), ("limit", "50")),
        lst("list_repeated_limit_last_wins", ("limit", "50"), ("limit", "2")),
        lst("list_repeated_user_id_last_wins", ("user_id", "nobody"), ("user_id", "alice@example.com")),
        lst("list_repeated_session_name_last_wins", ("session_name", "zzz"), ("session_name", "conversation")),
        lst("list_repeated_sort_order_last_invalid", ("sort_order", "asc"), ("sort_order", "bad")),
        lst("list_repeated_sort_by_last_wins", ("sort_by", "bogus"), ("sort_by", "session_id"), ("limit", "5")),
        lst("list_repeated_page_first_invalid", ("page", "x"), ("page", "2"), ("limit", "3")),
        lst("list_repeated_component_id", ("component_id", "support-agent"), ("component_id", "oracle-team")),
        lst(
            "list_repeated_table_last_wins", ("db_id", A), ("table", "nope"), ("table", "agno_sessions"), ("limit", "2")
        ),
    ]
    return c


# ========================================================================================================
# GET /sessions/{id} (docs/agentos.md §6)
# ========================================================================================================
SESSION_TYPE_NAMES = ("agent", "team", "workflow")
READ_SESSIONS = [
    ("agent-00", "agent"),
    ("agent-01", "agent"),
    ("agent-02", "agent"),
    ("agent-03", "agent"),
    ("agent-04", "agent"),
    ("agent-05", "agent"),
    ("agent-derived-input", "agent"),
    ("agent-no-runs-named", "agent"),
    ("agent-empty", "agent"),
    ("agent-epoch-zero", "agent"),
    ("agent-sql-null", "agent"),
    ("agent-summary-z", "agent"),
    ("agent-summary-offset", "agent"),
    ("team-00", "team"),
    ("team-01", "team"),
    ("team-02", "team"),
    ("team-03", "team"),
    ("team-empty", "team"),
    ("team-sql-null", "team"),
    ("workflow-00", "workflow"),
    ("workflow-01", "workflow"),
    ("workflow-02", "workflow"),
    ("workflow-03", "workflow"),
    ("workflow-04", "workflow"),
    ("workflow-05", "workflow"),
    ("live-agent-1", "agent"),
    ("live-team-1", "team"),
    ("live-workflow-1", "workflow"),
]


def get_cases() -> list[Case]:
    c: list[Case] = []
    for sid, t in READ_SESSIONS:
        c.append(get(f"get_{sid}_typed", f"/sessions/{sid}", ("type", t)))
        c.append(get(f"get_{sid}_autodetect", f"/sessions/{sid}"))
    # a `type` naming another type than the stored one: rendered as the requested type over the runs that
    # type's session class keeps
    for sid, stored in READ_SESSIONS:
        for wrong in SESSION_TYPE_NAMES:
            if wrong != stored:
                c.append(get(f"get_{sid}_as_{wrong}", f"/sessions/{sid}", ("type", wrong)))
    c += [
        get("get_bad_stored_summary", "/sessions/agent-bad-summary", divergence="bad-stored-summary"),
        get(
            "get_bad_stored_summary_typed",
            "/sessions/agent-bad-summary",
            ("type", "agent"),
            divergence="bad-stored-summary",
        ),
        get("get_unknown_typed_agent", "/sessions/does-not-exist", ("type", "agent")),
        get("get_unknown_typed_team", "/sessions/does-not-exist", ("type", "team")),
        get("get_unknown_typed_workflow", "/sessions/does-not-exist", ("type", "workflow")),
        get("get_unknown_autodetect", "/sessions/does-not-exist"),
        get("get_type_invalid", "/sessions/agent-00", ("type", "robot")),
        get("get_user_match", "/sessions/agent-00", ("user_id", "alice@example.com")),
        get("get_user_mismatch", "/sessions/agent-00", ("user_id", "bob@example.com")),
        get("get_user_mismatch_typed", "/sessions/agent-00", ("type", "team"), ("user_id", "bob@example.com")),
        get("get_user_empty_string", "/sessions/agent-00", ("user_id", "")),
        get("get_db_id_valid", "/sessions/team-01", ("db_id", A)),
        get("get_db_id_unknown", "/sessions/team-01", ("db_id", "nope")),
        get("get_table_without_db_id", "/sessions/team-01", ("table", "agno_sessions")),
        get("get_db_id_and_table_unknown", "/sessions/team-01", ("db_id", A), ("table", "nope")),
        get("get_db_id_empty", "/sessions/team-01", ("db_id", "")),
        get("get_table_empty", "/sessions/team-01", ("table", "")),
        get("get_db_id_and_table_empty", "/sessions/agent-01", ("db_id", ""), ("table", ""), ("type", "agent")),
        get("get_db_id_valid_table_empty", "/sessions/agent-01", ("db_id", A), ("table", "")),
        get("get_db_id_empty_table_given", "/sessions/agent-01", ("db_id", ""), ("table", "agno_sessions")),
        get("get_db_id_empty_unknown_session", "/sessions/does-not-exist", ("db_id", ""), ("table", "")),
        get("get_id_urlencoded_space", "/sessions/has%20space"),
        get("get_id_non_ascii", "/sessions/%C3%BCnicode-%F0%9F%9A%80"),
        get("get_repeated_type_last_wins", "/sessions/team-00", ("type", "agent"), ("type", "team")),
    ]
    return c


# ========================================================================================================
# runs, run previews, one run (docs/agentos.md §6)
# ========================================================================================================
RUN_SESSIONS = [
    ("agent-00", "agent"),
    ("agent-01", "agent"),
    ("agent-03", "agent"),
    ("agent-derived-input", "agent"),
    ("agent-sql-null", "agent"),
    ("team-00", "team"),
    ("team-01", "team"),
    ("team-02", "team"),
    ("team-03", "team"),
    ("workflow-00", "workflow"),
    ("workflow-01", "workflow"),
    ("live-agent-1", "agent"),
    ("live-team-1", "team"),
    ("live-workflow-1", "workflow"),
]


def run_cases() -> list[Case]:
    c: list[Case] = []
    r, p = "/sessions/{}/runs", "/sessions/{}/run-previews"
    for sid, t in RUN_SESSIONS:
        c.append(get(f"runs_{sid}_typed", r.format(sid), ("type", t)))
        c.append(get(f"runs_{sid}_autodetect", r.format(sid)))
    for sid, wrong in (
        ("agent-00", "team"),
        ("agent-00", "workflow"),
        ("team-00", "agent"),
        ("team-03", "workflow"),
        ("workflow-00", "team"),
        ("workflow-00", "agent"),
    ):
        c.append(get(f"runs_{sid}_as_{wrong}", r.format(sid), ("type", wrong)))
    c += [
        get("runs_session_without_runs", r.format("agent-empty"), ("type", "agent")),
        get("runs_workflow_without_runs", r.format("workflow-05")),
        get("runs_unknown_session", r.format("does-not-exist"), ("type", "agent")),
        get("runs_unknown_session_autodetect", r.format("does-not-exist")),
        get("runs_type_invalid", r.format("agent-00"), ("type", "robot")),
        get("runs_created_after", r.format("agent-00"), ("created_after", "1735733400")),
        get("runs_created_before", r.format("agent-00"), ("created_before", "1735733400")),
        get(
            "runs_created_window_inclusive",
            r.format("agent-00"),
            ("created_after", "1735733400"),
            ("created_before", "1735733400"),
        ),
        get("runs_created_after_everything", r.format("team-00"), ("created_after", "4102444800")),
        get("runs_created_after_negative", r.format("workflow-00"), ("created_after", "-5")),
        get("runs_created_after_not_int", r.format("agent-00"), ("created_after", "yesterday")),
        get("runs_created_before_float", r.format("agent-00"), ("created_before", "1.5")),
        get("runs_status_completed_lower", r.format("agent-00"), ("status", "completed")),
        get("runs_status_multi", r.format("agent-02"), ("status", "ERROR"), ("status", "paused")),
        get("runs_status_team", r.format("team-01"), ("status", "Completed")),
        get("runs_status_workflow", r.format("workflow-01"), ("status", "error")),
        get(
            "runs_status_with_window",
            r.format("agent-01"),
            ("status", "cancelled"),
            ("status", "error"),
            ("created_after", "1736164800"),
        ),
        get("runs_status_invalid", r.format("agent-00"), ("status", "bogus")),
        get(
            "runs_status_mixed_invalid",
            r.format("agent-00"),
            ("status", "completed"),
            ("status", "nope"),
            ("status", "Other"),
        ),
        get("runs_status_invalid_unknown_session", r.format("does-not-exist"), ("status", "bogus")),
        # error texts that list values: agno sorts them and lists each once
        get(
            "runs_status_invalid_listed_sorted_once",
            r.format("agent-00"),
            ("status", "zed"),
            ("status", "abc"),
            ("status", "Zed"),
            ("status", "completed"),
            ("status", "ABC"),
            ("status", "Mid"),
        ),
        get("runs_status_invalid_empty_listed_first", r.format("agent-00"), ("status", "b"), ("status", "")),
        get(
            "previews_status_invalid_listed_sorted",
            p.format("team-01"),
            ("status", "y"),
            ("status", "x"),
            ("status", "y"),
        ),
        get(
            "runs_status_invalid_non_ascii_upper",
            r.format("agent-00"),
            ("status", "straße"),
            ("status", "été"),
            ("status", "running"),
        ),
        get(
            "runs_errors_listed_in_param_order",
            r.format("agent-00"),
            ("created_before", "z"),
            ("status", "x"),
            ("type", "x"),
            ("created_after", "y"),
        ),
        get("run_errors_listed_in_param_order", "/sessions/agent-00/runs/x", ("user_id", "u"), ("type", "x")),
        get(
            "media_errors_listed_in_param_order",
            "/sessions/agent-00/media/x",
            ("redirect", "maybe"),
            ("type", "q"),
        ),
        get("runs_status_empty", r.format("agent-00"), ("status", "")),
        get(
            "runs_repeated_created_after", r.format("agent-00"), ("created_after", "x"), ("created_after", "1735733400")
        ),
        get("runs_repeated_user_id", r.format("agent-00"), ("user_id", "bob"), ("user_id", "alice@example.com")),
        get("runs_repeated_type", r.format("team-00"), ("type", "robot"), ("type", "agent")),
        get("run_repeated_db_id", "/sessions/agent-00/runs/agent-00-r1", ("db_id", "nope"), ("db_id", A)),
        get(
            "get_repeated_table_first_unknown",
            "/sessions/agent-00",
            ("db_id", A),
            ("table", "x"),
            ("table", "agno_sessions"),
        ),
        get(
            "get_repeated_table_last_unknown",
            "/sessions/agent-00",
            ("db_id", A),
            ("table", "agno_sessions"),
            ("table", "x"),
        ),
        get(
            "media_repeated_redirect",
            "/sessions/agent-00/media/k",
            ("redirect", "x"),
            ("redirect", "true"),
            allow_5xx=(503,),
        ),
        get("runs_user_match", r.format("agent-00"), ("user_id", "alice@example.com")),
        get("runs_user_mismatch", r.format("agent-00"), ("user_id", "bob@example.com")),
        get("runs_db_id_unknown", r.format("agent-00"), ("db_id", "nope")),
        get("runs_db_id_valid", r.format("agent-01"), ("db_id", A)),
        get("runs_table_without_db_id", r.format("agent-01"), ("table", "agno_sessions")),
        get("runs_db_id_empty", r.format("agent-01"), ("db_id", "")),
        get("runs_db_id_and_table_empty", r.format("team-01"), ("db_id", ""), ("table", ""), ("status", "error")),
        get("runs_db_id_valid_table_empty", r.format("agent-01"), ("db_id", A), ("table", "")),
        get("runs_db_id_empty_table_given", r.format("agent-01"), ("db_id", ""), ("table", "agno_sessions")),
        get("previews_db_id_and_table_empty", p.format("agent-01"), ("db_id", ""), ("table", "")),
        get("previews_db_id_empty_table_given", p.format("agent-01"), ("db_id", ""), ("table", "agno_memories")),
        get("run_db_id_and_table_empty", "/sessions/agent-00/runs/agent-00-r1", ("db_id", ""), ("table", "")),
        get("run_db_id_empty_table_given", "/sessions/agent-00/runs/agent-00-r1", ("db_id", ""), ("table", "x")),
        get(
            "media_db_id_and_table_empty",
            "/sessions/agent-00/media/k.png",
            ("db_id", ""),
            ("table", ""),
            allow_5xx=(503,),
        ),
    ]
    for sid in (
        "agent-01",
        "agent-derived-input",
        "agent-sql-null",
        "team-00",
        "team-01",
        "team-03",
        "workflow-02",
        "live-agent-1",
        "live-team-1",
        "live-workflow-1",
    ):
        c.append(get(f"previews_{sid}", p.format(sid)))
    c += [
        get("previews_typed_wrong", p.format("team-00"), ("type", "agent")),
        get("previews_status_filter", p.format("team-01"), ("status", "error"), ("status", "completed")),
        get("previews_created_before", p.format("agent-00"), ("created_before", "1735733400")),
        get("previews_status_invalid", p.format("team-01"), ("status", "x")),
        get("previews_unknown", p.format("does-not-exist")),
        get("previews_empty", p.format("agent-empty")),
        get("previews_user_mismatch", p.format("agent-01"), ("user_id", "alice@example.com")),
    ]
    one = "/sessions/{}/runs/{}"
    c += [
        get("run_agent_typed", one.format("agent-00", "agent-00-r1"), ("type", "agent")),
        get("run_agent_untyped", one.format("agent-00", "agent-00-r0")),
        get("run_agent_history", one.format("agent-01", "agent-01-r2")),
        get("run_agent_sdk_metadata", one.format("agent-02", "agent-02-r0")),
        get("run_agent_framework_metadata", one.format("agent-03", "agent-03-r0")),
        get("run_agent_structured_content", one.format("agent-derived-input", "agent-derived-input-r0")),
        get("run_agent_media_long_content", one.format("agent-derived-input", "agent-derived-input-r1")),
        get("run_agent_list_input", one.format("agent-derived-input", "agent-derived-input-r2")),
        get("run_agent_dict_input", one.format("agent-derived-input", "agent-derived-input-r3")),
        get("run_live_agent_with_tool", one.format("live-agent-1", "live-agent-1-r1")),
        get("run_team", one.format("team-00", "team-00-r1"), ("type", "team")),
        get("run_team_member_run", one.format("team-00", "team-00-r1-member"), ("type", "team")),
        get("run_team_without_messages", one.format("team-02", "team-02-r0")),
        get("run_team_stray_workflow_run", one.format("team-03", "team-03-wf-in-team")),
        get("run_live_team_delegating", one.format("live-team-1", "live-team-1-r1")),
        get("run_workflow", one.format("workflow-00", "workflow-00-r0"), ("type", "workflow")),
        get("run_workflow_dict_content", one.format("workflow-01", "workflow-01-r2")),
        get("run_live_workflow", one.format("live-workflow-1", "live-workflow-1-r0")),
        get("run_unknown_run", one.format("agent-00", "nope")),
        get("run_from_other_session", one.format("agent-00", "agent-01-r0")),
        get("run_unknown_session", one.format("does-not-exist", "agent-00-r0")),
        get("run_session_without_runs", one.format("agent-empty", "x")),
        get("run_wrong_type_ignored", one.format("agent-00", "agent-00-r1"), ("type", "workflow")),
        get("run_type_invalid", one.format("agent-00", "agent-00-r1"), ("type", "robot")),
        get("run_user_mismatch", one.format("agent-00", "agent-00-r1"), ("user_id", "bob@example.com")),
        get("run_db_id_unknown", one.format("agent-00", "agent-00-r1"), ("db_id", "nope")),
    ]
    return c


# ========================================================================================================
# second database, db_id routing, legacy layout (docs/agentos.md §3, §4)
# ========================================================================================================
def multi_cases() -> list[Case]:
    m: dict[str, Any] = {"instance": "multi"}
    c = [
        lst("multi_list_without_db_id_400", **m),
        lst("multi_list_db_a", ("db_id", A), ("limit", "3"), **m),
        lst("multi_list_db_b", ("db_id", B), **m),
        lst("multi_list_db_b_type_team", ("db_id", B), ("type", "team"), **m),
        lst("multi_list_db_unknown", ("db_id", "nope"), **m),
        lst("multi_list_table_without_db_id", ("table", "agno_sessions"), **m),
        lst("multi_list_type_invalid_without_db_id", ("type", "robot"), **m),
        get("multi_get_db_b_same_id_other_content", "/sessions/agent-00", ("db_id", B), **m),
        get("multi_get_db_a", "/sessions/agent-00", ("db_id", A), **m),
        get("multi_get_without_db_id_400", "/sessions/agent-00", **m),
        get("multi_get_only_in_a_from_b_404", "/sessions/live-agent-1", ("db_id", B), **m),
        get("multi_get_only_in_b", "/sessions/b-workflow-only", ("db_id", B), **m),
        get("multi_runs_db_b", "/sessions/b-team-only/runs", ("db_id", B), **m),
        get("multi_runs_without_db_id_400", "/sessions/b-team-only/runs", **m),
        get("multi_runs_bad_status_without_db_id", "/sessions/b-team-only/runs", ("status", "x"), **m),
        get("multi_previews_db_b", "/sessions/agent-00/run-previews", ("db_id", B), **m),
        get("multi_run_db_b", "/sessions/agent-00/runs/b-agent-00-r0", ("db_id", B), **m),
        get("multi_run_db_a_not_in_b", "/sessions/agent-00/runs/agent-00-r0", ("db_id", B), **m),
        lst("multi_list_db_id_empty_400", ("db_id", ""), **m),
        lst("multi_list_table_empty_400", ("table", ""), **m),
        lst("multi_list_db_id_and_table_empty_400", ("db_id", ""), ("table", ""), **m),
        lst("multi_list_db_b_table_empty", ("db_id", B), ("table", ""), **m),
        lst("multi_list_db_id_empty_table_given", ("db_id", ""), ("table", "agno_sessions"), **m),
        lst("multi_list_db_id_empty_type_invalid", ("db_id", ""), ("type", "robot"), **m),
        get("multi_get_db_id_empty_400", "/sessions/agent-00", ("db_id", ""), **m),
        get("multi_get_db_b_table_empty", "/sessions/agent-00", ("db_id", B), ("table", ""), **m),
        get("multi_get_db_id_and_table_empty_400", "/sessions/agent-00", ("db_id", ""), ("table", ""), **m),
        get("multi_runs_db_id_empty_400", "/sessions/b-team-only/runs", ("db_id", ""), **m),
        get("multi_runs_db_b_table_empty", "/sessions/b-team-only/runs", ("db_id", B), ("table", ""), **m),
        get("multi_previews_db_id_empty_400", "/sessions/agent-00/run-previews", ("db_id", ""), ("table", ""), **m),
        get("multi_run_db_id_empty_400", "/sessions/agent-00/runs/b-agent-00-r0", ("db_id", ""), **m),
        get("multi_run_db_b_table_empty", "/sessions/agent-00/runs/b-agent-00-r0", ("db_id", B), ("table", ""), **m),
        lst("multi_repeated_db_id_last_wins", ("db_id", "nope"), ("db_id", B), **m),
        lst("multi_repeated_db_id_last_unknown", ("db_id", B), ("db_id", "nope"), **m),
        get("multi_repeated_db_id_get", "/sessions/agent-00", ("db_id", A), ("db_id", B), **m),
        get("multi_media_db_id_empty", "/sessions/agent-00/media/k.png", ("db_id", ""), allow_5xx=(503,), **m),
    ]
    lg: dict[str, Any] = {"instance": "multi", "db": "legacy"}
    c += [
        lst("legacy_list", ("db_id", LEG), **lg),
        # `runs` is a column of the 2.x layout: ordered as jsonb (SQL NULL last ascending, first descending);
        # every seeded blob differs, so the order is compared exactly
        Case("legacy_list_sort_runs_asc", query=(("db_id", LEG), ("sort_by", "runs"), ("sort_order", "asc")), **lg),
        Case("legacy_list_sort_runs_desc", query=(("db_id", LEG), ("sort_by", "runs")), **lg),
        Case(
            "legacy_list_sort_runs_desc_page2",
            query=(("db_id", LEG), ("sort_by", "runs"), ("limit", "3"), ("page", "2")),
            **lg,
        ),
        Case(
            "legacy_list_sort_runs_asc_last_page",
            query=(("db_id", LEG), ("sort_by", "runs"), ("sort_order", "asc"), ("limit", "4"), ("page", "3")),
            **lg,
        ),
        Case(
            "legacy_list_sort_runs_agents_asc",
            query=(("db_id", LEG), ("sort_by", "runs"), ("sort_order", "asc"), ("type", "agent")),
            **lg,
        ),
        lst("legacy_list_type_team", ("db_id", LEG), ("type", "team"), **lg),
        lst("legacy_list_name_filter", ("db_id", LEG), ("session_name", "blob"), **lg),
    ]
    for sid in (
        "leg-agent-mixed",
        "leg-agent-only-blob",
        "leg-team",
        "leg-workflow",
        "leg-agent-string-blob",
        "leg-agent-junk",
        "leg-agent-empty-blob",
        "leg-agent-migrated",
    ):
        c.append(get(f"legacy_get_{sid}", f"/sessions/{sid}", ("db_id", LEG), **lg))
        c.append(get(f"legacy_runs_{sid}", f"/sessions/{sid}/runs", ("db_id", LEG), **lg))
    c += [
        get("legacy_get_team_as_agent", "/sessions/leg-team", ("db_id", LEG), ("type", "agent"), **lg),
        get("legacy_previews_mixed", "/sessions/leg-agent-mixed/run-previews", ("db_id", LEG), **lg),
        get("legacy_previews_team", "/sessions/leg-team/run-previews", ("db_id", LEG), **lg),
        get("legacy_runs_status_filter", "/sessions/leg-agent-mixed/runs", ("db_id", LEG), ("status", "error"), **lg),
        get("legacy_run_blob_only", "/sessions/leg-agent-mixed/runs/leg-agent-mixed-r0", ("db_id", LEG), **lg),
        get("legacy_run_table_wins", "/sessions/leg-agent-mixed/runs/leg-agent-mixed-r1", ("db_id", LEG), **lg),
        get("legacy_run_table_only", "/sessions/leg-agent-mixed/runs/leg-agent-mixed-r3", ("db_id", LEG), **lg),
        get(
            "legacy_run_string_blob",
            "/sessions/leg-agent-string-blob/runs/leg-agent-string-blob-r0",
            ("db_id", LEG),
            **lg,
        ),
        get("legacy_run_junk_dropped", "/sessions/leg-agent-junk/runs/leg-agent-junk-r0", ("db_id", LEG), **lg),
        get("legacy_run_workflow", "/sessions/leg-workflow/runs/leg-workflow-r1", ("db_id", LEG), **lg),
    ]
    return c


# ========================================================================================================
# agno 2.x database never migrated: no agno_runs table, runs only in the sessions' `runs` column
# ========================================================================================================
L2X_SESSIONS = [
    "old-agent",
    "old-agent-named",
    "old-team",
    "old-workflow",
    "old-string-blob",
    "old-junk-first",
    "old-junk-after",
    "old-empty-blob",
    "old-null-blob",
    "old-empty-string-blob",
    "old-null-named",
]
# AgentOS's run endpoints fail on a `runs` column it reads unparsed: a JSON string, or entries that are
# not objects (before the run asked for)
L2X_UNPARSABLE_RUNS = {"old-string-blob", "old-junk-first", "old-junk-after"}


def legacy_2x_read_cases() -> list[Case]:
    x: dict[str, Any] = {"instance": "legacy2x", "db": "legacy2x"}
    exact: dict[str, list[str] | None] = {}  # every seeded runs value differs: the order is compared exactly
    c = [
        lst("l2x_list", ("limit", "100"), **x),
        lst("l2x_list_type_agent", ("type", "agent"), ("limit", "100"), **x),
        lst("l2x_list_type_team", ("type", "team"), **x),
        lst("l2x_list_type_workflow", ("type", "workflow"), **x),
        lst("l2x_list_name_filter", ("session_name", "old"), **x),
        lst("l2x_list_page2", ("limit", "4"), ("page", "2"), **x),
        Case("l2x_list_sort_runs_asc", query=(("sort_by", "runs"), ("sort_order", "asc")), unordered=exact, **x),
        Case("l2x_list_sort_runs_desc", query=(("sort_by", "runs"),), unordered=exact, **x),
        Case(
            "l2x_list_sort_runs_desc_page3",
            query=(("sort_by", "runs"), ("limit", "5"), ("page", "3")),
            unordered=exact,
            **x,
        ),
        lst("l2x_list_db_id", ("db_id", DB_IDS["legacy2x"]), ("type", "team"), **x),
        lst("l2x_list_table_sessions", ("db_id", DB_IDS["legacy2x"]), ("table", "agno_sessions"), ("limit", "3"), **x),
        lst("l2x_list_table_not_created", ("db_id", DB_IDS["legacy2x"]), ("table", "agno_memories"), **x),
        lst("l2x_list_table_runs_404", ("db_id", DB_IDS["legacy2x"]), ("table", "agno_runs"), **x),
        lst("l2x_list_empty_db_params", ("db_id", ""), ("table", ""), ("type", "workflow"), **x),
    ]
    for sid in L2X_SESSIONS:
        c.append(get(f"l2x_get_{sid}", f"/sessions/{sid}", **x))
        for as_type in ("agent", "team", "workflow"):
            c.append(get(f"l2x_get_{sid}_as_{as_type}", f"/sessions/{sid}", ("type", as_type), **x))
        div: dict[str, Any] = {"divergence": "legacy-2x-unparsable-runs"} if sid in L2X_UNPARSABLE_RUNS else {}
        c.append(get(f"l2x_runs_{sid}", f"/sessions/{sid}/runs", **x, **div))
        c.append(get(f"l2x_previews_{sid}", f"/sessions/{sid}/run-previews", **x, **div))
    div = {"divergence": "legacy-2x-unparsable-runs"}
    c += [
        get("l2x_runs_team_as_agent", "/sessions/old-team/runs", ("type", "agent"), **x),
        get("l2x_runs_agent_as_workflow", "/sessions/old-agent/runs", ("type", "workflow"), **x),
        get("l2x_runs_status_filter", "/sessions/old-agent/runs", ("status", "error"), **x),
        get(
            "l2x_runs_created_after",
            "/sessions/old-agent/runs",
            ("created_after", str(1735732800 + 450 * 86400 + 10)),
            **x,
        ),
        get("l2x_run_agent", "/sessions/old-agent/runs/old-agent-r1", **x),
        get("l2x_run_member", "/sessions/old-team/runs/old-team-r0-member", **x),
        get("l2x_run_workflow", "/sessions/old-workflow/runs/old-workflow-r0", **x),
        get("l2x_get_null_first", "/sessions/old-mut-nullfirst-os", **x),
        get("l2x_get_null_first_as_workflow", "/sessions/old-mut-nullfirst-os", ("type", "workflow"), **x),
        get("l2x_runs_null_first", "/sessions/old-mut-nullfirst-os/runs", **x, **div),
        lst("l2x_list_null_first_named_from_its_run", ("session_name", "After a null"), **x),
        get("l2x_run_unknown", "/sessions/old-agent/runs/nope", **x),
        get("l2x_run_empty_blob", "/sessions/old-empty-blob/runs/x", **x),
        get("l2x_run_null_blob", "/sessions/old-null-blob/runs/x", **x),
        get("l2x_run_empty_string_blob", "/sessions/old-empty-string-blob/runs/x", **x),
        get("l2x_run_before_junk", "/sessions/old-junk-after/runs/old-junk-after-r0", **x),
        get("l2x_run_after_junk", "/sessions/old-junk-after/runs/old-junk-after-no-ids", **x, **div),
        get("l2x_run_junk_first", "/sessions/old-junk-first/runs/old-junk-first-r0", **x, **div),
        get(
            "l2x_run_string_blob",
            "/sessions/old-string-blob/runs/old-string-blob-r0",
            divergence="legacy-2x-string-blob-run",
            **x,
        ),
    ]
    return c


def legacy_2x_mutation_cases() -> list[Case]:
    x: dict[str, Any] = {"instance": "legacy2x", "db": "legacy2x"}
    s = "/sessions/{}"
    c: list[Case] = []
    c += mutation(
        Case(
            "l2x_create",
            "POST",
            "/sessions",
            body={"session_id": "new-2x{T}", "session_state": {"a": 1}, "session_name": "N"},
            **x,
        ),
        s.format("new-2x{T}"),
        rows=["new-2x{T}"],
    )
    c += mutation(
        Case(
            "l2x_create_team",
            "POST",
            "/sessions",
            (("type", "team"),),
            {"session_id": "new-2x-team{T}", "team_id": "t"},
            **x,
        ),
        s.format("new-2x-team{T}"),
        rows=["new-2x-team{T}"],
    )
    c += mutation(
        Case("l2x_create_workflow", "POST", "/sessions", (("type", "workflow"),), {"session_id": "new-2x-wf{T}"}, **x),
        s.format("new-2x-wf{T}"),
        rows=["new-2x-wf{T}"],
    )
    c.append(Case("l2x_create_conflict", "POST", "/sessions", body={"session_id": "old-agent"}, **x))
    c += mutation(
        Case(
            "l2x_rename", "POST", s.format("old-mut-rename{T}") + "/rename", body={"session_name": "Renamed 2.x"}, **x
        ),
        s.format("old-mut-rename{T}"),
        s.format("old-mut-rename{T}") + "/runs",
        rows=["old-mut-rename{T}"],
    )
    c += mutation(
        Case("l2x_rename_created", "POST", s.format("new-2x{T}") + "/rename", body={"session_name": "N2"}, **x),
        s.format("new-2x{T}"),
        rows=["new-2x{T}"],
    )
    c.append(
        Case(
            "l2x_rename_wrong_type_404",
            "POST",
            s.format("old-mut-rename{T}") + "/rename",
            (("type", "team"),),
            {"session_name": "x"},
            **x,
        )
    )
    c += mutation(
        Case(
            "l2x_patch",
            "PATCH",
            s.format("old-mut-patch{T}"),
            body={
                "session_name": "Patched 2.x",
                "session_state": {"p": 2},
                "metadata": {"k": "v", "agno_dispatch_depth": 1},
                "summary": {"summary": "S", "topics": ["t"]},
            },
            **x,
        ),
        s.format("old-mut-patch{T}"),
        s.format("old-mut-patch{T}") + "/run-previews",
        rows=["old-mut-patch{T}"],
    )
    c += mutation(
        Case(
            "l2x_patch_as_workflow",
            "PATCH",
            s.format("old-mut-type{T}"),
            (("type", "workflow"),),
            {"metadata": {"w": 1}},
            **x,
        ),
        s.format("old-mut-type{T}"),
        rows=["old-mut-type{T}"],
    )
    c += mutation(
        Case(
            "l2x_patch_as_team",
            "PATCH",
            s.format("old-mut-type{T}"),
            (("type", "team"),),
            {"session_state": {"t": 1}},
            **x,
        ),
        s.format("old-mut-type{T}"),
        rows=["old-mut-type{T}"],
    )
    c += mutation(
        Case("l2x_patch_created", "PATCH", s.format("new-2x-team{T}"), body={"session_name": "T2"}, **x),
        s.format("new-2x-team{T}"),
        rows=["new-2x-team{T}"],
    )
    c += mutation(
        Case("l2x_patch_null_first", "PATCH", s.format("old-mut-nullfirst{T}"), body={"session_state": {"n": 1}}, **x),
        s.format("old-mut-nullfirst{T}"),
        rows=["old-mut-nullfirst{T}"],
    )
    c += mutation(
        Case(
            "l2x_rename_null_first",
            "POST",
            s.format("old-mut-nullfirst{T}") + "/rename",
            body={"session_name": "Named after a null"},
            **x,
        ),
        s.format("old-mut-nullfirst{T}"),
        rows=["old-mut-nullfirst{T}"],
    )
    c.append(Case("l2x_patch_unknown_404", "PATCH", s.format("nope{T}"), body={"session_name": "x"}, **x))
    c += mutation(
        Case("l2x_delete", "DELETE", s.format("old-mut-del{T}"), **x),
        s.format("old-mut-del{T}"),
        rows=["old-mut-del{T}"],
    )
    c += mutation(
        Case("l2x_delete_user_mismatch", "DELETE", s.format("old-mut-bulk{T}"), (("user_id", "other"),), **x),
        s.format("old-mut-bulk{T}"),
        rows=["old-mut-bulk{T}"],
    )
    c += mutation(
        Case(
            "l2x_bulk_delete",
            "DELETE",
            "/sessions",
            body={"session_ids": ["old-mut-bulk{T}", "new-2x-wf{T}"], "session_types": ["agent", "workflow"]},
            **x,
        ),
        s.format("old-mut-bulk{T}"),
        s.format("new-2x-wf{T}"),
        rows=["old-mut-bulk{T}", "new-2x-wf{T}"],
    )
    c += [
        lst("l2x_after_list", ("limit", "100"), **x),
        Case(
            "l2x_after_sort_runs",
            query=(("sort_by", "runs"), ("sort_order", "asc"), ("type", "agent")),
            unordered={"data": None},
            **x,
        ),
    ]
    return c


# ========================================================================================================
# input AgentOS fails on (documented divergences) and their harmless neighbours
# ========================================================================================================
def bad_input_cases() -> list[Case]:
    e: dict[str, Any] = {"instance": "multi", "db": "edge"}
    deep_300 = '{"session_id": "edge-deep{T}", "session_state": {"a": ' + "[" * 300 + "]" * 300 + "}}"
    deep_2000 = '{"session_id": "edge-deeper{T}", "session_state": {"a": ' + "[" * 2000 + "]" * 2000 + "}}"
    c = [
        lst("nul_in_user_id", ("user_id", "a\x00b"), divergence="nul-characters"),
        lst("nul_in_session_name", ("session_name", "a\x00b"), divergence="nul-characters"),
        lst("nul_in_component_id", ("component_id", "x\x00"), divergence="nul-characters"),
        lst("nul_in_sort_by_is_just_unknown", ("sort_by", "a\x00"), ("type", "team")),
        lst("nul_in_type_is_422", ("type", "agent\x00")),
        get("nul_in_session_id_path", "/sessions/a%00b", divergence="nul-characters"),
        get("nul_in_session_id_path_runs", "/sessions/a%00b/runs", divergence="nul-characters"),
        Case(
            "nul_in_created_session_id",
            "POST",
            "/sessions",
            (),
            {"session_id": "nul\u0000{T}"},
            divergence="nul-characters",
        ),
    ]
    c += mutation(
        Case(
            "nul_in_created_state_stripped",
            "POST",
            "/sessions",
            (),
            {
                "session_id": "new-nul-state{T}",
                "session_name": "n\u0000ame",
                "session_state": {"a": "x\u0000y", "l": ["\u0000"]},
                "metadata": {"m": "\u0000"},
            },
        ),
        "/sessions/new-nul-state{T}",
        rows=["new-nul-state{T}"],
    )
    c += mutation(
        Case(
            "nul_in_patched_name_stripped",
            "PATCH",
            "/sessions/mut-agent-misc{T}",
            (),
            {
                "session_name": "a\u0000b",
                "metadata": {"n": "v\u0000"},
                "summary": {"summary": "s\u0000", "topics": ["t\u0000"]},
            },
        ),
        "/sessions/mut-agent-misc{T}",
        rows=["mut-agent-misc{T}"],
    )
    c += [
        Case(
            "nul_in_state_key_of_create",
            "POST",
            "/sessions",
            (),
            {"session_id": "new-nul-key{T}", "session_state": {"k\u0000": 1}},
            divergence="nul-characters",
        ),
        Case(
            "nul_in_metadata_key_of_patch",
            "PATCH",
            "/sessions/mut-agent-misc{T}",
            (),
            {"metadata": {"k\u0000": 1}},
            divergence="nul-characters",
        ),
        Case(
            "nul_in_user_id_of_create",
            "POST",
            "/sessions",
            (),
            {"session_id": "new-nul-user{T}", "user_id": "u\u0000"},
            divergence="nul-characters",
        ),
        Case(
            "infinite_number_in_patch",
            "PATCH",
            "/sessions/mut-agent-misc{T}",
            raw_body='{"session_state": {"x": 1e400}}',
            divergence="invalid-json-values",
        ),
        Case(
            "nan_in_patch",
            "PATCH",
            "/sessions/mut-agent-misc{T}",
            raw_body='{"session_state": {"x": NaN}}',
            divergence="invalid-json-values",
        ),
        Case(
            "nan_in_create",
            "POST",
            "/sessions",
            (("db_id", EDGE),),
            raw_body='{"session_id": "edge-nan{T}", "session_state": {"x": NaN}}',
            divergence="invalid-json-values",
            **e,
        ),
        Case(
            "infinity_in_create",
            "POST",
            "/sessions",
            (("db_id", EDGE),),
            raw_body='{"session_id": "edge-inf{T}", "metadata": {"x": -Infinity}}',
            divergence="invalid-json-values",
            **e,
        ),
        Case(
            "too_deep_json_in_create",
            "POST",
            "/sessions",
            (("db_id", EDGE),),
            raw_body=deep_300,
            divergence="json-too-deep",
            **e,
        ),
        Case("far_too_deep_json_in_create", "POST", "/sessions", (("db_id", EDGE),), raw_body=deep_2000, **e),
        get("multimodal_name_get", "/sessions/edge-multimodal", ("db_id", EDGE), divergence="non-string-name", **e),
        lst("multimodal_name_list", ("db_id", EDGE), divergence="non-string-name-list", **e),
        get("multimodal_as_team_has_empty_name", "/sessions/edge-multimodal", ("db_id", EDGE), ("type", "team"), **e),
        get("multimodal_runs", "/sessions/edge-multimodal/runs", ("db_id", EDGE), **e),
        get("multimodal_previews", "/sessions/edge-multimodal/run-previews", ("db_id", EDGE), **e),
        get("multimodal_run", "/sessions/edge-multimodal/runs/edge-multimodal-r0", ("db_id", EDGE), **e),
        get("edge_ok_get", "/sessions/edge-ok", ("db_id", EDGE), **e),
        # integers past Python's 4,300-digit bound: pydantic's `int_parsing_size`, FastAPI's 400 for the body
        lst("huge_integer_limit", ("limit", "1" * 4301)),
        lst("huge_negative_integer_page", ("page", "-" + "9" * 4400)),
        lst("long_leading_zeros_page", ("page", "0" * 5000 + "1")),
        Case(
            "huge_integer_in_create",
            "POST",
            "/sessions",
            (),
            raw_body='{"session_id": "new-huge-int{T}", "session_state": {"x": ' + "9" * 4301 + "}}",
        ),
        lst("session_name_at_length_cap", ("session_name", "n" * 256)),
        lst("session_name_over_length_cap", ("session_name", "n" * 257), divergence="session-name-length"),
    ]
    return c


# ========================================================================================================
# strings that are not Unicode: an escaped unpaired surrogate in a body, non-UTF-8 percent-escapes
# ========================================================================================================
SURROGATE = "%ED%A0%80"  # the UTF-8-like bytes of U+D800: both decode them as U+FFFD


def unicode_cases() -> list[Case]:
    e: dict[str, Any] = {"instance": "multi", "db": "edge"}
    sm = "/sessions/mut-agent-misc{T}"
    div: dict[str, Any] = {"divergence": "invalid-unicode-field"}
    name_div: dict[str, Any] = {"divergence": "invalid-unicode"}

    def nothing_written(name: str, *paths: str, rows: Sequence[str] = (), db: str = "a", **kw: Any) -> Case:
        # the twins read back and their rows compared as any mutation (no divergence): nothing was written
        return Case(f"{name}__readback", kind="readback", readback=paths, source=name, db_rows=tuple(rows), db=db, **kw)

    c = [
        Case(
            "unicode_surrogate_in_created_name",
            "POST",
            "/sessions",
            raw_body='{"session_id": "new-uni-name{T}", "session_name": "a\\ud800"}',
            **name_div,
        ),
        nothing_written("unicode_surrogate_in_created_name", "/sessions/new-uni-name{T}"),
        Case(
            "unicode_surrogate_in_created_state_key",
            "POST",
            "/sessions",
            raw_body='{"session_id": "new-uni-key{T}", "session_state": {"k\\udc00": 1}}',
            **div,
        ),
        nothing_written("unicode_surrogate_in_created_state_key", "/sessions/new-uni-key{T}"),
        Case(
            "unicode_surrogate_in_created_metadata_list",
            "POST",
            "/sessions",
            raw_body='{"session_id": "new-uni-meta{T}", "metadata": {"k": ["x\\udfff"]}}',
            **div,
        ),
        Case(
            "unicode_surrogate_in_created_user_id",
            "POST",
            "/sessions",
            (("type", "team"),),
            raw_body='{"session_id": "new-uni-user{T}", "user_id": "\\ud800\\ud800"}',
            **div,
        ),
        Case(
            "unicode_surrogate_in_created_session_id",
            "POST",
            "/sessions",
            raw_body='{"session_id": "new-uni-id\\udbff{T}"}',
            **div,
        ),
        Case(
            "unicode_surrogate_pair_is_fine",
            "POST",
            "/sessions",
            raw_body='{"session_id": "new-uni-pair{T}", "session_name": "\\ud83d\\ude80 ok"}',
        ),
        nothing_written("unicode_surrogate_pair_is_fine", "/sessions/new-uni-pair{T}", rows=["new-uni-pair{T}"]),
        Case(
            "unicode_surrogate_in_unused_field_ignored",
            "POST",
            "/sessions",
            raw_body='{"session_id": "new-uni-unused{T}", "not_a_field": "\\ud800"}',
        ),
        Case("unicode_surrogate_in_patch_name", "PATCH", sm, raw_body='{"session_name": "a\\ud800"}', **name_div),
        Case(
            "unicode_surrogate_in_patch_state",
            "PATCH",
            sm,
            raw_body='{"session_state": {"deep": [{"x": "\\udc00"}]}}',
            **div,
        ),
        Case(
            "unicode_surrogate_in_patch_summary",
            "PATCH",
            sm,
            raw_body='{"summary": {"summary": "s", "topics": ["\\ud800"]}}',
            **div,
        ),
        Case("unicode_surrogate_in_rename", "POST", sm + "/rename", raw_body='{"session_name": "\\ud800"}', **name_div),
        nothing_written("unicode_surrogate_in_rename", sm, rows=["mut-agent-misc{T}"]),
        Case(
            "unicode_surrogate_in_bulk_delete_ids",
            "DELETE",
            "/sessions",
            raw_body='{"session_ids": ["mut-agent-misc{T}\\ud800"], "session_types": ["agent"]}',
            **div,
        ),
        # a string pydantic accepts is no error of AgentOS's 422: the other errors are answered alone
        Case(
            "unicode_surrogate_beside_a_type_error",
            "POST",
            "/sessions",
            raw_body='{"session_id": 1, "session_name": "\\ud800", "metadata": {"\\udc00": 1}}',
        ),
        Case(
            "unicode_surrogate_echoed_enum",
            "DELETE",
            "/sessions",
            raw_body='{"session_ids": ["a{T}"], "session_types": ["\\ud800"]}',
            divergence="invalid-unicode-echo",
        ),
        Case(
            "unicode_surrogate_echoed_dict_type",
            "PATCH",
            sm,
            raw_body='{"session_state": "x\\ud800"}',
            divergence="invalid-unicode-echo",
        ),
        Case(
            "unicode_surrogate_echoed_body",
            "POST",
            "/sessions",
            raw_body='"\\ud800"',
            divergence="invalid-unicode-echo",
        ),
        Case(
            "unicode_surrogate_echoed_name_list",
            "POST",
            sm + "/rename",
            raw_body='{"session_name": ["\\udfff"]}',
            divergence="invalid-unicode-echo",
        ),
        Case(
            "unicode_raw_surrogate_bytes_in_body",
            "POST",
            "/sessions",
            (("db_id", EDGE),),
            raw_body=b'{"session_id": "edge-raw-surrogate", "session_name": "a\xed\xa0\x80"}',
            divergence="invalid-utf8-body",
            **e,
        ),
        Case(
            "unicode_invalid_utf8_body",
            "POST",
            "/sessions",
            (("db_id", EDGE),),
            raw_body=b'{"session_id": "edge-raw-ff", "session_name": "a\xff"}',
            **e,
        ),
        Case("unicode_query_value_list", "GET", f"/sessions?user_id={SURROGATE}", unordered=list_ties(())),
        Case("unicode_query_value_name", "GET", f"/sessions?session_name=x{SURROGATE}", unordered=list_ties(())),
        Case(
            "unicode_query_value_sort_by", "GET", f"/sessions?sort_by={SURROGATE}&type=team", unordered={"data": None}
        ),
        Case("unicode_query_value_type", "GET", f"/sessions?type={SURROGATE}"),
        Case("unicode_query_value_get", "GET", f"/sessions/agent-00?user_id={SURROGATE}"),
        Case("unicode_query_value_db_id", "GET", f"/sessions/agent-00?db_id={SURROGATE}"),
        Case("unicode_query_value_status", "GET", f"/sessions/agent-00/runs?status={SURROGATE}"),
        get("unicode_path_get", f"/sessions/{SURROGATE}"),
        get("unicode_path_get_suffix", f"/sessions/x{SURROGATE}y", ("type", "team")),
        get("unicode_path_runs", f"/sessions/{SURROGATE}/runs"),
        get("unicode_path_previews", f"/sessions/{SURROGATE}/run-previews"),
        get("unicode_path_run_id", f"/sessions/agent-00/runs/{SURROGATE}"),
        get("unicode_path_overlong", "/sessions/%C0%AF"),
        get("unicode_path_lone_continuation", "/sessions/%80x"),
        Case("unicode_path_rename", "POST", f"/sessions/{SURROGATE}/rename", body={"session_name": "x"}),
        Case("unicode_path_patch", "PATCH", f"/sessions/{SURROGATE}", body={"session_name": "x"}),
        Case("unicode_path_delete", "DELETE", f"/sessions/{SURROGATE}"),
    ]
    return c


# ========================================================================================================
# empty `db_id=` / `table=`: agno tests them for truth, so empty is the same as absent (writes)
# ========================================================================================================
def empty_db_param_cases() -> list[Case]:
    s = "/sessions/{}"
    empty = (("db_id", ""), ("table", ""))
    c: list[Case] = []
    # single database: empty means the only database
    c += mutation(
        Case(
            "empty_db_id_create",
            "POST",
            "/sessions",
            (("db_id", ""),),
            {"session_id": "new-edb{T}", "session_name": "Before"},
        ),
        s.format("new-edb{T}"),
        rows=["new-edb{T}"],
    )
    c += mutation(
        Case("empty_db_id_rename", "POST", s.format("new-edb{T}") + "/rename", empty, {"session_name": "E"}),
        s.format("new-edb{T}"),
        rows=["new-edb{T}"],
    )
    c += mutation(
        Case(
            "empty_db_id_patch",
            "PATCH",
            s.format("new-edb{T}"),
            (("db_id", ""), ("table", ""), ("type", "agent")),
            {"session_state": {"e": 1}, "metadata": {"m": "e"}},
        ),
        s.format("new-edb{T}"),
        rows=["new-edb{T}"],
    )
    c += [
        Case("empty_db_id_table_given_patch_400", "PATCH", s.format("new-edb{T}"), (("table", "x"),), {}),
        Case(
            "empty_db_id_table_given_rename_400",
            "POST",
            s.format("new-edb{T}") + "/rename",
            (("db_id", ""), ("table", "agno_sessions")),
            {"session_name": "never"},
        ),
        Case("empty_db_id_table_given_delete_400", "DELETE", s.format("new-edb{T}"), (("db_id", ""), ("table", "t"))),
    ]
    c += mutation(
        Case("empty_db_id_delete", "DELETE", s.format("new-edb{T}"), empty),
        s.format("new-edb{T}"),
        rows=["new-edb{T}"],
    )
    c += mutation(
        Case(
            "empty_db_id_create_2",
            "POST",
            "/sessions",
            (("db_id", ""), ("type", "team")),
            {"session_id": "new-edb2{T}"},
        ),
        s.format("new-edb2{T}"),
    )
    c += mutation(
        Case(
            "empty_db_id_bulk_delete",
            "DELETE",
            "/sessions",
            empty,
            {"session_ids": ["new-edb2{T}"], "session_types": ["team"]},
        ),
        s.format("new-edb2{T}"),
        rows=["new-edb2{T}"],
    )
    # several databases: an empty db_id is a missing one (400, nothing written), an empty table is no table
    m: dict[str, Any] = {"instance": "multi", "db": "b"}
    qb = (("db_id", B),)
    c += [
        Case("multi_empty_db_id_create_400", "POST", "/sessions", (("db_id", ""),), {"session_id": "new-e{T}"}, **m),
        Case("multi_empty_db_id_rename_400", "POST", "/sessions/agent-00/rename", empty, {"session_name": "x"}, **m),
        Case(
            "multi_empty_db_id_patch_400", "PATCH", "/sessions/agent-00", (("db_id", ""),), {"session_name": "x"}, **m
        ),
        Case("multi_empty_db_id_delete_400", "DELETE", "/sessions/agent-00", (("db_id", ""),), **m),
        Case(
            "multi_empty_db_id_bulk_delete_400",
            "DELETE",
            "/sessions",
            empty,
            {"session_ids": ["agent-00"], "session_types": ["agent"]},
            **m,
        ),
        get("multi_empty_db_id_nothing_deleted", "/sessions/agent-00", ("db_id", B), **m),
    ]
    c += mutation(
        Case(
            "multi_empty_table_create",
            "POST",
            "/sessions",
            (("db_id", B), ("table", "")),
            {"session_id": "new-edb-b{T}", "session_name": "Before B"},
            **m,
        ),
        s.format("new-edb-b{T}"),
        rows=["new-edb-b{T}"],
        query=qb,
    )
    c += mutation(
        Case(
            "multi_empty_table_rename",
            "POST",
            s.format("new-edb-b{T}") + "/rename",
            (("db_id", B), ("table", "")),
            {"session_name": "EB"},
            **m,
        ),
        s.format("new-edb-b{T}"),
        rows=["new-edb-b{T}"],
        query=qb,
    )
    c += mutation(
        Case(
            "multi_empty_table_patch",
            "PATCH",
            s.format("new-edb-b{T}"),
            (("db_id", B), ("table", "")),
            {"session_state": {"b": 2}},
            **m,
        ),
        s.format("new-edb-b{T}"),
        rows=["new-edb-b{T}"],
        query=qb,
    )
    c += mutation(
        Case(
            "multi_empty_table_bulk_delete",
            "DELETE",
            "/sessions",
            (("db_id", B), ("table", "")),
            {"session_ids": ["new-edb-b{T}"], "session_types": ["agent"]},
            **m,
        ),
        s.format("new-edb-b{T}"),
        rows=["new-edb-b{T}"],
        query=qb,
    )
    c.append(Case("multi_empty_table_delete", "DELETE", s.format("new-edb-b{T}"), (("db_id", B), ("table", "")), **m))
    return c


# ========================================================================================================
# writes through trailing slashes and percent-encoded paths, repeated parameters on writes
# ========================================================================================================
def path_form_mutation_cases() -> list[Case]:
    c: list[Case] = []
    one = "/sessions/new-slash5{T}"
    c += mutation(
        Case("slash_create_trailing", "POST", "/sessions//", body={"session_id": "new-slash5{T}", "session_name": "S"}),
        one,
        rows=["new-slash5{T}"],
    )
    c += mutation(
        Case("slash_rename_encoded", "POST", "/sessions/new-slash5{T}%2Frename%2F", body={"session_name": "S2"}),
        one,
        rows=["new-slash5{T}"],
    )
    c += mutation(
        Case("slash_patch_trailing", "PATCH", "/sessions/new-slash5{T}//", body={"session_state": {"s": 1}}),
        one,
        rows=["new-slash5{T}"],
    )
    c += mutation(
        Case(
            "slash_patch_repeated_type",
            "PATCH",
            "/%73essions/new-slash5{T}",
            (("type", "robot"), ("type", "agent"), ("db_id", "nope"), ("db_id", A)),
            {"metadata": {"r": 1}},
        ),
        one,
        rows=["new-slash5{T}"],
    )
    c += [
        Case("slash_delete_media_last_false", "DELETE", one + "/", (("delete_media", "true"), ("delete_media", "0"))),
        Case(
            "slash_delete_media_last_true",
            "DELETE",
            "/sessions/never-existed{T}",
            (("delete_media", "false"), ("delete_media", "true")),
            allow_5xx=(503,),
        ),
    ]
    c += mutation(
        Case("slash_create_again", "POST", "/sessions/", body={"session_id": "new-slash6{T}"}),
        "/sessions/new-slash6{T}",
    )
    c += mutation(
        Case(
            "slash_bulk_delete_trailing",
            "DELETE",
            "/sessions%2F",
            (("table", "x"), ("table", ""), ("db_id", A)),
            {"session_ids": ["new-slash5{T}", "new-slash6{T}"], "session_types": ["agent", "agent"]},
        ),
        one,
        "/sessions/new-slash6{T}",
        rows=["new-slash5{T}", "new-slash6{T}"],
    )
    return c


# ========================================================================================================
# PATCH with a `type` other than the stored one: loaded and written as the requested type, answered as
# the stored type over the runs the requested type's session class kept (a workflow keeps no agent runs)
# ========================================================================================================
def type_override_mutation_cases() -> list[Case]:
    s = "/sessions/{}"
    c: list[Case] = []
    for sid, other in (
        ("mut-type-agent{T}", "workflow"),
        ("mut-type-agent{T}", "team"),
        ("mut-type-team{T}", "workflow"),
        ("mut-type-team{T}", "agent"),
        ("mut-type-wf{T}", "agent"),
        ("mut-type-wf{T}", "team"),
    ):
        name = f"patch_{sid.replace('{T}', '').replace('mut-type-', '')}_as_{other}"
        c += mutation(
            Case(name, "PATCH", s.format(sid), (("type", other),), {"metadata": {"as": other}}),
            s.format(sid),
            s.format(sid) + "/runs",
            rows=[sid],
        )
        c.append(get(f"{name}_then_get_as_{other}", s.format(sid.replace("{T}", "-os")), ("type", other)))
    c.append(
        Case("patch_type_override_unknown_404", "PATCH", s.format("nope{T}"), (("type", "workflow"),), {"metadata": {}})
    )
    return c


# ========================================================================================================
# auth (docs/security.md): OS_SECURITY_KEY set on both services
# ========================================================================================================
def auth_cases() -> list[Case]:
    a: dict[str, Any] = {"instance": "auth"}
    return [
        # the open paths as AgentOS routes them: decoded, trailing slashes stripped; `//` is no open path
        get("auth_double_slash_root_401", "//", **a),
        get("auth_encoded_slash_root_401", "/%2F", **a),
        get("auth_health_many_slashes_open", "/health//", ignore=("instantiated_at",), **a),
        get("auth_health_encoded_open", "/%68ealth", ignore=("instantiated_at",), **a),
        get("auth_encoded_sessions_401", "/sessions%2F", **a),
        lst("auth_list_no_header_401", **a),
        lst("auth_list_wrong_token_401", headers={"Authorization": "Bearer wrong"}, **a),
        lst("auth_list_ok", ("limit", "5"), headers=AUTH, **a),
        lst("auth_list_scheme_less_token", ("limit", "2"), headers={"Authorization": SECURITY_KEY}, **a),
        lst("auth_list_lowercase_bearer", ("limit", "2"), headers={"Authorization": f"bearer {SECURITY_KEY}"}, **a),
        lst(
            "auth_list_bearer_extra_spaces",
            ("limit", "2"),
            headers={"Authorization": f"Bearer   {SECURITY_KEY}  "},
            **a,
        ),
        lst("auth_list_basic_scheme_401", headers={"Authorization": f"Basic {SECURITY_KEY}"}, **a),
        lst("auth_list_empty_header_401", headers={"Authorization": ""}, **a),
        lst("auth_list_bearer_nothing_401", headers={"Authorization": "Bearer "}, **a),
        lst("auth_validation_error_without_key_401", ("limit", "0"), **a),
        lst("auth_validation_error_with_key_422", ("limit", "0"), headers=AUTH, **a),
        get("auth_unknown_path_401", "/sessionz", **a),
        get("auth_unknown_path_with_key_404", "/sessionz", headers=AUTH, **a),
        get("auth_get_session_ok", "/sessions/agent-01", headers=AUTH, **a),
        get("auth_get_session_401", "/sessions/agent-01", **a),
        get("auth_runs_ok", "/sessions/team-00/runs", headers=AUTH, **a),
        get("auth_run_ok", "/sessions/team-00/runs/team-00-r0", headers=AUTH, **a),
        Case("auth_delete_401", "DELETE", "/sessions/agent-01", **a),
        Case("auth_create_401", "POST", "/sessions", body={"session_id": "never-created"}, **a),
        Case("auth_put_405_vs_401", "PUT", "/sessions", body={}, **a),
        get("auth_health_open", "/health", ignore=("instantiated_at",), **a),
        get("auth_home_open", "/", **a),
        get("auth_media_503", "/sessions/agent-00/media/k", headers=AUTH, **a, allow_5xx=(503,)),
        lst("auth_limit_over_page_size_cap", ("limit", "1001"), headers=AUTH, divergence="limit-cap", **a),
        lst("auth_limit_at_page_size_cap", ("limit", "1000"), headers=AUTH, **a),
    ]


# ========================================================================================================
# POST /sessions (docs/agentos.md §5)
# ========================================================================================================
def create_cases() -> list[Case]:
    s = "/sessions/{}"
    full = {
        "session_id": "new-agent-full{T}",
        "session_name": "Created via API ✓",
        "user_id": "zoe@example.com",
        "session_state": {"a": 1, "nested": {"b": [1, 2]}, "none": None},
        "agent_id": "support-agent",
        "metadata": {"source": "contract", "n": 1, "agno_component_version": 3, "ünï": "😀"},
    }
    rows: list[Case] = []
    rows += mutation(
        Case("create_agent_full", "POST", "/sessions", (("type", "agent"),), full),
        s.format("new-agent-full{T}"),
        rows=["new-agent-full{T}"],
    )
    rows += [
        Case("create_duplicate_409", "POST", "/sessions", (("type", "agent"),), full),
        Case(
            "create_duplicate_other_type_409",
            "POST",
            "/sessions",
            (("type", "team"),),
            {"session_id": "new-agent-full{T}"},
        ),
        Case("create_duplicate_seeded_409", "POST", "/sessions", (), {"session_id": "mut-agent-misc{T}"}),
    ]
    rows += mutation(
        Case(
            "create_team",
            "POST",
            "/sessions",
            (("type", "team"),),
            {
                "session_id": "new-team{T}",
                "session_name": "Team via API",
                "team_id": "oracle-team",
                "user_id": "zoe@example.com",
                "session_state": {"topic": "x"},
            },
        ),
        s.format("new-team{T}"),
        rows=["new-team{T}"],
    )
    rows += mutation(
        Case(
            "create_workflow",
            "POST",
            "/sessions",
            (("type", "workflow"),),
            {"session_id": "new-wf{T}", "workflow_id": "oracle-workflow", "metadata": {"k": "v"}},
        ),
        s.format("new-wf{T}"),
        s.format("new-wf{T}") + "/runs",
        rows=["new-wf{T}"],
    )
    rows += mutation(
        Case(
            "create_workflow_named",
            "POST",
            "/sessions",
            (("type", "workflow"),),
            {"session_id": "new-wf-named{T}", "session_name": "WF named", "session_state": {"s": [1]}},
        ),
        s.format("new-wf-named{T}"),
        rows=["new-wf-named{T}"],
    )
    rows += mutation(
        Case("create_default_type_minimal", "POST", "/sessions", (), {"session_id": "new-min{T}"}),
        s.format("new-min{T}"),
        rows=["new-min{T}"],
    )
    rows += mutation(
        Case(
            "create_empty_object_random_id",
            "POST",
            "/sessions",
            (("type", "agent"),),
            {},
            formats={**NOW_FORMATS, "session_id": "uuid4", "agent_session_id": "uuid4"},
            generates_id=True,
        ),
        s.format("{ID}"),
        rows=["{ID}"],
    )
    rows += mutation(
        Case(
            "create_no_body_random_id",
            "POST",
            "/sessions",
            (("type", "team"),),
            formats={**NOW_FORMATS, "session_id": "uuid4"},
            generates_id=True,
        ),
        s.format("{ID}"),
        rows=["{ID}"],
    )
    rows += mutation(
        Case(
            "create_empty_session_id_random_id",
            "POST",
            "/sessions",
            (("type", "workflow"),),
            {"session_id": "", "session_name": "empty id"},
            formats={**NOW_FORMATS, "session_id": "uuid4"},
            generates_id=True,
        ),
        s.format("{ID}"),
        rows=["{ID}"],
    )
    rows += mutation(
        Case(
            "create_no_content_type_no_body",
            "POST",
            "/sessions",
            (("type", "agent"),),
            raw_body="",
            content_type="text/plain",
            formats={**NOW_FORMATS, "session_id": "uuid4", "agent_session_id": "uuid4"},
            generates_id=True,
        ),
        s.format("{ID}"),
    )
    rows += mutation(
        Case(
            "create_reserved_metadata_stripped",
            "POST",
            "/sessions",
            (("type", "agent"),),
            {
                "session_id": "new-reserved{T}",
                "metadata": {
                    "agno_component_version": "7",
                    "agno_dispatch_chain": ["a"],
                    "agno_dispatch_depth": 2,
                    "keep": True,
                },
            },
        ),
        s.format("new-reserved{T}"),
        rows=["new-reserved{T}"],
    )
    rows += mutation(
        Case(
            "create_only_reserved_metadata_becomes_null",
            "POST",
            "/sessions",
            (("type", "team"),),
            {"session_id": "new-reserved-only{T}", "metadata": {"agno_dispatch_depth": 1}},
        ),
        s.format("new-reserved-only{T}"),
        rows=["new-reserved-only{T}"],
    )
    rows += mutation(
        Case(
            "create_agno_prefixed_metadata_kept",
            "POST",
            "/sessions",
            (("type", "agent"),),
            {"session_id": "new-agno-meta{T}", "metadata": {"agno_version": "x", "keep": 1, "__agno": {"a": 1}}},
        ),
        s.format("new-agno-meta{T}"),
        rows=["new-agno-meta{T}"],
    )
    rows += mutation(
        Case(
            "create_empty_metadata_and_state",
            "POST",
            "/sessions",
            (("type", "agent"),),
            {"session_id": "new-empty-objs{T}", "metadata": {}, "session_state": {}},
        ),
        s.format("new-empty-objs{T}"),
        rows=["new-empty-objs{T}"],
    )
    rows += mutation(
        Case(
            "create_unknown_fields_ignored",
            "POST",
            "/sessions",
            (("type", "agent"),),
            {"session_id": "new-extra{T}", "bogus_field": 1, "created_at": 5, "session_type": "team"},
        ),
        s.format("new-extra{T}"),
        rows=["new-extra{T}"],
    )
    rows += mutation(
        Case(
            "create_agent_with_other_ids_ignored",
            "POST",
            "/sessions",
            (("type", "agent"),),
            {"session_id": "new-agent-teamid{T}", "team_id": "oracle-team", "workflow_id": "w"},
        ),
        s.format("new-agent-teamid{T}"),
        rows=["new-agent-teamid{T}"],
    )
    rows += mutation(
        Case(
            "create_unicode",
            "POST",
            "/sessions",
            (("type", "team"),),
            {
                "session_id": "new-unicode-ü{T}",
                "session_name": 'Ünïcødé 🚀 "quoted" <b>',
                "session_state": {"emoji": "😀", "tab": "a\tb"},
                "user_id": "ü@example.com",
            },
        ),
        "/sessions/new-unicode-%C3%BC{T}",
        rows=["new-unicode-ü{T}"],
    )
    rows += mutation(
        Case(
            "create_db_id_valid",
            "POST",
            "/sessions",
            (("db_id", A),),
            {"session_id": "new-dbid{T}", "session_name": "with db_id"},
        ),
        s.format("new-dbid{T}"),
        rows=["new-dbid{T}"],
    )
    rows += [
        Case("create_type_invalid", "POST", "/sessions", (("type", "robot"),), {"session_id": "never{T}"}),
        Case("create_bad_json", "POST", "/sessions", (("type", "agent"),), raw_body='{"session_id": "x",'),
        Case("create_bad_json_truncated_string", "POST", "/sessions", (), raw_body='{"session_id": "x'),
        Case("create_body_array", "POST", "/sessions", (("type", "agent"),), ["a", "b"]),
        Case("create_body_null", "POST", "/sessions", (("type", "agent"),), raw_body="null"),
        Case("create_body_string", "POST", "/sessions", (), "just a string"),
        Case(
            "create_wrong_field_types",
            "POST",
            "/sessions",
            (("type", "agent"),),
            {"session_id": 123, "session_state": "notadict", "metadata": [1]},
        ),
        Case("create_session_state_array", "POST", "/sessions", (("type", "agent"),), {"session_state": [1, 2]}),
        Case("create_name_not_string", "POST", "/sessions", (), {"session_name": 5}),
        Case(
            "create_text_plain_body",
            "POST",
            "/sessions",
            (("type", "agent"),),
            raw_body='{"session_id": "never-text{T}"}',
            content_type="text/plain",
        ),
        Case(
            "create_form_body",
            "POST",
            "/sessions",
            (),
            raw_body="session_id=never-form",
            content_type="application/x-www-form-urlencoded",
        ),
        Case("create_db_id_unknown", "POST", "/sessions", (("db_id", "nope"),), {"session_id": "never2{T}"}),
        Case(
            "create_table_param_ignored",
            "POST",
            "/sessions",
            (("table", "nope"),),
            {"session_id": "new-table-param{T}"},
        ),
    ]
    return rows


# ========================================================================================================
# POST /sessions/{id}/rename (docs/agentos.md §7)
# ========================================================================================================
def rename_cases() -> list[Case]:
    s, rn = "/sessions/{}", "/sessions/{}/rename"
    c: list[Case] = []
    c += mutation(
        Case("rename_agent", "POST", rn.format("mut-agent-rename{T}"), (), {"session_name": "Renamed agent ✓"}),
        s.format("mut-agent-rename{T}"),
        rows=["mut-agent-rename{T}"],
    )
    c += mutation(
        Case(
            "rename_team_typed",
            "POST",
            rn.format("mut-team-rename{T}"),
            (("type", "team"),),
            {"session_name": "Renamed team"},
        ),
        s.format("mut-team-rename{T}"),
        rows=["mut-team-rename{T}"],
    )
    c += mutation(
        Case("rename_workflow", "POST", rn.format("mut-wf-rename{T}"), (), {"session_name": "Renamed workflow"}),
        s.format("mut-wf-rename{T}"),
        rows=["mut-wf-rename{T}"],
    )
    c += mutation(
        Case(
            "rename_agent_again_unicode_and_nul",
            "POST",
            rn.format("mut-agent-rename{T}"),
            (("type", "agent"), ("user_id", "mut@example.com")),
            {"session_name": "Nul\u0000byte 🚀 ünï"},
        ),
        s.format("mut-agent-rename{T}"),
        rows=["mut-agent-rename{T}"],
    )
    c += mutation(
        Case("rename_empty_string", "POST", rn.format("mut-team-rename{T}"), (), {"session_name": ""}),
        s.format("mut-team-rename{T}"),
        "/sessions",
        rows=["mut-team-rename{T}"],
        query=(("session_name", "Renamed team"),),
    )
    c += mutation(
        Case(
            "rename_created_session",
            "POST",
            rn.format("new-min{T}"),
            (),
            {"session_name": "x"},
            divergence="rename-json-null-data",
        ),
        s.format("new-min{T}"),
    )
    c += mutation(
        Case(
            "rename_json_null_session_data",
            "POST",
            rn.format("mut-json-null{T}"),
            (),
            {"session_name": "Name for JSON null"},
            divergence="rename-json-null-data",
        ),
        s.format("mut-json-null{T}"),
    )
    c += mutation(
        Case(
            "rename_sql_null_session_data",
            "POST",
            rn.format("mut-sql-null{T}"),
            (),
            {"session_name": "Name for SQL NULL"},
            divergence="rename-sql-null-data",
        ),
        s.format("mut-sql-null{T}"),
    )
    c += [
        Case(
            "rename_wrong_type_404",
            "POST",
            rn.format("mut-agent-misc{T}"),
            (("type", "team"),),
            {"session_name": "nope"},
        ),
        Case("rename_unknown_404", "POST", rn.format("does-not-exist{T}"), (), {"session_name": "x"}),
        Case(
            "rename_user_mismatch_404",
            "POST",
            rn.format("mut-agent-misc{T}"),
            (("user_id", "bob@example.com"),),
            {"session_name": "nope"},
        ),
        Case("rename_missing_field", "POST", rn.format("mut-agent-misc{T}"), (), {}),
        Case("rename_no_body", "POST", rn.format("mut-agent-misc{T}")),
        Case("rename_name_not_string", "POST", rn.format("mut-agent-misc{T}"), (), {"session_name": 123}),
        Case("rename_name_null", "POST", rn.format("mut-agent-misc{T}"), (), {"session_name": None}),
        Case("rename_name_list", "POST", rn.format("mut-agent-misc{T}"), (), {"session_name": ["a"]}),
        Case("rename_not_embedded", "POST", rn.format("mut-agent-misc{T}"), (), "just a name"),
        Case("rename_bad_json", "POST", rn.format("mut-agent-misc{T}"), raw_body="{session_name:"),
        Case(
            "rename_form_body",
            "POST",
            rn.format("mut-agent-misc{T}"),
            raw_body="session_name=x",
            content_type="application/x-www-form-urlencoded",
        ),
        Case(
            "rename_type_invalid", "POST", rn.format("mut-agent-misc{T}"), (("type", "robot"),), {"session_name": "x"}
        ),
        Case(
            "rename_db_id_unknown", "POST", rn.format("mut-agent-misc{T}"), (("db_id", "nope"),), {"session_name": "x"}
        ),
        Case(
            "rename_extra_fields_ignored_unknown_session",
            "POST",
            rn.format("does-not-exist{T}"),
            (),
            {"session_name": "x", "other": 1},
        ),
    ]
    return c


# ========================================================================================================
# PATCH /sessions/{id} (docs/agentos.md §7)
# ========================================================================================================
def patch_cases() -> list[Case]:
    s = "/sessions/{}"
    p = s.format("mut-agent-patch{T}")
    row = ["mut-agent-patch{T}"]
    c: list[Case] = []

    def pc(name: str, body: Any, path: str = p, rows: Sequence[str] = row, query: Q = (), **kw: Any) -> None:
        nonlocal c
        c += mutation(Case(name, "PATCH", path, tuple(query), body, **kw), path.split("?")[0], rows=rows)

    pc("patch_name", {"session_name": "Patched name ✓"})
    pc("patch_state_replaces", {"session_state": {"cart": [], "patched": True}})
    pc("patch_metadata_replaces", {"metadata": {"only": "this", "ü": [1, {"b": None}]}})
    pc(
        "patch_summary",
        {"summary": {"summary": "Patched summary", "topics": ["a", "b"], "updated_at": "2025-10-21T14:30:00Z"}},
    )
    pc("patch_summary_only_text", {"summary": {"summary": "Just text"}})
    pc("patch_summary_offset_timestamp", {"summary": {"summary": "tz", "updated_at": "2025-10-21T16:30:00+02:00"}})
    pc("patch_empty_body_bumps_updated_at", {})
    pc("patch_explicit_nulls_noop", {"session_name": None, "metadata": None, "session_state": None, "summary": None})
    pc("patch_reserved_metadata_stripped", {"metadata": {"agno_version": "x", "keep": 2, "agno_dispatch_depth": 1}})
    pc("patch_unknown_fields_ignored", {"bogus": 1, "session_type": "team", "created_at": 1})
    pc(
        "patch_everything_typed_user",
        {
            "session_name": "All",
            "session_state": {"s": 1},
            "metadata": {"m": 2},
            "summary": {"summary": "S", "topics": []},
        },
        query=(("type", "agent"), ("user_id", "mut@example.com")),
    )
    pc("patch_only_reserved_metadata_clears_it", {"metadata": {"agno_component_version": "x"}})
    p2 = s.format("mut-agent-patch2{T}")
    pc("patch_name_empty_string", {"session_name": ""}, path=p2, rows=["mut-agent-patch2{T}"])
    pc("patch_state_empty_object", {"session_state": {}}, path=p2, rows=["mut-agent-patch2{T}"])
    pt = s.format("mut-team-patch{T}")
    pc(
        "patch_team_all_typed",
        {
            "session_name": "Team patched",
            "session_state": {"s": 1},
            "metadata": {"m": 2},
            "summary": {"summary": "Team summary"},
        },
        path=pt,
        rows=["mut-team-patch{T}"],
        query=(("type", "team"),),
    )
    pw = s.format("mut-wf-patch{T}")
    pc(
        "patch_workflow_summary_dropped",
        {"session_name": "WF patched", "session_state": {"processed": 99}, "summary": {"summary": "dropped"}},
        path=pw,
        rows=["mut-wf-patch{T}"],
    )
    pj = s.format("mut-json-null-patch{T}")
    pc("patch_json_null_session_data", {"session_state": {"x": 1}}, path=pj, rows=["mut-json-null-patch{T}"])
    pc("patch_json_null_then_name", {"session_name": "now named"}, path=pj, rows=["mut-json-null-patch{T}"])
    pc(
        "patch_sql_null_session_data",
        {"metadata": {"k": 1}},
        path=s.format("mut-sql-null-patch{T}"),
        rows=["mut-sql-null-patch{T}"],
    )
    pc(
        "patch_created_session",
        {"session_state": {"after": "create"}},
        path=s.format("new-team{T}"),
        rows=["new-team{T}"],
    )
    pc(
        "patch_agent_as_team_wrong_type",
        {"session_name": "as team"},
        path=p2,
        rows=["mut-agent-patch2{T}"],
        query=(("type", "team"),),
    )
    c += [
        Case(
            "patch_bad_summary_missing_key",
            "PATCH",
            p,
            (),
            {"summary": {"topics": ["x"]}},
            divergence="patch-bad-summary",
        ),
        Case(
            "patch_bad_summary_extra_key",
            "PATCH",
            p,
            (),
            {"summary": {"summary": "x", "extra": 1}},
            divergence="patch-bad-summary",
        ),
        Case(
            "patch_bad_summary_timestamp",
            "PATCH",
            p,
            (),
            {"summary": {"summary": "x", "updated_at": "nope"}},
            divergence="patch-bad-summary-date",
        ),
        Case("patch_unknown_404", "PATCH", s.format("does-not-exist{T}"), (), {"session_name": "x"}),
        Case(
            "patch_user_mismatch_404",
            "PATCH",
            s.format("mut-agent-misc{T}"),
            (("user_id", "bob@example.com"),),
            {"session_name": "x"},
        ),
        Case("patch_bad_json", "PATCH", s.format("mut-agent-misc{T}"), raw_body="{"),
        Case("patch_no_body", "PATCH", s.format("mut-agent-misc{T}")),
        Case("patch_body_null", "PATCH", s.format("mut-agent-misc{T}"), raw_body="null"),
        Case("patch_body_array", "PATCH", s.format("mut-agent-misc{T}"), (), [1]),
        Case(
            "patch_wrong_field_types",
            "PATCH",
            s.format("mut-agent-misc{T}"),
            (),
            {"session_state": "str", "metadata": 5, "session_name": 1, "summary": "s"},
        ),
        Case("patch_type_invalid", "PATCH", s.format("mut-agent-misc{T}"), (("type", "robot"),), {"session_name": "x"}),
        Case(
            "patch_db_id_unknown", "PATCH", s.format("mut-agent-misc{T}"), (("db_id", "nope"),), {"session_name": "x"}
        ),
    ]
    return c


# ========================================================================================================
# DELETE /sessions/{id} and DELETE /sessions (docs/agentos.md §7)
# ========================================================================================================
def delete_cases() -> list[Case]:
    s = "/sessions/{}"
    c: list[Case] = []
    c += mutation(
        Case("delete_one", "DELETE", s.format("mut-del-a{T}")),
        s.format("mut-del-a{T}"),
        s.format("mut-del-a{T}") + "/runs",
        rows=["mut-del-a{T}"],
    )
    c += [
        Case("delete_one_again", "DELETE", s.format("mut-del-a{T}")),
        Case("delete_unknown", "DELETE", s.format("does-not-exist{T}")),
    ]
    c += mutation(
        Case("delete_user_mismatch_noop", "DELETE", s.format("mut-del-user{T}"), (("user_id", "bob@example.com"),)),
        s.format("mut-del-user{T}"),
        rows=["mut-del-user{T}"],
    )
    c += mutation(
        Case("delete_with_user_match", "DELETE", s.format("mut-del-user{T}"), (("user_id", "mut@example.com"),)),
        s.format("mut-del-user{T}"),
        rows=["mut-del-user{T}"],
    )
    c += [
        Case(
            "delete_media_without_storage_503",
            "DELETE",
            s.format("mut-del-b{T}"),
            (("delete_media", "true"),),
            allow_5xx=(503,),
        ),
        Case("delete_media_invalid_bool", "DELETE", s.format("mut-del-b{T}"), (("delete_media", "maybe"),)),
        Case("delete_db_id_unknown", "DELETE", s.format("mut-del-b{T}"), (("db_id", "nope"),)),
        Case("delete_table_without_db_id", "DELETE", s.format("mut-del-b{T}"), (("table", "agno_sessions"),)),
    ]
    c += mutation(
        Case(
            "delete_type_param_ignored_media_false",
            "DELETE",
            s.format("mut-del-b{T}"),
            (("type", "robot"), ("delete_media", "false")),
        ),
        s.format("mut-del-b{T}"),
        rows=["mut-del-b{T}"],
    )
    c += mutation(
        Case("delete_created_session", "DELETE", s.format("new-agent-teamid{T}")),
        s.format("new-agent-teamid{T}"),
        rows=["new-agent-teamid{T}"],
    )
    bulk = {
        "session_ids": ["mut-bulk-a{T}", "new-extra{T}", "does-not-exist{T}"],
        "session_types": ["agent", "agent", "team"],
    }
    c += mutation(
        Case("bulk_delete", "DELETE", "/sessions", (), bulk),
        s.format("mut-bulk-a{T}"),
        s.format("new-extra{T}"),
        rows=["mut-bulk-a{T}", "new-extra{T}"],
    )
    c += mutation(
        Case(
            "bulk_delete_types_ignored",
            "DELETE",
            "/sessions",
            (),
            {"session_ids": ["mut-bulk-b{T}"], "session_types": ["workflow"]},
        ),
        s.format("mut-bulk-b{T}"),
        rows=["mut-bulk-b{T}"],
    )
    c += mutation(
        Case(
            "bulk_delete_user_scoped_mismatch",
            "DELETE",
            "/sessions",
            (("user_id", "x@example.com"),),
            {"session_ids": ["mut-bulk-user{T}"], "session_types": ["agent"]},
        ),
        s.format("mut-bulk-user{T}"),
        s.format("mut-bulk-user{T}") + "/runs",
        rows=["mut-bulk-user{T}"],
    )
    c += mutation(
        Case(
            "bulk_delete_user_scoped",
            "DELETE",
            "/sessions",
            (("user_id", "mut@example.com"),),
            {"session_ids": ["mut-bulk-user{T}", "new-wf{T}"], "session_types": ["agent", "workflow"]},
        ),
        s.format("mut-bulk-user{T}"),
        s.format("new-wf{T}"),
        rows=["mut-bulk-user{T}", "new-wf{T}"],
    )
    c += [
        Case(
            "bulk_delete_length_mismatch",
            "DELETE",
            "/sessions",
            (),
            {"session_ids": ["a{T}", "b{T}"], "session_types": ["agent"]},
        ),
        Case(
            "bulk_delete_length_mismatch_db_unknown",
            "DELETE",
            "/sessions",
            (("db_id", "nope"),),
            {"session_ids": ["a{T}"], "session_types": ["agent", "team"]},
        ),
        Case("bulk_delete_empty_lists", "DELETE", "/sessions", (), {"session_ids": [], "session_types": []}),
        Case("bulk_delete_missing_types", "DELETE", "/sessions", (), {"session_ids": ["a{T}"]}),
        Case(
            "bulk_delete_invalid_type",
            "DELETE",
            "/sessions",
            (),
            {"session_ids": ["a{T}", "b{T}"], "session_types": ["agent", "robot"]},
        ),
        Case(
            "bulk_delete_ids_not_strings", "DELETE", "/sessions", (), {"session_ids": [1], "session_types": ["agent"]}
        ),
        Case("bulk_delete_no_body", "DELETE", "/sessions"),
        Case("bulk_delete_bad_json", "DELETE", "/sessions", raw_body="["),
        Case("bulk_delete_body_array", "DELETE", "/sessions", (), ["a"]),
        Case(
            "bulk_delete_errors_listed_in_order",
            "DELETE",
            "/sessions",
            (("delete_media", "maybe"),),
            {"session_types": ["x", "agent", "y"], "session_ids": "a"},
        ),
        Case(
            "delete_errors_listed_in_order",
            "DELETE",
            "/sessions/mut-agent-misc{T}",
            (("delete_media", "maybe"), ("type", "x")),
        ),
        Case(
            "bulk_delete_media_503",
            "DELETE",
            "/sessions",
            (("delete_media", "true"),),
            {"session_ids": ["a{T}"], "session_types": ["agent"]},
            allow_5xx=(503,),
        ),
        Case(
            "bulk_delete_db_id_unknown",
            "DELETE",
            "/sessions",
            (("db_id", "nope"),),
            {"session_ids": ["a{T}"], "session_types": ["agent"]},
        ),
    ]
    return c


# ========================================================================================================
# mutations on the other databases and with auth
# ========================================================================================================
def other_db_mutation_cases() -> list[Case]:
    m: dict[str, Any] = {"instance": "multi", "db": "b"}
    s = "/sessions/{}"
    c: list[Case] = []
    c += mutation(
        Case(
            "multi_create_db_b",
            "POST",
            "/sessions",
            (("db_id", B), ("type", "agent")),
            {"session_id": "new-in-b{T}", "session_name": "In B"},
            **m,
        ),
        s.format("new-in-b{T}"),
        rows=["new-in-b{T}"],
        query=(("db_id", B),),
    )
    c += [
        Case(
            "multi_create_without_db_id_400",
            "POST",
            "/sessions",
            (("type", "agent"),),
            {"session_id": "never3{T}"},
            **m,
        ),
        get("multi_created_in_b_not_in_a", s.format("new-in-b{T}"), ("db_id", A), **m),
    ]
    c += mutation(
        Case(
            "multi_rename_db_b",
            "POST",
            s.format("new-in-b{T}") + "/rename",
            (("db_id", B),),
            {"session_name": "In B renamed"},
            **m,
        ),
        s.format("new-in-b{T}"),
        rows=["new-in-b{T}"],
        query=(("db_id", B),),
    )
    c += mutation(
        Case(
            "multi_patch_db_b", "PATCH", s.format("new-in-b{T}"), (("db_id", B),), {"session_state": {"b": True}}, **m
        ),
        s.format("new-in-b{T}"),
        rows=["new-in-b{T}"],
        query=(("db_id", B),),
    )
    c += [
        Case(
            "multi_rename_without_db_id_400",
            "POST",
            s.format("new-in-b{T}") + "/rename",
            (),
            {"session_name": "x"},
            **m,
        ),
        Case("multi_patch_without_db_id_400", "PATCH", s.format("new-in-b{T}"), (), {"session_name": "x"}, **m),
        Case("multi_delete_without_db_id_400", "DELETE", s.format("new-in-b{T}"), **m),
        Case(
            "multi_bulk_delete_without_db_id_400",
            "DELETE",
            "/sessions",
            (),
            {"session_ids": ["new-in-b{T}"], "session_types": ["agent"]},
            **m,
        ),
    ]
    c += mutation(
        Case("multi_delete_db_b", "DELETE", s.format("new-in-b{T}"), (("db_id", B),), **m),
        s.format("new-in-b{T}"),
        rows=["new-in-b{T}"],
        query=(("db_id", B),),
    )
    lg: dict[str, Any] = {"instance": "multi", "db": "legacy"}
    c += mutation(
        Case(
            "legacy_rename",
            "POST",
            s.format("leg-mut{T}") + "/rename",
            (("db_id", LEG),),
            {"session_name": "Legacy renamed"},
            **lg,
        ),
        s.format("leg-mut{T}"),
        s.format("leg-mut{T}") + "/runs",
        rows=["leg-mut{T}"],
        query=(("db_id", LEG),),
    )
    c += mutation(
        Case(
            "legacy_patch",
            "PATCH",
            s.format("leg-mut{T}"),
            (("db_id", LEG),),
            {"session_state": {"patched": 1}, "metadata": {"m": 2}},
            **lg,
        ),
        s.format("leg-mut{T}"),
        s.format("leg-mut{T}") + "/run-previews",
        rows=["leg-mut{T}"],
        query=(("db_id", LEG),),
    )
    a: dict[str, Any] = {"instance": "auth", "headers": AUTH}
    c += mutation(
        Case(
            "auth_create_ok",
            "POST",
            "/sessions",
            (("type", "team"),),
            {"session_id": "new-auth{T}", "session_name": "with key"},
            **a,
        ),
        s.format("new-auth{T}"),
        rows=["new-auth{T}"],
    )
    c += mutation(
        Case(
            "auth_rename_ok", "POST", s.format("new-auth{T}") + "/rename", (), {"session_name": "renamed with key"}, **a
        ),
        s.format("new-auth{T}"),
        rows=["new-auth{T}"],
    )
    c += [
        Case("auth_rename_401", "POST", s.format("new-auth{T}") + "/rename", (), {"session_name": "x"}, instance="auth")
    ]
    c += mutation(
        Case("auth_delete_ok", "DELETE", s.format("new-auth{T}"), **a), s.format("new-auth{T}"), rows=["new-auth{T}"]
    )
    return c


# ========================================================================================================
# media: GET /sessions/{id}/media/{key} and DELETE ?delete_media=true with storage configured
# ========================================================================================================
def media_cases() -> list[Case]:
    """Reads of every kind of stored object (headers and bytes compared), the 404 ladder (session, key
    of this session, backend, object), keys that try to leave the storage root, then deletes with
    `delete_media=true` and what they left behind (seed: agno_side/seed_media.py)."""
    out: list[Case] = []
    for b in ("local", "s3"):
        inst: dict[str, Any] = {"instance": f"media-{b}"}
        sid = f"media-{b}"
        pre = S3_PREFIX if b == "s3" else ""
        base = f"/sessions/{sid}/media/"
        png = media_key(sid, "png", b)
        out += [get(f"media_{b}_{name}", base + media_key(sid, name, b), **inst) for name in MEDIA_OBJECTS]
        for odd in ("mime-upper.bin", "mime-bad.bin", "mime-html-param.bin", "mime-empty.bin", "mime-none.js"):
            out.append(get(f"media_{b}_{odd.replace('.', '_')}", f"{base}{pre}{sid}-{odd}", **inst))
        out.append(get(f"media_{b}_mime-none_json", f"{base}{pre}{sid}-mime-none.json", **inst))
        out += [
            get(f"media_{b}_object_gone", f"{base}{pre}gone.png", **inst),
            get(f"media_{b}_other_backend", f"{base}{pre}{sid}-other-backend.png", **inst),
            get(f"media_{b}_other_bucket", f"{base}{pre}{sid}-other-bucket.png", **inst),
            get(f"media_{b}_key_of_other_session", base + media_key(f"media-other-{b}", "png", b), **inst),
            get(
                f"media_{b}_other_session_own_key",
                f"/sessions/media-other-{b}/media/" + media_key(f"media-other-{b}", "png", b),
                **inst,
            ),
            get(f"media_{b}_unknown_key", base + "nothing/here.png", **inst),
            get(f"media_{b}_unknown_session", "/sessions/media-nope/media/" + png, **inst),
            get(f"media_{b}_user_owner", base + png, ("user_id", "media-user"), **inst),
            get(f"media_{b}_user_intruder", base + png, ("user_id", "intruder"), **inst),
            get(f"media_{b}_as_team", base + png, ("type", "team"), **inst),
            get(f"media_{b}_as_workflow", base + png, ("type", "workflow"), **inst),
            get(f"media_{b}_bad_type", base + png, ("type", "robot"), **inst),
            get(f"media_{b}_redirect", base + png, ("redirect", "true"), **inst),
            get(f"media_{b}_redirect_false", base + png, ("redirect", "false"), **inst),
            get(f"media_{b}_redirect_gone", f"{base}{pre}gone.png", ("redirect", "true"), **inst),
            get(f"media_{b}_redirect_html", base + media_key(sid, "html", b), ("redirect", "1"), **inst),
            get(f"media_{b}_redirect_bad_bool", base + png, ("redirect", "maybe"), **inst),
            get(f"media_{b}_db_id", base + png, ("db_id", "contract-media"), **inst),
            get(f"media_{b}_unknown_db_id", base + png, ("db_id", "nope"), **inst),
            get(f"media_{b}_trailing_slash", base + png + "/", **inst),
            get(f"media_{b}_percent_encoded", base + png.replace("-", "%2D"), **inst),
            get(
                f"media_{b}_team_member",
                f"/sessions/media-team-{b}/media/" + media_key(f"media-team-{b}", "png", b),
                **inst,
            ),
            get(
                f"media_{b}_team_file",
                f"/sessions/media-team-{b}/media/" + media_key(f"media-team-{b}", "txt", b),
                **inst,
            ),
            get(
                f"media_{b}_team_as_agent",
                f"/sessions/media-team-{b}/media/" + media_key(f"media-team-{b}", "png", b),
                ("type", "agent"),
                **inst,
            ),
            get(f"media_{b}_workflow", f"/sessions/media-wf-{b}/media/" + media_key(f"media-wf-{b}", "png", b), **inst),
            get(
                f"media_{b}_workflow_as_agent",
                f"/sessions/media-wf-{b}/media/" + media_key(f"media-wf-{b}", "png", b),
                ("type", "agent"),
                **inst,
            ),
        ]
        # the sessions' own answers: stored media (references) re-serialised as agno's media classes do
        for kind, owner in (("agent", sid), ("team", f"media-team-{b}"), ("workflow", f"media-wf-{b}")):
            typ = ("type", kind)
            out += [
                get(f"media_{b}_{kind}_detail", f"/sessions/{owner}", typ, **inst),
                get(f"media_{b}_{kind}_runs", f"/sessions/{owner}/runs", typ, **inst),
                get(f"media_{b}_{kind}_previews", f"/sessions/{owner}/run-previews", typ, **inst),
            ]
        if b == "s3":
            out.append(get("media_s3_other_region", f"{base}{pre}{sid}-other-region.png", **inst))
        else:
            out += [
                get("media_local_traversal_encoded", base + "%2E%2E/outside-secret.txt", **inst),
                get("media_local_traversal", base + "../outside-secret.txt", **inst),
                get("media_local_symlink_out_of_root", base + "escape.txt", **inst),
                get("media_local_absolute_key", base + "/etc/hostname", **inst),
                get("media_local_windows_device_name", base + "CON.txt", **inst),
                get("media_local_directory", base + "subdir", divergence="media-storage-error", **inst),
                get("media_local_empty_key", base, divergence="media-empty-key", **inst),
                get("media_local_no_key", base.rstrip("/"), divergence="media-empty-key", **inst),
                Case("media_local_post_405", "POST", base + png, body={}, **inst),
            ]
        # deletes: each twin's objects are its own (the key carries the session id); the witness session
        # holds references to them, so a read through it shows whether the object is still there
        wit = f"/sessions/media-witness-{b}{{T}}/media/"
        mut = {**inst, "db": "media"}
        out += [
            Case(
                f"media_{b}_delete_other_user",
                "DELETE",
                f"/sessions/media-deluser-{b}{{T}}",
                (("user_id", "intruder"), ("delete_media", "true")),
                **mut,
            ),
            get(f"media_{b}_delete_other_user_kept", wit + media_key(f"media-deluser-{b}{{T}}", "png", b), **inst),
            *mutation(
                Case(
                    f"media_{b}_delete", "DELETE", f"/sessions/media-del-{b}{{T}}", (("delete_media", "true"),), **mut
                ),
                f"/sessions/media-del-{b}{{T}}",
            ),
            get(f"media_{b}_delete_removed_object", wit + media_key(f"media-del-{b}{{T}}", "png", b), **inst),
            get(
                f"media_{b}_delete_kept_inherited",
                f"/sessions/media-keep-{b}/media/" + media_key(f"media-keep-{b}", "png", b),
                **inst,
            ),
            Case(
                f"media_{b}_bulk_delete",
                "DELETE",
                "/sessions",
                (("delete_media", "true"),),
                body={"session_ids": [f"media-bulk-{b}{{T}}"], "session_types": ["agent"]},
                **mut,
            ),
            get(f"media_{b}_bulk_delete_removed_object", wit + media_key(f"media-bulk-{b}{{T}}", "png", b), **inst),
            Case(f"media_{b}_delete_without_media", "DELETE", f"/sessions/media-plain-{b}{{T}}", **mut),
            get(f"media_{b}_delete_without_media_kept", wit + media_key(f"media-plain-{b}{{T}}", "png", b), **inst),
        ]
    return out


# ========================================================================================================
# reads after the mutations
# ========================================================================================================
def after_cases() -> list[Case]:
    return [
        lst("after_list_all", ("limit", "1000")),
        lst("after_list_mut_user", ("user_id", "mut@example.com"), ("limit", "100")),
        lst("after_list_zoe_sorted_by_updated", ("user_id", "zoe@example.com"), ("sort_by", "updated_at")),
        lst("after_list_name_filter", ("session_name", "patched"), ("limit", "100")),
        lst("after_list_type_workflow", ("type", "workflow"), ("limit", "100")),
        lst("after_list_sort_session_id", ("sort_by", "session_id"), ("sort_order", "asc"), ("limit", "1000")),
        lst("after_list_page3_by_id", ("sort_by", "session_id"), ("limit", "10"), ("page", "3")),
        lst("after_multi_list_b", ("db_id", B), ("limit", "100"), instance="multi"),
        lst("after_multi_list_legacy", ("db_id", LEG), ("limit", "100"), instance="multi"),
    ]


def build_cases() -> list[Case]:
    cases = (
        misc_cases()
        + list_cases()
        + get_cases()
        + run_cases()
        + multi_cases()
        + legacy_2x_read_cases()
        + auth_cases()
        + create_cases()
        + bad_input_cases()
        + unicode_cases()
        + empty_db_param_cases()
        + path_form_mutation_cases()
        + type_override_mutation_cases()
        + rename_cases()
        + patch_cases()
        + delete_cases()
        + other_db_mutation_cases()
        + legacy_2x_mutation_cases()
        + media_cases()
        + after_cases()
    )
    names = [c.name for c in cases]
    dups = {n for n in names if names.count(n) > 1}
    if dups:
        raise ValueError(f"duplicate case names: {sorted(dups)}")
    for c in cases:
        if c.instance not in INSTANCES:
            raise ValueError(f"{c.name}: unknown instance {c.instance}")
    return cases
