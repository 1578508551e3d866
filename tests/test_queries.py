"""The named-query loader (aiosql file format) and the SQL files it loads at start-up."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from service.queries import Queries, QueryError, parse_sql_file, to_pyformat
from service.store import order_by_clause


def test_to_pyformat_keeps_casts_quotes_and_escapes_percent() -> None:
    sql = "SELECT :a::text, ':not_a_param', \"x:y\", '{session_name}', 5 % 2 FROM t WHERE c = :b_2"
    assert to_pyformat(sql) == (
        "SELECT %(a)s::text, ':not_a_param', \"x:y\", '{session_name}', 5 %% 2 FROM t WHERE c = %(b_2)s"
    )


def test_parse_blocks_with_docstrings_and_suffixes() -> None:
    text = "-- header\n-- name: one^\n-- Doc line.\nSELECT 1\nWHERE x = :x;\n\n-- name: two!\nDELETE FROM t;\n"
    first, second = parse_sql_file(text, "f.sql")
    assert (first.name, first.kind, first.doc, first.sql) == ("one", "^", "Doc line.", "SELECT 1\nWHERE x = %(x)s;")
    assert (second.name, second.kind) == ("two", "!")


def test_duplicates_unknown_names_and_missing_placeholders_fail(tmp_path: Path) -> None:
    (tmp_path / "a.sql").write_text("-- name: q\nSELECT {{table}};\n")
    (tmp_path / "b.sql").write_text("-- name: q\nSELECT 2;\n")
    with pytest.raises(QueryError, match="duplicate query name 'q'"):
        Queries.load(tmp_path)
    (tmp_path / "b.sql").unlink()
    queries = Queries.load(tmp_path)
    with pytest.raises(QueryError, match="unknown query"):
        queries.get("nope")
    with pytest.raises(QueryError, match="needs placeholders"):
        queries.render("q", ())
    assert queries.render("q", (("table", '"ai"."t"'),)) == 'SELECT "ai"."t";'
    with pytest.raises(QueryError, match="no SQL"):
        parse_sql_file("-- name: empty\n-- only a comment\n", "c.sql")


def test_project_sql_files_load_and_no_sql_lives_in_python() -> None:
    queries = Queries.load()
    assert {"get_session", "list_sessions", "rename_session", "delete_sessions", "ping", "inspect_tables"} <= set(
        queries.names()
    )
    package = Path(__file__).resolve().parent.parent / "service"
    for path in package.rglob("*.py"):
        if path.parent.name == "dev":  # development-only tooling (the throwaway cluster's admin SQL)
            continue
        # handlers: no SQL in any case; elsewhere SQL keywords are upper case, prose ("delete from") is not
        source = path.read_text().upper() if path.parent.name == "handlers" else path.read_text()
        for statement in (
            r"\bSELECT\b.+\bFROM\b",
            r"\bSELECT\s+NULL\b",
            r"\bINSERT\s+INTO\b",
            r"\bDELETE\s+FROM\b",
            r"\bUPDATE\s+\S+\s+SET\b",
            r"\bSET\s+LOCAL\b",
            r"\bORDER\s+BY\b",
            r"\bFOR\s+(NO\s+KEY\s+)?(UPDATE|SHARE)\b",
            r"\bNULL::",
            r"(?i)\bcoalesce\(\w+\.\w+",
        ):
            assert not re.search(statement, source), (path.name, statement)


def test_fragments_are_plain_sql_for_placeholders() -> None:
    queries = Queries.load()
    assert queries.fragment("search_planner_hint") == "SET LOCAL enable_seqscan = off;"
    assert queries.fragment("empty_runs").startswith("(SELECT NULL::varchar AS run_id")
    with pytest.raises(QueryError):
        queries.fragment("get_session")  # has parameters


def test_sort_lock_and_legacy_fragments_render_the_whitelisted_clauses() -> None:
    queries = Queries.load()
    fragment = queries.fragment
    assert order_by_clause(fragment, "created_at", "desc") == "ORDER BY s.created_at DESC"
    assert order_by_clause(fragment, "session_type", "asc") == "ORDER BY s.session_type ASC"
    assert order_by_clause(fragment, "updated_at", "asc") == "ORDER BY coalesce(s.updated_at, s.created_at) ASC"
    assert order_by_clause(fragment, "runs", "desc", legacy_runs=True) == "ORDER BY s.legacy_runs DESC"
    assert order_by_clause(fragment, "runs", "desc") == ""
    assert order_by_clause(fragment, "s.session_id; DROP", "asc") == ""
    assert fragment("lock_session_row") == "FOR UPDATE OF s"
    assert (fragment("legacy_runs_column"), fragment("no_legacy_runs")) == ("s.runs", "NULL::jsonb")
    with pytest.raises(QueryError, match="not a fragment taking"):
        fragment("sort_asc")  # its {{sort_key}} must be given
    with pytest.raises(QueryError, match="not a fragment taking"):
        fragment("lock_session_row", column="x")
