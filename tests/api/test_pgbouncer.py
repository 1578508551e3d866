"""The second run of the API tests goes through PgBouncer in transaction pooling mode.

`make test` runs tests/api twice: directly, and with `TEST_VIA_PGBOUNCER=1`, where every DSN the
fixtures hand out points at PgBouncer (tests/pgbouncer.py, docs/rollout.md §6). This test proves
the second run really did: PgBouncer's admin console shows transaction pooling, the dropped
`options`, and the transactions the API's requests ran through it.
"""

from __future__ import annotations

import contextlib
from typing import Any

import psycopg2
import pytest

from .conftest import running_api


def admin_rows(admin_dsn: str, command: str) -> list[dict[str, Any]]:
    conn = psycopg2.connect(admin_dsn)
    conn.autocommit = True
    with contextlib.closing(conn), conn.cursor() as cur:
        cur.execute(command)
        columns = [c.name for c in cur.description or ()]
        return [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]


@pytest.mark.gen_test(timeout=60)
async def test_api_runs_through_pgbouncer_in_transaction_mode(pg_cluster: Any, fresh_dsn: str) -> None:
    bouncer = pg_cluster.bouncer
    if bouncer is None:
        pytest.skip("the direct run; `TEST_VIA_PGBOUNCER=1` (the second run of `make test`) goes through PgBouncer")
    params = psycopg2.extensions.parse_dsn(fresh_dsn)
    assert int(params["port"]) == bouncer.port
    config = {row["key"]: row["value"] for row in admin_rows(bouncer.admin_dsn(), "SHOW CONFIG")}
    assert config["pool_mode"] == "transaction"
    assert "options" in config["ignore_startup_parameters"]
    database = params["dbname"]

    def transactions() -> int:
        stats = {row["database"]: row for row in admin_rows(bouncer.admin_dsn(), "SHOW STATS")}
        return int(stats[database]["total_xact_count"]) if database in stats else 0

    before = transactions()
    async with running_api({"AGNO_PG_DSN": fresh_dsn}) as api:
        created = await api.call("POST", "/sessions", body={"session_name": "through pgbouncer"})
        assert created.status == 201, created.text
        session_id = created.json["session_id"]
        assert (await api.get(f"/sessions/{session_id}")).status == 200
        listing = await api.get("/sessions")
        assert listing.status == 200
        assert listing.json["meta"]["total_count"] == 1
        assert (await api.call("DELETE", f"/sessions/{session_id}")).status == 204
    assert transactions() >= before + 4
    # the role's settings stand in for the dropped `options` (docs/rollout.md §6)
    with contextlib.closing(psycopg2.connect(fresh_dsn)) as conn, conn.cursor() as cur:
        cur.execute("SHOW statement_timeout")
        assert cur.fetchone() == ("55s",)
