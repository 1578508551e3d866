"""Database.close: a pool whose connection is never given back is terminated after the timeout."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg2.extensions
import pytest

from service.config import load_config
from service.db import APPLICATION_NAME, Databases
from tests.api.conftest import QUERIES, sql
from tests.api.test_pgbouncer import admin_rows


@pytest.mark.gen_test(timeout=60)
async def test_close_terminates_a_pool_that_does_not_close(fresh_dsn: str, pg_cluster: Any) -> None:
    databases = Databases(load_config({"AGNO_PG_DSN": fresh_dsn}), QUERIES)
    database = await databases.resolve(None)
    holding = asyncio.Event()

    async def hold_a_connection() -> None:
        async with database.cursor():
            holding.set()
            await asyncio.sleep(30)

    holder = asyncio.create_task(hold_a_connection())
    await holding.wait()
    await database.close(timeout=0.5)
    # close returned while the connection was still held (the holder sleeps 30 s): it did not wait for it
    assert not holder.done()
    assert (await database.pool()).size == 0  # the held connection was closed, not waited for
    holder.cancel()
    await asyncio.gather(holder, return_exceptions=True)
    if pg_cluster.bouncer is not None:
        # through PgBouncer its server connections outlive the service's: count the service's clients
        database_name = psycopg2.extensions.parse_dsn(fresh_dsn)["dbname"]

        def clients() -> int:
            return len(
                [
                    c
                    for c in admin_rows(pg_cluster.bouncer.admin_dsn(), "SHOW CLIENTS")
                    if c["database"] == database_name
                ]
            )

        for _ in range(400):
            if clients() == 0:
                break
            await asyncio.sleep(0.05)
        assert clients() == 0
        return
    backends = "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND datname = current_database()"
    for _ in range(400):
        if sql(fresh_dsn, backends, (APPLICATION_NAME,)) == [(0,)]:
            break
        await asyncio.sleep(0.05)
    assert sql(fresh_dsn, backends, (APPLICATION_NAME,)) == [(0,)]
