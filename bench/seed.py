"""Bulk-load N sessions shaped exactly like agno's rows: templates written by agno, replicated in SQL.

1. `bench/agno_seed.py` (in `.venv-agentos`) creates agno's tables and writes one template session per
   kind (agent, team, workflow; 3 runs each) through agno's own `upsert_sessions` / `upsert_run`.
2. One `INSERT ... SELECT ... FROM generate_series` per table copies the template of each session's kind
   N times, replacing the markers (ids, numbers, component, user, timestamps) in every text and JSON
   column; JSON is re-parsed as jsonb, so key order and types are agno's.
3. Check: agno writes three real sessions (one per kind) into a scratch schema; their rows must equal the
   replicated rows of the same numbers, column by column (only the runs' `updated_at`, agno's "now", may
   differ). Then `VACUUM ANALYZE`.

Session i: kind ("agent", "agent", "team", "workflow")[i % 4] (50 / 25 / 25 %), id `bulk-<kind>-<i:06d>`,
created_at 1740000000 + i * 1000 (newest = highest i), 3 runs 60 s apart.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import psycopg2

from service.rows import SESSION_COLUMNS

HERE = Path(__file__).resolve().parent
BASE = 1740000000
CHECK_NUMBERS = (500, 502, 503)  # agent, team, workflow
CHECK_SCHEMA = "bench_check"

RUN_COLUMNS = [
    "run_id",
    "session_id",
    "run_type",
    "agent_id",
    "team_id",
    "workflow_id",
    "user_id",
    "parent_run_id",
    "status",
    "run_index",
    "run_data",
    "created_at",
    "updated_at",
]
TEXT_TYPES = {"character varying", "text"}
JSON_TYPES = {"jsonb", "json"}

# The marker substitution of bench/agno_seed.py; `$2` is the session number, `$3` its component number.
SUBSTITUTE = """
CREATE FUNCTION pg_temp.bench_sub(t text, i bigint, c bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT replace(replace(replace(replace(replace(t,
           '@SID@', lpad(i::text, 6, '0')),
           '987654321', i::text),
           '@C@', c::text),
           '@U@', lpad((i %% 50)::text, 3, '0')),
           '1900000', ((%(base)s + i * 1000) / 1000)::text)
$$;
"""
COMPONENT = "CASE t.session_type WHEN 'agent' THEN g.i %% 5 WHEN 'team' THEN g.i %% 3 ELSE g.i %% 2 END"
KIND = "(ARRAY['agent', 'agent', 'team', 'workflow'])[g.i %% 4 + 1]"


def _expr(column: str, data_type: str, shift_updated: bool) -> str:
    ref = f"t.{column}"
    if data_type in TEXT_TYPES:
        return f"pg_temp.bench_sub({ref}, g.i, {COMPONENT})"
    if data_type in JSON_TYPES:
        return f"pg_temp.bench_sub({ref}::text, g.i, {COMPONENT})::{data_type}"
    if column == "created_at" or (column == "updated_at" and shift_updated):
        return f"({ref} - 1900000000 + %(base)s + g.i * 1000)"
    return ref  # run_index, the runs' updated_at (agno's "now" at write time)


def _types(cur: Any, schema: str, table: str) -> dict[str, str]:
    cur.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
        (schema, table),
    )
    return dict(cur.fetchall())


def agno_seed(agentos_python: Path, url: str, schema: str = "ai", numbers: tuple[int, ...] = ()) -> dict[str, Any]:
    cmd = [str(agentos_python), str(HERE / "agno_seed.py"), "--url", url, "--schema", schema]
    if numbers:
        cmd += ["--numbers", ",".join(map(str, numbers))]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def replicate(cur: Any, n: int) -> None:
    cur.execute(SUBSTITUTE, {"base": BASE})
    cur.execute("CREATE TEMP TABLE tmpl_s AS SELECT * FROM ai.agno_sessions")
    cur.execute(
        "CREATE TEMP TABLE tmpl_r AS SELECT r.*, s.session_type FROM ai.agno_runs r "
        "JOIN ai.agno_sessions s USING (session_id)"
    )
    if [r[0] for r in _fetch(cur, "SELECT session_type FROM tmpl_s ORDER BY 1")] != ["agent", "team", "workflow"]:
        raise RuntimeError("expected exactly one template session per kind")
    cur.execute("TRUNCATE ai.agno_sessions, ai.agno_runs CASCADE")
    stypes = _types(cur, "ai", "agno_sessions")
    cols = ", ".join(SESSION_COLUMNS)
    exprs = ", ".join(_expr(c, stypes[c], True) for c in SESSION_COLUMNS)
    cur.execute(
        f"INSERT INTO ai.agno_sessions ({cols}) SELECT {exprs} "
        f"FROM generate_series(0, %(n)s - 1) g(i) JOIN tmpl_s t ON t.session_type = {KIND} ORDER BY g.i",
        {"n": n, "base": BASE},
    )
    rtypes = _types(cur, "ai", "agno_runs")
    cols = ", ".join(RUN_COLUMNS)
    exprs = ", ".join(_expr(c, rtypes[c], False) for c in RUN_COLUMNS)
    cur.execute(
        f"INSERT INTO ai.agno_runs ({cols}) SELECT {exprs} "
        f"FROM generate_series(0, %(n)s - 1) g(i) JOIN tmpl_r t ON t.session_type = {KIND} ORDER BY g.i, t.run_index",
        {"n": n, "base": BASE},
    )


def _fetch(cur: Any, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    cur.execute(sql, params)
    return list(cur.fetchall())


def check(cur: Any) -> list[str]:
    """Differences between agno's own rows (scratch schema) and the replicated rows of the same sessions."""
    problems: list[str] = []
    for table, key, skip in (("agno_sessions", "session_id", set()), ("agno_runs", "run_id", {"updated_at"})):
        theirs = {r[0]: r[1] for r in _fetch(cur, f"SELECT {key}, to_jsonb(x) FROM {CHECK_SCHEMA}.{table} x")}
        ours = {
            r[0]: r[1]
            for r in _fetch(cur, f"SELECT {key}, to_jsonb(x) FROM ai.{table} x WHERE {key} = ANY(%s)", (list(theirs),))
        }
        if not theirs:
            problems.append(f"{table}: agno wrote no check rows")
        for row_id, row in theirs.items():
            mine = ours.get(row_id)
            if mine is None:
                problems.append(f"{table} {row_id}: missing from the replicated rows")
                continue
            for column in sorted(set(row) | set(mine)):
                if column not in skip and row.get(column) != mine.get(column):
                    problems.append(
                        f"{table} {row_id}.{column}: agno {row.get(column)!r} != replicated {mine.get(column)!r}"
                    )
    return problems


def seed(agentos_python: Path, dsn: str, n: int, log: Any = print) -> dict[str, Any]:
    """Seed `n` sessions into the database at libpq URL `dsn`; returns facts for the report."""
    url = dsn.replace("postgresql://", "postgresql+psycopg://", 1)
    started = time.monotonic()
    agno_seed(agentos_python, url)
    conn = psycopg2.connect(dsn)
    conn.autocommit = False
    with conn, conn.cursor() as cur:
        replicate(cur, n)
    loaded = time.monotonic()
    agno_seed(agentos_python, url, CHECK_SCHEMA, CHECK_NUMBERS)
    conn.autocommit = True
    with conn.cursor() as cur:
        problems = check(cur)
        cur.execute(f"DROP SCHEMA {CHECK_SCHEMA} CASCADE")
        cur.execute("VACUUM ANALYZE ai.agno_sessions")
        cur.execute("VACUUM ANALYZE ai.agno_runs")
        sizes = dict(
            _fetch(
                cur,
                "SELECT c, pg_size_pretty(pg_total_relation_size(('ai.' || c)::regclass)) "
                "FROM unnest(ARRAY['agno_sessions', 'agno_runs']) c",
            )
        )
        counts = _fetch(cur, "SELECT (SELECT count(*) FROM ai.agno_sessions), (SELECT count(*) FROM ai.agno_runs)")[0]
    conn.close()
    if problems:
        raise RuntimeError("replicated rows differ from agno's:\n  " + "\n  ".join(problems[:20]))
    facts = {
        "sessions": counts[0],
        "runs": counts[1],
        "sizes": sizes,
        "load_seconds": round(loaded - started, 1),
        "total_seconds": round(time.monotonic() - started, 1),
        "check": f"rows of sessions {', '.join(map(str, CHECK_NUMBERS))} written by agno == replicated rows",
    }
    log(f"seeded {n} sessions in {facts['total_seconds']} s ({sizes}); {facts['check']}")
    return facts
