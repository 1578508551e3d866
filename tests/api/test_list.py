"""GET /sessions: filters, name search, sorting, pagination and parameter validation (docs/agentos.md)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from tests.api.conftest import SEED, running_api
from tests.reliability.harness import metric_value

ROWS = [item["row"] for item in SEED.values()]


def ids(reply: Any) -> list[str]:
    return [item["session_id"] for item in reply.json["data"]]


def by_created_desc(rows: list[dict[str, Any]]) -> list[str]:
    return [r["session_id"] for r in sorted(rows, key=lambda r: r["created_at"], reverse=True)]


@pytest.mark.gen_test(timeout=60)
async def test_filters_and_meta(seeded_dsn: str) -> None:
    async with running_api({"AGNO_PG_DSN": seeded_dsn, "AGNO_MAX_PAGE_SIZE": "100"}) as api:
        everything = await api.get("/sessions", limit="100")
        assert ids(everything) == by_created_desc(ROWS)
        assert everything.json["meta"] == {
            "page": 1,
            "limit": 100,
            "total_pages": 1,
            "total_count": len(ROWS),
            "search_time_ms": 0.0,
        }
        for session_type in ("agent", "team", "workflow"):
            reply = await api.get("/sessions", type=session_type, limit="100")
            assert ids(reply) == by_created_desc([r for r in ROWS if r["session_type"] == session_type])
        # component_id with a type matches only that column, without a type any of the three
        typed = await api.get("/sessions", type="agent", component_id="support-agent", limit="100")
        assert ids(typed) == by_created_desc([r for r in ROWS if r["agent_id"] == "support-agent"])
        mismatch = await api.get("/sessions", type="team", component_id="support-agent")
        assert mismatch.json["data"] == []
        assert mismatch.json["meta"]["total_count"] == 0
        untyped = await api.get("/sessions", component_id="oracle-team", limit="100")
        assert ids(untyped) == by_created_desc([r for r in ROWS if r["team_id"] == "oracle-team"])
        user = await api.get("/sessions", user_id="alice@example.com", limit="100")
        assert ids(user) == by_created_desc([r for r in ROWS if r["user_id"] == "alice@example.com"])
        empty_user = await api.get("/sessions", user_id="")
        assert empty_user.json["meta"]["total_count"] == 0
        combined = await api.get("/sessions", type="team", component_id="review-team", user_id="alice@example.com")
        assert ids(combined) == ["team-sess-03"]


def stored_name(row: dict[str, Any]) -> str | None:
    data = row["session_data"]
    return data.get("session_name") if isinstance(data, dict) else None


@pytest.mark.gen_test(timeout=60)
@pytest.mark.parametrize(
    ("search", "matches"),
    [
        ("conversation", lambda n: "conversation" in n.lower()),
        ("CONVERSATION 0", lambda n: "conversation 0" in n.lower()),
        ("café", lambda n: "café" in n.lower()),
        # AgentOS builds the ILIKE pattern without escaping: % matches anything, _ any one character
        ("%", lambda n: True),
        ("Team_session", lambda n: n.lower().startswith("team") and n.lower()[5:12] == "session"),
        ("n%0", lambda n: "n" in n.lower() and "0" in n.lower().split("n", 1)[1]),
        ("", lambda n: True),
        ("Question 0", lambda n: False),  # derived names are never searched
    ],
)
async def test_session_name_search(seeded_dsn: str, search: str, matches: Any) -> None:
    expected = [r for r in ROWS if matches(stored_name(r) or "")]
    async with running_api({"AGNO_PG_DSN": seeded_dsn}) as api:
        reply = await api.get("/sessions", session_name=search, limit="100")
    assert reply.status == 200
    assert ids(reply) == by_created_desc(expected)


@pytest.mark.gen_test(timeout=60)
async def test_search_with_wildcards_escapes_and_quotes_is_agentos_ilike(seeded_dsn: str) -> None:
    """`%`, `_` and `\\` keep their ILIKE meaning (as in AgentOS); quotes are data, never SQL."""
    from tests.api.conftest import sql

    async with running_api({"AGNO_PG_DSN": seeded_dsn}) as api:
        for search in ("\\", "'; DROP TABLE ai.agno_sessions; --", "%%%", "_%_", "\\%"):
            reply = await api.get("/sessions", session_name=search, limit="100")
            expected = sql(
                seeded_dsn,
                "SELECT session_id FROM ai.agno_sessions"
                " WHERE coalesce(session_data ->> 'session_name', '') ILIKE %s ORDER BY created_at DESC",
                (f"%{search}%",),
            )
            assert reply.status == 200, (search, reply.text)
            assert ids(reply) == [row[0] for row in expected], search
        assert (await api.get("/sessions", limit="100")).json["meta"]["total_count"] == len(ROWS)


SORTABLE = ["created_at", "updated_at", "session_id", "session_type", "user_id", "agent_id"]


def sort_key(column: str) -> Any:
    def key(row: dict[str, Any]) -> Any:
        value = row["updated_at"] or row["created_at"] if column == "updated_at" else row[column]
        return value

    return key


@pytest.mark.gen_test(timeout=60)
@pytest.mark.parametrize("column", SORTABLE)
@pytest.mark.parametrize("order", ["asc", "desc"])
async def test_sorting(seeded_dsn: str, column: str, order: str) -> None:
    async with running_api({"AGNO_PG_DSN": seeded_dsn}) as api:
        reply = await api.get("/sessions", sort_by=column, sort_order=order, limit="100")
    assert reply.status == 200
    got = [SEED[i]["row"] for i in ids(reply)]
    keys = [sort_key(column)(r) for r in got]
    # NULLs sort last ascending and first descending (PostgreSQL's default); ties in any order
    rank = [(k is None, k) if k is not None else (True, "") for k in keys]
    expected = sorted(rank, reverse=order == "desc")
    assert rank == expected
    assert sorted(ids(reply)) == sorted(SEED)


@pytest.mark.gen_test(timeout=60)
async def test_updated_at_sort_falls_back_to_created_at(fresh_dsn: str) -> None:
    from tests.api.conftest import sql

    sql(
        fresh_dsn,
        "INSERT INTO ai.agno_sessions (session_id, session_type, created_at, updated_at) VALUES"
        " ('old-touched', 'agent', 100, 400), ('never-updated', 'agent', 300, NULL), ('recent', 'agent', 200, 250)",
    )
    async with running_api({"AGNO_PG_DSN": fresh_dsn}) as api:
        desc = await api.get("/sessions", sort_by="updated_at", sort_order="desc")
        asc = await api.get("/sessions", sort_by="updated_at", sort_order="asc")
    assert ids(desc) == ["old-touched", "never-updated", "recent"]
    assert ids(asc) == ["recent", "never-updated", "old-touched"]


@pytest.mark.gen_test(timeout=60)
@pytest.mark.parametrize("sort_by", ["bogus", "session_name", "", "keys", "values", "items", "get", "c"])
async def test_unknown_sort_column_is_ignored(seeded_dsn: str, sort_by: str) -> None:
    async with running_api({"AGNO_PG_DSN": seeded_dsn}) as api:
        reply = await api.get("/sessions", sort_by=sort_by, type="agent", limit="100")
    assert reply.status == 200
    assert sorted(ids(reply)) == sorted(r["session_id"] for r in ROWS if r["session_type"] == "agent")


@pytest.mark.gen_test(timeout=60)
async def test_pagination(seeded_dsn: str) -> None:
    ordered = by_created_desc(ROWS)
    async with running_api({"AGNO_PG_DSN": seeded_dsn}) as api:
        pages = []
        for page in range(1, 6):
            reply = await api.get("/sessions", limit="5", page=str(page))
            assert reply.json["meta"] == {
                "page": page,
                "limit": 5,
                "total_pages": math.ceil(len(ROWS) / 5),
                "total_count": len(ROWS),
                "search_time_ms": 0.0,
            }
            pages.extend(ids(reply))
        assert pages == ordered
        beyond = await api.get("/sessions", limit="5", page="99")
        assert beyond.json["data"] == []
        assert beyond.json["meta"]["page"] == 99
        huge_page = await api.get("/sessions", limit="5", page=str(10**30))
        assert huge_page.status == 200
        assert huge_page.json["data"] == []
        combined = await api.get(
            "/sessions",
            type="agent",
            user_id="alice@example.com",
            sort_by="created_at",
            sort_order="asc",
            limit="1",
            page="2",
        )
        assert ids(combined) == ["agent-sess-04"]


ERRORS = [
    ({"type": "robot"}, [("enum", ["query", "type"], "robot")]),
    ({"type": "AGENT"}, [("enum", ["query", "type"], "AGENT")]),
    ({"sort_order": "ASC"}, [("enum", ["query", "sort_order"], "ASC")]),
    ({"limit": "0"}, [("greater_than_equal", ["query", "limit"], "0")]),
    ({"limit": "-1"}, [("greater_than_equal", ["query", "limit"], "-1")]),
    ({"limit": "abc"}, [("int_parsing", ["query", "limit"], "abc")]),
    ({"limit": "2.5"}, [("int_parsing", ["query", "limit"], "2.5")]),
    ({"page": "-1"}, [("greater_than_equal", ["query", "page"], "-1")]),
    ({"page": "x"}, [("int_parsing", ["query", "page"], "x")]),
    # divergences (docs/compatibility.md): AgentOS answers 500 for page=0 and has no limit cap
    ({"page": "0"}, [("greater_than_equal", ["query", "page"], "0")]),
    ({"limit": "1001"}, [("less_than_equal", ["query", "limit"], "1001")]),
    (
        {"type": "", "limit": "", "page": ""},
        [
            ("enum", ["query", "type"], ""),
            ("int_parsing", ["query", "limit"], ""),
            ("int_parsing", ["query", "page"], ""),
        ],
    ),
]


@pytest.mark.gen_test(timeout=60)
@pytest.mark.parametrize(("query", "expected"), ERRORS)
async def test_parameter_errors(seeded_dsn: str, query: dict[str, str], expected: list[Any]) -> None:
    async with running_api({"AGNO_PG_DSN": seeded_dsn}) as api:
        reply = await api.get("/sessions", **query)
    assert reply.status == 422
    assert [(e["type"], e["loc"], e["input"]) for e in reply.json["detail"]] == expected
    for error in reply.json["detail"]:
        assert list(error)[:4] == ["type", "loc", "msg", "input"]


@pytest.mark.gen_test(timeout=60)
async def test_enum_error_body_is_fastapis(seeded_dsn: str) -> None:
    async with running_api({"AGNO_PG_DSN": seeded_dsn}) as api:
        reply = await api.get("/sessions", type="foo")
    assert reply.json == {
        "detail": [
            {
                "type": "enum",
                "loc": ["query", "type"],
                "msg": "Input should be 'agent', 'team' or 'workflow'",
                "input": "foo",
                "ctx": {"expected": "'agent', 'team' or 'workflow'"},
            }
        ]
    }


@pytest.mark.gen_test(timeout=60)
async def test_last_duplicate_wins_trailing_slash_and_whitespace(seeded_dsn: str) -> None:
    async with running_api({"AGNO_PG_DSN": seeded_dsn}) as api:
        dup = await api.call("GET", "/sessions", query=[("type", "agent"), ("type", "team"), ("limit", "100")])
        assert {item["session_type"] for item in dup.json["data"]} == {"team"}
        slash = await api.call("GET", "/sessions/", query=[("limit", " 2 ")])
        assert slash.status == 200
        assert len(slash.json["data"]) == 2
        unknown = await api.call("GET", "/sessions", query=[("foo", "bar"), ("limit", "2.0")])
        assert unknown.status == 200
        assert unknown.json["meta"]["limit"] == 2


@pytest.mark.parametrize(
    ("search", "hinted"),
    [("agent session", True), ("abc", True), ("%ab%", False), ("a_b_c", False), ("", False), (None, False)],
)
def test_planner_hint_only_for_searches_the_trigram_index_serves(search: str | None, hinted: bool) -> None:
    from service.store import index_serves_search

    assert index_serves_search(search) is hinted


def test_name_search_uses_the_trigram_index(fresh_dsn: str) -> None:
    from service.config import load_config
    from service.db import Database
    from service.store import order_by_clause
    from tests.api.conftest import QUERIES, sql

    sql(
        fresh_dsn,
        "INSERT INTO ai.agno_sessions (session_id, session_type, session_data, created_at)"
        " SELECT 's' || g, 'agent', jsonb_build_object('session_name', 'agent session ' || g), g"
        " FROM generate_series(1, 1000) g",
    )
    sql(fresh_dsn, "ANALYZE ai.agno_sessions")
    database = Database("default", fresh_dsn, load_config({"AGNO_PG_DSN": fresh_dsn}), QUERIES)
    rendered = database.sql(
        "list_sessions",
        {
            "order_by": order_by_clause(QUERIES.fragment, "created_at", "desc"),
            "planner_hint": QUERIES.fragment("search_planner_hint"),
        },
    )
    _timeout, hint, query = rendered.split(";", 2)
    params = {"user_id": None, "component_id": None, "session_type": None, "name_pattern": "%session 500%",
              "index_pattern": "%session 500%", "known_snapshot": None, "limit": 20, "offset": 0}  # fmt: skip
    import psycopg2

    conn = psycopg2.connect(fresh_dsn)
    with conn, conn.cursor() as cur:
        cur.execute(hint)
        cur.execute("EXPLAIN " + query, params)
        plan = "\n".join(row[0] for row in cur.fetchall())
    conn.close()
    assert "idx_agno_sessions_session_name_trgm" in plan
    assert "Seq Scan" not in plan


def count_outcomes(text: str) -> dict[str, float]:
    """list_counts_total of the `default` database by outcome, from /metrics text."""
    return {
        outcome: metric_value(text, "list_counts_total", {"db_id": "default", "outcome": outcome}) or 0.0
        for outcome in ("counted", "reused")
    }


@pytest.mark.gen_test(timeout=60)
async def test_total_count_is_exact_after_every_commit_and_reused_only_without_one(
    fresh_dsn: str, pg_cluster: Any
) -> None:
    import psycopg2

    from tests.api.conftest import load_seed, sql

    rows: list[dict[str, Any]] = [
        {"session_id": f"c{n}", "session_type": "agent", "agent_id": "a1", "created_at": 100 + n} for n in range(3)
    ]
    load_seed(fresh_dsn, {row["session_id"]: {"row": row, "runs": []} for row in rows})
    # whole answers are not reused here (tests/api/test_answers.py), so every request reaches the count
    async with running_api({"AGNO_PG_DSN": fresh_dsn, "AGNO_ANSWER_CACHE_BYTES": "0"}) as api:

        async def total(**query: str) -> int:
            reply = await api.get("/sessions", **query)
            assert reply.status == 200
            return int(reply.json["meta"]["total_count"])

        assert await total(type="agent") == 3
        before = count_outcomes((await api.get("/metrics")).text)
        # nothing committed in between (background work such as autovacuum may still commit: retry)
        for _ in range(10):
            assert await total(type="agent") == 3
            if count_outcomes((await api.get("/metrics")).text)["reused"] > before["reused"]:
                break
        else:
            pytest.fail("the count was never reused although nothing was written")

        # a commit by another client, an API write, and a commit elsewhere on the cluster
        sql(fresh_dsn, "INSERT INTO ai.agno_sessions (session_id, session_type, created_at) VALUES ('c9', 'agent', 1)")
        assert await total(type="agent") == 4
        assert (await api.call("DELETE", "/sessions/c0")).status == 204
        assert await total(type="agent") == 3
        assert await total(type="agent", limit="1", page="2") == 3  # page and limit share the count
        other = pg_cluster.create_database("other")
        sql(other, "CREATE TABLE t (x int)")
        assert await total(type="agent") == 3

        # an open transaction is invisible until it commits, then counted
        writer = psycopg2.connect(fresh_dsn)
        with writer.cursor() as cur:
            cur.execute("INSERT INTO ai.agno_sessions (session_id, session_type, created_at) VALUES ('c8', 'agent', 2)")
            assert await total(type="agent") == 3
            writer.commit()
        writer.close()
        assert await total(type="agent") == 4
        assert await total(type="team") == 0
        assert await total() == 4


@pytest.mark.gen_test(timeout=60)
async def test_count_cache_size_zero_counts_every_request(fresh_dsn: str) -> None:
    env = {"AGNO_PG_DSN": fresh_dsn, "AGNO_COUNT_CACHE_SIZE": "0", "AGNO_ANSWER_CACHE_BYTES": "0"}
    async with running_api(env) as api:
        before = count_outcomes((await api.get("/metrics")).text)
        for _ in range(3):
            assert (await api.get("/sessions")).json["meta"]["total_count"] == 0
        after = count_outcomes((await api.get("/metrics")).text)
    assert after["counted"] - before["counted"] == 3
    assert after["reused"] == before["reused"]


@pytest.mark.gen_test(timeout=120)
async def test_search_looks_up_rare_words_and_stays_exact(fresh_dsn: str) -> None:
    """With statistics saying `chat` and `session` are in nearly every name, the index is asked for
    the term's rare words only; the answers stay exactly those of the full ILIKE pattern."""
    import psycopg2
    import psycopg2.extras

    from service.search import NameSample, index_pattern
    from tests.api.conftest import QUERIES, sql

    sql(
        fresh_dsn,
        "INSERT INTO ai.agno_sessions (session_id, session_type, session_data, created_at)"
        " SELECT 's' || g, 'agent', jsonb_build_object('session_name',"
        "   CASE WHEN g % 50 = 0 THEN 'Other ' || g ELSE 'Chat session ' || g END), g"
        " FROM generate_series(1, 2000) g",
    )
    sql(fresh_dsn, "ANALYZE ai.agno_sessions")
    conn = psycopg2.connect(fresh_dsn)
    with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        cur.execute(
            QUERIES.render("search_name_stats", ()),
            {"schema_name": "ai", "index_name": "idx_agno_sessions_session_name_trgm"},
        )
        sample = NameSample.from_stats(cur.fetchone())
    conn.close()
    assert index_pattern("chat session 1234", sample) == "%1234%"
    terms = ["chat session 1234", "Session 12", "chat%session 77", "other 1", "CHAT SESSION 250", "chat_session 5",
             "session 1999", "chat session 5 x", "chat session"]  # fmt: skip
    async with running_api({"AGNO_PG_DSN": fresh_dsn, "AGNO_MAX_PAGE_SIZE": "5000"}) as api:
        for term in terms:
            reply = await api.get("/sessions", session_name=term, limit="5000")
            expected = sql(
                fresh_dsn,
                "SELECT session_id FROM ai.agno_sessions"
                " WHERE coalesce(session_data ->> 'session_name', '') ILIKE %s ORDER BY created_at DESC",
                (f"%{term}%",),
            )
            assert reply.status == 200
            assert ids(reply) == [row[0] for row in expected], term
            assert reply.json["meta"]["total_count"] == len(expected)


def test_building_the_search_index_gathers_name_statistics(fresh_dsn: str) -> None:
    from tests.api.conftest import provision, sql

    sql(fresh_dsn, "DROP INDEX ai.idx_agno_sessions_session_name_trgm")
    sql(
        fresh_dsn,
        "INSERT INTO ai.agno_sessions (session_id, session_type, session_data, created_at)"
        " SELECT 's' || g, 'agent', jsonb_build_object('session_name', 'name ' || g), g FROM generate_series(1, 200) g",
    )
    stats = (
        "SELECT count(*) FROM pg_stats WHERE schemaname = 'ai' AND tablename = 'idx_agno_sessions_session_name_trgm'"
    )
    assert sql(fresh_dsn, stats) == [(0,)]
    provision(fresh_dsn)
    assert sql(fresh_dsn, stats) == [(1,)]
