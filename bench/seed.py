"""Bulk-load N sessions shaped exactly like agno's rows: templates written by agno, replicated in SQL.

Two datasets (`--dataset`, bench/README.md describes both):
- `simple`: one template session per kind (agent, team, workflow), 3 short runs each.
- `production`: 12 shapes per kind (1..60 runs, median 8; tool calls with results, reasoning, metrics,
  history messages, member runs under team runs, media references, session_state up to 20 KiB); a stored
  name on half the sessions (the other half derive it from the first user message) and a summary on a third.

1. `bench/agno_seed.py` (in `.venv-agentos`) creates agno's tables and writes the templates through agno's
   own `upsert_sessions` / `upsert_run`.
2. One `INSERT ... SELECT ... FROM generate_series` per table copies the template of each session's kind
   (and shape) N times, replacing the markers (ids, numbers, component, user, timestamps) in every text and
   JSON column; JSON is re-parsed as jsonb, so key order and types are agno's.
3. Check: agno writes real sessions of the same numbers into a scratch schema; their rows must equal the
   replicated rows, column by column (only the runs' `updated_at`, agno's "now", may differ). Then
   `VACUUM ANALYZE`.

Session i: kind ("agent", "agent", "team", "workflow")[i % 4] (50 / 25 / 25 %), created_at
1740000000 + i * 1000 (newest = highest i); id `bulk-<kind>-<i:06d>` (simple) or `prod-<kind>-<i:06d>`.

    .venv/bin/python -m bench.seed --dataset production --sessions 1000 --dsn postgresql://...   # seed a db
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2

from service.rows import SESSION_COLUMNS

HERE = Path(__file__).resolve().parent
BASE = 1740000000
CHECK_SCHEMA = "bench_check"
SHAPES = 12  # production shapes per kind (bench/agno_seed.py SHAPES)


@dataclass(frozen=True)
class Dataset:
    name: str
    prefix: str  # session ids: <prefix>-<kind>-<i:06d>
    check_numbers: tuple[int, ...]  # sessions agno writes for real and the check compares
    shape: str  # SQL: the template shape of session g.i
    session_data: str  # SQL: session_data of session g.i from the template's (`{}`)
    summary: str  # SQL: summary of session g.i from the template's (`{}`)

    def target(self, n: int) -> int:
        """An agent session in the middle of the data set: the one detail, runs and search read."""
        if self.name == "simple":
            i = n // 2
            return i - i % 4
        # agent (i % 4 == 0), shape 5 (8 runs, the median), named ((i // 48) even), summarised
        # ((i // 96) % 3 == 0): i = 288 c + 20
        return 288 * (n // 2 // 288) + 20

    def search_term(self, n: int) -> str:
        i = self.target(n)
        return f"agent session {i}" if self.name == "simple" else f"Support chat {i}"


DATASETS = {
    "simple": Dataset("simple", "bulk", (500, 502, 503), "0", "{}", "{}"),
    # every kind x named/unnamed x summarised/not, every shape, and the 60-run shape of each kind
    "production": Dataset(
        "production",
        "prod",
        (0, 5, 10, 15, 44, 46, 64, 69, 74, 79, 128, 133, 138, 143, 144, 149, 154, 159),
        "(g.i / 4) %% 12",
        "CASE WHEN (g.i / 48) %% 2 = 0 THEN {} ELSE {} - 'session_name' END",
        "CASE WHEN (g.i / 96) %% 3 = 0 THEN {} END",
    ),
}

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

# The marker substitution of bench/agno_seed.py; `$2` is the session number, `$3` its component number,
# `$4` its template shape (production templates carry `@S<shape>@` after `@SID@`).
TMPL = "bench_templates"  # scratch schema: the templates and the substitution, shared by the load's connections
SUBSTITUTE = f"""
CREATE FUNCTION {TMPL}.bench_sub(t text, i bigint, c bigint, k bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT replace(replace(replace(replace(replace(replace(t,
           '@S' || k || '@', ''),
           '@SID@', lpad(i::text, 6, '0')),
           '987654321', i::text),
           '@C@', c::text),
           '@U@', lpad((i %% 50)::text, 3, '0')),
           '1900000', ((%(base)s + i * 1000) / 1000)::text)
$$;
"""
COMPONENT = "CASE t.session_type WHEN 'agent' THEN g.i %% 5 WHEN 'team' THEN g.i %% 3 ELSE g.i %% 2 END"
KIND = "(ARRAY['agent', 'agent', 'team', 'workflow'])[g.i %% 4 + 1]"


def _expr(column: str, data_type: str, shift_updated: bool, ds: Dataset | None = None) -> str:
    ref = f"t.{column}"
    if data_type in TEXT_TYPES:
        return f"{TMPL}.bench_sub({ref}, g.i, {COMPONENT}, t.shape)"
    if data_type in JSON_TYPES:
        value = f"{TMPL}.bench_sub({ref}::text, g.i, {COMPONENT}, t.shape)::{data_type}"
        if ds is not None and column == "session_data":
            return ds.session_data.format(value, value)
        if ds is not None and column == "summary":
            return ds.summary.format(value)
        return value
    if column == "created_at" or (column == "updated_at" and shift_updated):
        return f"({ref} - 1900000000 + %(base)s + g.i * 1000)"
    return ref  # run_index, the runs' updated_at (agno's "now" at write time)


def _types(cur: Any, schema: str, table: str) -> dict[str, str]:
    cur.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
        (schema, table),
    )
    return dict(cur.fetchall())


def agno_seed(
    agentos_python: Path, url: str, dataset: str, schema: str = "ai", numbers: tuple[int, ...] = ()
) -> dict[str, Any]:
    cmd = [str(agentos_python), str(HERE / "agno_seed.py"), "--url", url, "--schema", schema, "--dataset", dataset]
    if numbers:
        cmd += ["--numbers", ",".join(map(str, numbers))]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def replicate(dsn: str, n: int, ds: Dataset, workers: int = 2) -> None:
    """Replace agno's rows by `n` copies of its templates, `workers` connections in parallel."""
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(f"DROP SCHEMA IF EXISTS {TMPL} CASCADE")
            cur.execute(f"CREATE SCHEMA {TMPL}")
            cur.execute(SUBSTITUTE, {"base": BASE})
            shape = "coalesce(substring(session_id from '@S([0-9]+)@')::int, 0) AS shape"
            cur.execute(f"CREATE UNLOGGED TABLE {TMPL}.s AS SELECT *, {shape} FROM ai.agno_sessions")
            cur.execute(
                f"CREATE UNLOGGED TABLE {TMPL}.r AS SELECT r.*, s.session_type, {shape} FROM ai.agno_runs r "
                "JOIN ai.agno_sessions s USING (session_id)"
            )
            shapes = SHAPES if ds.name == "production" else 1
            got = [r[0] for r in _fetch(cur, f"SELECT session_type FROM {TMPL}.s ORDER BY 1, shape")]
            if got != [k for k in ("agent", "team", "workflow") for _ in range(shapes)]:
                raise RuntimeError(f"expected {shapes} template session(s) per kind, got {got}")
            cur.execute("TRUNCATE ai.agno_sessions, ai.agno_runs CASCADE")
            # Bulk load: agno's secondary indexes are dropped and rebuilt from their own definitions
            # afterwards, and the foreign key's row triggers are skipped (the sessions come from the same
            # templates as their runs); both several times faster than row-by-row maintenance at 100k.
            indexes = [
                str(r[0])
                for r in _fetch(
                    cur,
                    "SELECT indexdef FROM pg_indexes WHERE schemaname = 'ai' "
                    "AND tablename IN ('agno_sessions', 'agno_runs') "
                    "AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE contype IN ('p', 'u'))",
                )
            ]
            for name in _fetch(
                cur,
                "SELECT indexname FROM pg_indexes WHERE schemaname = 'ai' AND indexdef = ANY(%s)",
                (indexes,),
            ):
                cur.execute(f'DROP INDEX ai."{name[0]}"')
            stypes, rtypes = _types(cur, "ai", "agno_sessions"), _types(cur, "ai", "agno_runs")
        # A nested loop over the series keeps the rows in session order (as agno writes them over time)
        # without sorting gigabytes: the templates of one session are picked and ordered per session.
        rows = (
            "FROM generate_series(%(lo)s, %(hi)s - 1) g(i) CROSS JOIN LATERAL (SELECT * FROM {table} t "
            f"WHERE t.session_type = {KIND} AND t.shape = {ds.shape} ORDER BY {{order}}) t"
        )
        statements = [
            f"INSERT INTO ai.agno_sessions ({', '.join(SESSION_COLUMNS)}) "
            f"SELECT {', '.join(_expr(c, stypes[c], True, ds) for c in SESSION_COLUMNS)} "
            + rows.format(table=f"{TMPL}.s", order="t.session_id"),
            f"INSERT INTO ai.agno_runs ({', '.join(RUN_COLUMNS)}) "
            f"SELECT {', '.join(_expr(c, rtypes[c], False) for c in RUN_COLUMNS)} "
            + rows.format(table=f"{TMPL}.r", order="t.run_index"),
        ]
        bounds = [n * k // workers for k in range(workers + 1)]
        _parallel(
            dsn,
            [
                [(sql, {"lo": lo, "hi": hi, "base": BASE}) for sql in statements]
                for lo, hi in itertools.pairwise(bounds)
            ],
        )
        _parallel(dsn, [[(sql, None) for sql in indexes[k::workers]] for k in range(workers)])
    finally:
        with conn, conn.cursor() as cur:
            cur.execute(f"DROP SCHEMA IF EXISTS {TMPL} CASCADE")
        conn.close()


def _parallel(dsn: str, jobs: list[list[tuple[str, Any]]]) -> None:
    """Run each job (statements in order, one transaction) on its own connection, all at once."""
    errors: list[BaseException] = []

    def work(job: list[tuple[str, Any]]) -> None:
        try:
            conn = psycopg2.connect(dsn)
            try:
                with conn, conn.cursor() as cur:
                    cur.execute("SET session_replication_role = replica")
                    cur.execute("SET maintenance_work_mem = '256MB'")
                    for sql, params in job:
                        cur.execute(sql, params)
            finally:
                conn.close()
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(job,)) for job in jobs if job]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def _fetch(cur: Any, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    cur.execute(sql, params)
    return list(cur.fetchall())


def _short(value: Any, limit: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


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
                        f"{table} {row_id}.{column}: agno {_short(row.get(column))} != replicated "
                        f"{_short(mine.get(column))}"
                    )
    return problems


def seed(agentos_python: Path, dsn: str, n: int, log: Any = print, dataset: str = "simple") -> dict[str, Any]:
    """Seed `n` sessions of `dataset` into the database at libpq URL `dsn`; returns facts for the report."""
    ds = DATASETS[dataset]
    numbers = tuple(i for i in ds.check_numbers if i < n)
    url = dsn.replace("postgresql://", "postgresql+psycopg://", 1)
    started = time.monotonic()
    agno_seed(agentos_python, url, dataset)
    replicate(dsn, n, ds, workers=max(1, min(4, os.cpu_count() or 1)))
    loaded = time.monotonic()
    conn = psycopg2.connect(dsn)
    agno_seed(agentos_python, url, dataset, CHECK_SCHEMA, numbers)
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
        counts = _fetch(
            cur,
            "SELECT (SELECT count(*) FROM ai.agno_sessions), (SELECT count(*) FROM ai.agno_runs), "
            "(SELECT count(*) FROM ai.agno_runs WHERE parent_run_id IS NULL), "
            "pg_database_size(current_database()), pg_size_pretty(pg_database_size(current_database()))",
        )[0]
        per_session = _fetch(
            cur,
            "SELECT min(c), percentile_disc(0.5) WITHIN GROUP (ORDER BY c), max(c) FROM "
            "(SELECT count(*) c FROM ai.agno_runs WHERE parent_run_id IS NULL GROUP BY session_id) x",
        )[0]
    conn.close()
    if problems:
        raise RuntimeError("replicated rows differ from agno's:\n  " + "\n  ".join(problems[:20]))
    facts = {
        "dataset": dataset,
        "sessions": counts[0],
        "runs": counts[1],
        "top_level_runs": counts[2],
        "runs_per_session": {"min": per_session[0], "median": per_session[1], "max": per_session[2]},
        "database_bytes": counts[3],
        "database_size": counts[4],
        "sizes": sizes,
        "load_seconds": round(loaded - started, 1),
        "total_seconds": round(time.monotonic() - started, 1),
        "check": f"rows of sessions {', '.join(map(str, numbers))} written by agno == replicated rows",
    }
    log(
        f"seeded {n} {dataset} sessions ({counts[1]} runs, {counts[2]} top-level, per session {per_session}) in "
        f"{facts['total_seconds']} s (database {counts[4]}, {sizes}); {facts['check']}"
    )
    return facts


def main(argv: list[str] | None = None) -> int:
    """Seed one database (a throwaway cluster of your own: the tables are truncated first)."""
    p = argparse.ArgumentParser(prog="python -m bench.seed", description=main.__doc__)
    p.add_argument("--dsn", required=True, help="libpq URL of the database (postgresql://...)")
    p.add_argument("--sessions", type=int, default=1000)
    p.add_argument("--dataset", choices=sorted(DATASETS), default="production")
    p.add_argument(
        "--agentos-python",
        type=Path,
        default=Path(os.environ.get("BENCH_AGENTOS_PYTHON", str(HERE.parent / ".venv-agentos" / "bin" / "python"))),
        help="python of the AgentOS venv (agno 3.1.10); default $BENCH_AGENTOS_PYTHON or .venv-agentos",
    )
    a = p.parse_args(argv)
    seed(a.agentos_python, a.dsn, a.sessions, dataset=a.dataset)
    return 0


if __name__ == "__main__":
    sys.exit(main())
