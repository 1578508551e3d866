"""The database layer speaks in domain terms: resolve raises domain exceptions (the handlers map them
to HTTP, tested through the API), and each Cursor method runs only the query kinds it reads."""

from __future__ import annotations

import pytest

from service.config import load_config
from service.db import Databases
from service.errors import DatabaseNotFound, DbIdRequired, TableNotFound
from service.queries import QueryError
from tests.api.conftest import QUERIES


@pytest.mark.gen_test(timeout=60)
async def test_resolve_raises_domain_exceptions(fresh_dsn: str) -> None:
    databases = Databases(load_config({"AGNO_SESSION_DSN_MAP": f'{{"a": "{fresh_dsn}", "b": "{fresh_dsn}"}}'}), QUERIES)
    try:
        assert (await databases.resolve("b")).db_id == "b"
        assert (await databases.resolve(None)).db_id == "a"  # the map's first key is the default
        with pytest.raises(DbIdRequired) as for_table:
            await databases.resolve(None, "agno_sessions")
        assert for_table.value.for_table is True
        with pytest.raises(DatabaseNotFound) as missing:
            await databases.resolve("nope")
        assert missing.value.db_id == "nope"
        with pytest.raises(TableNotFound) as no_table:
            await databases.resolve("a", "not_a_table")
        assert (no_table.value.db_id, no_table.value.table) == ("a", "not_a_table")
    finally:
        await databases.close()
    no_default = Databases(
        load_config({"AGNO_SESSION_DSN_MAP": f'{{"a": "{fresh_dsn}", "b": "{fresh_dsn}"}}', "AGNO_DEFAULT_DB_ID": ""}),
        QUERIES,
    )
    with pytest.raises(DbIdRequired) as required:
        await no_default.resolve(None)
    assert required.value.for_table is False
    await no_default.close()


@pytest.mark.gen_test(timeout=60)
async def test_cursor_methods_run_only_their_query_kinds(fresh_dsn: str) -> None:
    databases = Databases(load_config({"AGNO_PG_DSN": fresh_dsn}), QUERIES)
    database = await databases.resolve(None)
    try:
        async with database.cursor() as cur:
            assert await cur.value("ping", {}) == 1  # `$`
            assert await cur.one("get_session", {"session_id": "none", "user_id": None}, lock="") is None  # `^`
            with pytest.raises(QueryError, match=r"'ping' has kind '\$'; Cursor.run"):
                await cur.run("ping", {})
            with pytest.raises(QueryError, match=r"'get_session' has kind '\^'; Cursor.all"):
                await cur.all("get_session", {"session_id": "none", "user_id": None}, lock="")
            with pytest.raises(QueryError, match=r"'delete_session' has kind '!'; Cursor.one"):
                await cur.one("delete_session", {"session_id": "none", "user_id": None})
            with pytest.raises(QueryError, match=r"'list_sessions' has kind ''; Cursor.value"):
                await cur.value("list_sessions", {})
            assert await cur.value("ping", {}) == 1  # nothing was sent: the connection is still usable
    finally:
        await databases.close()
