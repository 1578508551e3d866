"""Databases: one aiopg pool per db_id, AgentOS's db_id rules, table provisioning and inspection.

Pools are created with minsize 0, so the service starts (and reports not ready) while a database
is down, and serves as soon as it appears. Tables are provisioned (or inspected) on first use
per database and the result cached; a later schema change (e.g. AgentOS dropping the legacy
`runs` column) is picked up by `invalidate()` after an undefined-table/column error.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import aiopg
import psycopg2
import psycopg2.errors
import psycopg2.extensions
import psycopg2.extras

from service import connect, metrics, retry
from service.answers import AnswerCache
from service.config import Config
from service.counts import CountCache
from service.errors import (
    DatabaseNotFound,
    DatabaseUnavailable,
    DbIdRequired,
    ExpensiveBusy,
    PoolExhausted,
    StatementTimeout,
    TableNotFound,
    TablesMissing,
)
from service.jsonutil import loads
from service.queries import Queries, QueryError
from service.search import NameSample

log = logging.getLogger("agno_session.db")
T = TypeVar("T")

psycopg2.extras.register_default_jsonb(loads=loads, globally=True)
psycopg2.extras.register_default_json(loads=loads, globally=True)

APPLICATION_NAME = "agno-session"
"""The `application_name` of every connection (how operators and tests find its backends)."""
LARGE_ANSWERS = 2
"""Large pages being built at once per database and process (Database.expensive_slot)."""
NAME_STATS_MAX_AGE = 300.0
"""Seconds before the search's name statistics are read again (autovacuum refreshes them)."""

_PROVISION_STEPS = (
    "create_schema",
    "create_sessions_table",
    "create_sessions_indexes",
    "create_runs_table",
    "create_runs_indexes",
    "create_versions_table",
)
"""agno's tables and indexes, created in this order (each `IF NOT EXISTS`)."""

# Tables agno lets the `table` query parameter name (besides the sessions table), docs/agentos.md §3.
OTHER_TABLES = ("agno_memories", "agno_metrics", "agno_eval_runs", "agno_knowledge", "agno_learnings")


@dataclass(frozen=True)
class TableState:
    sessions_exists: bool
    runs_exists: bool
    has_legacy_runs: bool


class ConnectionLost(Exception):
    """A pooled connection died under a statement (the server restarted or dropped it)."""


class ReadOnlyServer(ConnectionLost):
    """A write met a read-only server (a standby, a demoted primary); its connection was closed."""


_CURSOR_KINDS: dict[str, tuple[str, ...]] = {"all": ("",), "one": ("^", "<!"), "value": ("$",), "run": ("!",)}
"""The query kinds (aiosql suffixes, service/queries.py) each Cursor method runs: the result it reads."""


class Cursor:
    """Runs named queries on one connection; rows come back as plain dicts. A query of another kind
    than the method expects raises QueryError before anything is sent."""

    def __init__(self, db: Database, cur: aiopg.Cursor) -> None:
        self._db = db
        self._cur = cur

    def _check_kind(self, method: str, name: str) -> None:
        kind = self._db._queries.get(name).kind
        if kind not in _CURSOR_KINDS[method]:
            raise QueryError(f"query {name!r} has kind {kind!r}; Cursor.{method} runs {_CURSOR_KINDS[method]}")

    async def _execute(self, method: str, name: str, params: dict[str, Any], fragments: dict[str, str]) -> None:
        self._check_kind(method, name)
        sql = self._db.sql(name, fragments)
        started = time.perf_counter()
        try:
            await self._cur.execute(sql, params)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling() == 0:
                metrics.DB_ERRORS.labels(self._db.db_id, "timeout").inc()
                raise StatementTimeout(name) from None
            raise
        except (psycopg2.OperationalError, psycopg2.InterfaceError):
            raise  # connection-level (incl. QueryCanceledError): mapped and counted by Database.cursor()
        except (psycopg2.errors.UndefinedTable, psycopg2.errors.UndefinedColumn):
            metrics.DB_ERRORS.labels(self._db.db_id, "query").inc()
            self._db.invalidate()
            raise
        except psycopg2.Error:
            metrics.DB_ERRORS.labels(self._db.db_id, "query").inc()
            raise
        finally:
            metrics.DB_QUERY_DURATION.labels(self._db.db_id, name).observe(time.perf_counter() - started)

    def _rows(self, raw: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
        columns = [column.name for column in self._cur.description or ()]
        return [dict(zip(columns, row, strict=True)) for row in raw]

    async def all(self, name: str, params: dict[str, Any], **fragments: str) -> list[dict[str, Any]]:
        await self._execute("all", name, params, fragments)
        return self._rows(await self._cur.fetchall())

    async def one(self, name: str, params: dict[str, Any], **fragments: str) -> dict[str, Any] | None:
        await self._execute("one", name, params, fragments)
        row = await self._cur.fetchone()
        return None if row is None else self._rows([row])[0]

    async def value(self, name: str, params: dict[str, Any], **fragments: str) -> Any:
        await self._execute("value", name, params, fragments)
        row = await self._cur.fetchone()
        return None if row is None else row[0]

    async def run(self, name: str, params: dict[str, Any], **fragments: str) -> int:
        await self._execute("run", name, params, fragments)
        return int(self._cur.rowcount)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        async with self._cur.begin():
            yield


class Database:
    """One configured database: its pool, its table state and its rendered queries."""

    def __init__(self, db_id: str, dsn: str, config: Config, queries: Queries) -> None:
        self.db_id = db_id
        self._dsn = dsn
        self._config = config
        self._queries = queries
        self._pool: aiopg.Pool | None = None
        self._gate = asyncio.Semaphore(config.pool_max_size)
        self._expensive_gate = asyncio.Semaphore(config.expensive_concurrency)
        self._large_gate = asyncio.Semaphore(LARGE_ANSWERS)
        self._sql_cache: dict[tuple[str, tuple[tuple[str, str], ...]], str] = {}
        self._ping_conn: aiopg.Connection | None = None
        self._ping_lock = asyncio.Lock()
        self._pool_lock = asyncio.Lock()
        self._state: TableState | None = None
        self._state_lock = asyncio.Lock()
        self.count_cache = CountCache(db_id, config.count_cache_size)
        self.answer_cache = AnswerCache(db_id, config.answer_cache_bytes)
        self._name_sample: NameSample | None = None
        self._name_sample_read_at: float | None = None
        schema, sessions, runs = config.db_schema, config.session_table, config.runs_table
        self._names = {"schema": schema, "sessions": sessions, "runs": runs}
        self._identifiers = {
            "schema": _quote(schema),
            "sessions": f"{_quote(schema)}.{_quote(sessions)}",
            "runs": f"{_quote(schema)}.{_quote(runs)}",
            "versions": f"{_quote(schema)}.{_quote('agno_schema_versions')}",
            "service_accounts": f"{_quote(schema)}.{_quote(config.auth.service_accounts_table)}",
            "sessions_name": sessions,
            "runs_name": runs,
        }
        self._search_index = f"idx_{sessions}_session_name_trgm"[:63]  # PostgreSQL truncates names to 63 bytes

    # ------------------------------------------------------------------ pool
    async def pool(self) -> aiopg.Pool:
        if self._pool is None:
            async with self._pool_lock:
                if self._pool is None:
                    cfg = self._config
                    # connections that follow libpq from host to host (multi-host DSNs: service/connect.py)
                    self._pool = await connect.create_pool(
                        self._dsn,
                        minsize=cfg.pool_min_size,
                        maxsize=cfg.pool_max_size,
                        timeout=cfg.request_timeout + 5,
                        enable_hstore=False,
                        enable_json=False,  # aiopg's would replace the ujson typecaster registered above
                        pool_recycle=300,
                        **self._connect_options(),
                    )
        return self._pool

    def _connect_options(self) -> dict[str, Any]:
        """Server-side limits for every connection: a statement timeout, and a backend that stops
        soon after its client went away (a cancelled request's query does not run on)."""
        return {
            "options": (
                f"-c statement_timeout={int(self._config.statement_timeout * 1000)} "
                "-c client_connection_check_interval=100 "
                "-c idle_in_transaction_session_timeout=60000"
            ),
            "application_name": APPLICATION_NAME,
        }

    def pool_stats(self) -> tuple[int, int, int]:
        """(in_use, idle, max) connections of the pool."""
        if self._pool is None:
            return 0, 0, self._config.pool_max_size
        size, free = self._pool.size, self._pool.freesize
        return size - free, free, self._config.pool_max_size

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[aiopg.Connection]:
        """A pooled connection, waited for in arrival order (aiopg's own wait lets a newcomer take a
        freed connection before an older waiter, which stretches tail latency under load)."""
        pool = await self.pool()
        try:
            async with asyncio.timeout(self._config.pool_timeout):
                await self._gate.acquire()
                try:
                    conn = await pool.acquire()
                except BaseException:
                    self._gate.release()
                    raise
        except TimeoutError:
            raise PoolExhausted(self.db_id) from None
        except (psycopg2.OperationalError, OSError) as exc:
            metrics.DB_ERRORS.labels(self.db_id, "connection").inc()
            raise DatabaseUnavailable(self.db_id) from exc
        try:
            yield conn
        finally:
            pool.release(conn)
            self._gate.release()

    def list_timeout(self, expensive: bool) -> float:
        """The statement timeout of a list: an expensive one's own (AGNO_EXPENSIVE_TIMEOUT) or the usual one."""
        return self._config.expensive_timeout if expensive else self._config.statement_timeout

    @asynccontextmanager
    async def expensive_slot(self, expensive: bool, large: bool = False) -> AsyncIterator[None]:
        """Places in the bulkheads of expensive requests. Name searches and large pages: at most
        AGNO_EXPENSIVE_CONCURRENCY per database, so they never hold the whole pool and ordinary
        requests always find a connection. Large pages also: at most LARGE_ANSWERS being built at
        once (each holds its rows and its encoded answer in memory)."""
        gates = [gate for gate, wanted in ((self._large_gate, large), (self._expensive_gate, expensive)) if wanted]
        taken: list[asyncio.Semaphore] = []
        try:
            for gate in gates:
                await self._enter(gate)
                taken.append(gate)
            yield
        finally:
            for gate in taken:
                gate.release()

    async def _enter(self, gate: asyncio.Semaphore) -> None:
        try:
            if gate.locked():
                async with asyncio.timeout(self._config.pool_timeout):
                    await gate.acquire()
            else:
                await gate.acquire()  # free: returns at once
        except TimeoutError:
            metrics.HTTP_REJECTED.labels("expensive_busy").inc()
            raise ExpensiveBusy from None

    @asynccontextmanager
    async def cursor(self) -> AsyncIterator[Cursor]:
        """A cursor on a pooled connection. Connection-level errors of anything run on it (statements,
        BEGIN, COMMIT) become ConnectionLost or StatementTimeout here, never a bare psycopg2 error (a 500)."""
        async with self._connection() as conn:
            try:
                async with conn.cursor() as cur:
                    yield Cursor(self, cur)
            except psycopg2.extensions.QueryCanceledError:
                metrics.DB_ERRORS.labels(self.db_id, "timeout").inc()
                raise StatementTimeout("statement") from None
            except psycopg2.errors.ReadOnlySqlTransaction as exc:
                # a connection on a read-only server (a standby, a demoted primary): nothing was
                # written; the pool drops it, so the next attempt connects afresh (libpq's
                # target_session_attrs=read-write then picks the primary)
                metrics.DB_ERRORS.labels(self.db_id, "connection").inc()
                await conn.close()
                raise ReadOnlyServer(str(exc)) from exc
            except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
                metrics.DB_ERRORS.labels(self.db_id, "connection").inc()
                raise ConnectionLost(str(exc)) from exc

    async def read(self, work: Callable[[Cursor], Awaitable[T]], budget: retry.Budget | None = None) -> T:
        """Run an idempotent read. While the database is unreachable or the connection dies under
        it (a restart, a failover) it is tried again on a fresh connection, with backoff, for up
        to AGNO_POOL_TIMEOUT (service/retry.py); then DatabaseUnavailable (503)."""
        budget = budget or retry.Budget(self._config.pool_timeout)
        while True:
            try:
                await self.tables()
                async with self.cursor() as cur:
                    return await work(cur)
            except (ConnectionLost, DatabaseUnavailable) as exc:
                if not await budget.wait():
                    raise DatabaseUnavailable(self.db_id) from exc
                metrics.DB_RETRIES.labels(self.db_id, "read").inc()
                _log_retry(budget, "db %s unreachable during a read (%s); retry %d", self.db_id, _reason(exc))

    async def write(
        self,
        work: Callable[[Cursor], Awaitable[T]],
        verify: Callable[[Cursor], Awaitable[tuple[bool, T]]] | None = None,
    ) -> T:
        """Run a write in one transaction; needs the sessions table (not the runs table: agno writes
        the sessions of a 2.x database that has none, and so do we). Never lost, never doubled
        (docs/reliability.md §1): when the COMMIT went unanswered, `verify` reads the write back
        ((True, answer) when stored, (False, _) when not, and only then is it tried again); without
        `verify` such a write answers 503."""
        budget = retry.Budget(self._config.pool_timeout)
        while True:
            committing = False
            try:
                state = await self.tables()
                if not state.sessions_exists:
                    raise TablesMissing(self.db_id)
                async with self.cursor() as cur:
                    async with cur.transaction():
                        result = await work(cur)
                        committing = True  # leaving the block sends COMMIT
                    return result
            except (ConnectionLost, DatabaseUnavailable) as exc:
                if committing:
                    if verify is None:
                        raise DatabaseUnavailable(self.db_id) from exc
                    metrics.DB_RETRIES.labels(self.db_id, "readback").inc()
                    log.warning("db %s: COMMIT unanswered (%s); reading the write back", self.db_id, _reason(exc))
                    stored, answer = await self.read(verify, budget)
                    if stored:
                        return answer
                if not await budget.wait():
                    raise DatabaseUnavailable(self.db_id) from exc
                metrics.DB_RETRIES.labels(self.db_id, "write").inc()
                _log_retry(budget, "db %s unreachable during a write (%s); retry %d", self.db_id, _reason(exc))

    # ------------------------------------------------------------------ tables
    def invalidate(self) -> None:
        self._state = None
        self._sql_cache.clear()
        self.count_cache.clear()
        self.answer_cache.clear()
        self._name_sample_read_at = None

    async def tables(self) -> TableState:
        """Provision agno's tables when allowed (once), then inspect them (cached)."""
        if self._state is not None:
            return self._state
        async with self._state_lock:
            if self._state is None:
                try:
                    if self._config.auto_provision:
                        try:
                            await self._provision()
                        except (psycopg2.errors.InsufficientPrivilege, ReadOnlyServer) as exc:
                            # e.g. a read-only role on a database AgentOS provisioned: use what exists
                            log.warning("db %s: cannot provision tables (%s); using them as they are", self.db_id, exc)
                    async with self.cursor() as cur:
                        row = await cur.one("inspect_tables", self._inspect_params())
                except ConnectionLost as exc:
                    raise DatabaseUnavailable(self.db_id) from exc
                assert row is not None
                self._state = TableState(
                    bool(row["sessions_exists"]), bool(row["runs_exists"]), bool(row["has_legacy_runs"])
                )
            return self._state

    def _inspect_params(self) -> dict[str, Any]:
        names = self._names
        return {
            "sessions_regclass": self._identifiers["sessions"],
            "runs_regclass": self._identifiers["runs"],
            "schema_name": names["schema"],
            "sessions_name": names["sessions"],
        }

    async def _provision(self) -> None:
        now_iso = datetime.now().isoformat()
        async with self.cursor() as cur, cur.transaction():
            await cur.run("provision_lock", {"schema_name": self._names["schema"]})
            before = await cur.one("inspect_tables", self._inspect_params())
            assert before is not None
            for schema_step in _PROVISION_STEPS:
                await cur.run(schema_step, {})
            created = [self._names[table] for table in ("sessions", "runs") if not before[f"{table}_exists"]]
            for table in created:
                await cur.run("record_table_version", {"table_name": table, "now_iso": now_iso})
        if created:
            log.info("db %s: created tables %s", self.db_id, ", ".join(created))
        index_regclass = f"{self._identifiers['schema']}.{_quote(self._search_index)}"
        try:
            async with self.cursor() as cur, cur.transaction():
                await cur.run("provision_lock", {"schema_name": self._names["schema"]})
                existed = await cur.value("relation_exists", {"regclass": index_regclass})
                await cur.run("create_search_extension", {})
                await cur.run("create_search_index", {})
                if not existed:
                    await cur.run("analyze_sessions", {})
        except psycopg2.Error as exc:
            # optional: without it the name search scans the table, as in AgentOS
            log.warning("db %s: session_name search index not created: %s", self.db_id, exc)

    async def name_sample(self, cur: Cursor) -> NameSample | None:
        """PostgreSQL's sample of the stored names (search.index_pattern), read again every few minutes."""
        now = time.monotonic()
        if self._name_sample_read_at is None or now - self._name_sample_read_at > NAME_STATS_MAX_AGE:
            row = await cur.one(
                "search_name_stats", {"schema_name": self._names["schema"], "index_name": self._search_index}
            )
            self._name_sample = NameSample.from_stats(row)
            self._name_sample_read_at = now
        return self._name_sample

    @property
    def has_legacy_runs(self) -> bool:
        """Whether the sessions table still has agno 2.x's `runs` column (from the cached inspection)."""
        return self._state is not None and self._state.has_legacy_runs

    @property
    def has_runs_table(self) -> bool:
        """Whether the runs table exists (from the cached inspection; assumed before the first one)."""
        return self._state is None or self._state.runs_exists

    def fragments(self) -> dict[str, str]:
        """Placeholder values for this database's queries, from the cached table state."""
        state = self._state or TableState(True, True, False)
        values = dict(self._identifiers)
        if not state.sessions_exists:
            values["sessions"] = self._queries.fragment("empty_sessions")
        if not state.runs_exists:
            values["runs"] = self._queries.fragment("empty_runs")
        values["legacy_runs"] = self._queries.fragment(
            "legacy_runs_column" if state.has_legacy_runs else "no_legacy_runs"
        )
        values["snapshot_identity"] = self._queries.fragment("snapshot_identity")
        return values

    def fragment(self, name: str, **values: str) -> str:
        """A named SQL fragment (`Queries.fragment`) for a `{{placeholder}}` of another query."""
        return self._queries.fragment(name, **values)

    def sql(self, name: str, extra: dict[str, str]) -> str:
        key = (name, tuple(extra.items()))
        cached = self._sql_cache.get(key)
        if cached is None:
            values = self.fragments()
            values.update(extra)
            wanted = self._queries.get(name).placeholders
            cached = self._queries.render(name, tuple(sorted((k, v) for k, v in values.items() if k in wanted)))
            if self._state is not None:
                self._sql_cache[key] = cached
        return cached

    async def service_account(self, token_hash: str) -> dict[str, Any] | None:
        """The `agno_service_accounts` row of a token's hash (docs/security.md); None when there is
        none or the table does not exist (AgentOS creates it; a database it never served has none)."""
        regclass = self._regclass(self._config.auth.service_accounts_table)

        async def lookup(cur: Cursor) -> dict[str, Any] | None:
            if not await cur.value("relation_exists", {"regclass": regclass}):
                return None
            return await cur.one("service_account_by_token_hash", {"token_hash": token_hash})

        return await self.read(lookup)

    async def table_exists(self, table: str) -> bool:
        regclass = self._regclass(table)
        return bool(await self.read(lambda cur: cur.value("relation_exists", {"regclass": regclass})))

    def _regclass(self, table: str) -> str:
        return f"{_quote(self._names['schema'])}.{_quote(table)}"

    def table_names(self) -> tuple[str, ...]:
        """Table names the `table` query parameter may name for this database."""
        return (self._names["sessions"], *OTHER_TABLES)

    # ------------------------------------------------------------------ health
    async def ping(self, timeout: float = 1.0) -> bool:
        """Readiness: `SELECT 1` within `timeout` on a connection of its own, so a pool that is merely
        busy (overload answers 503 by itself) does not make every replica unready at once."""
        ok = False
        try:
            async with asyncio.timeout(timeout):
                # one probe at a time on the shared connection (start-up warm-up and /readyz overlap)
                async with self._ping_lock:
                    try:
                        if self._ping_conn is None or self._ping_conn.closed:
                            self._ping_conn = await connect.connect(
                                self._dsn, enable_hstore=False, enable_json=False, **self._connect_options()
                            )
                        async with self._ping_conn.cursor() as cur:
                            await Cursor(self, cur).value("ping", {})
                        ok = True
                    finally:
                        if not ok:
                            await self._close_ping_connection()
        except (TimeoutError, ConnectionLost, StatementTimeout, psycopg2.Error, OSError):
            ok = False
        metrics.DB_READY.labels(self.db_id).set(1 if ok else 0)
        return ok

    async def _close_ping_connection(self) -> None:
        if self._ping_conn is not None:
            await self._ping_conn.close()
            self._ping_conn = None

    async def close(self, timeout: float = 5.0) -> None:
        await self._close_ping_connection()
        if self._pool is not None:
            self._pool.close()
            try:
                async with asyncio.timeout(timeout):
                    await self._pool.wait_closed()
            except TimeoutError:
                # aiopg does not wake `wait_closed` for a connection given back closed (a cancelled query)
                log.warning("db %s: pool did not close within %.0fs; terminating it", self.db_id, timeout)
                self._pool.terminate()


def _log_retry(budget: retry.Budget, message: str, db_id: str, reason: str) -> None:
    # a warning for a request's first retry only: an outage would otherwise log every backoff step
    level = logging.WARNING if budget.retries == 1 else logging.DEBUG
    log.log(level, message, db_id, reason, budget.retries)


def _reason(exc: BaseException) -> str:
    cause = exc.__cause__ or exc
    return f"{type(cause).__name__}: {str(cause).strip().splitlines()[0] if str(cause).strip() else ''}"


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


class Databases:
    """The registry of configured databases with AgentOS's `db_id`/`table` rules (docs/agentos.md §3)."""

    def __init__(self, config: Config, queries: Queries) -> None:
        self._config = config
        self._by_id = {db_id: Database(db_id, dsn, config, queries) for db_id, dsn in config.dsn_map}

    def __iter__(self) -> Any:
        return iter(self._by_id.values())

    def ids(self) -> list[str]:
        return list(self._by_id)

    def default(self) -> Database:
        """The database of requests that name none (the first configured when db_id is required)."""
        return self._by_id[self._config.default_db_id or self._config.db_ids[0]]

    async def resolve(self, db_id: str | None, table: str | None = None) -> Database:
        # agno's get_db tests both for truth: an empty `db_id=` or `table=` is the same as none
        db_id, table = db_id or None, table or None
        if table is not None and db_id is None:
            raise DbIdRequired(for_table=True)
        if db_id is not None:
            database = self._by_id.get(db_id)
            if database is None:
                raise DatabaseNotFound(db_id)
            if table is not None and not (table in database.table_names() and await database.table_exists(table)):
                raise TableNotFound(db_id, table)
            return database
        default = self._config.default_db_id
        if default is None:
            raise DbIdRequired(for_table=False)
        return self._by_id[default]

    async def close(self) -> None:
        await asyncio.gather(*(database.close() for database in self._by_id.values()))

    def update_pool_metrics(self) -> None:
        for database in self._by_id.values():
            in_use, idle, maximum = database.pool_stats()
            metrics.DB_POOL_CONNECTIONS.labels(database.db_id, "in_use").set(in_use)
            metrics.DB_POOL_CONNECTIONS.labels(database.db_id, "idle").set(idle)
            metrics.DB_POOL_CONNECTIONS.labels(database.db_id, "max").set(maximum)
