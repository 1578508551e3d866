"""Configuration: env parsing and validation, and the process refusing to start on bad values."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from service.config import ConfigError, load_config

DSN = "postgresql://u:pw@h:5432/db"


def test_defaults_and_single_dsn() -> None:
    config = load_config({"AGNO_PG_DSN": "postgresql+psycopg://u:pw@h/db"})
    assert config.dsn_map == (("default", "postgresql://u:pw@h/db"),)
    assert config.default_db_id == "default" and config.port == 8080 and config.request_timeout == 60
    assert config.statement_timeout < config.request_timeout and config.auto_provision
    assert (config.db_schema, config.session_table, config.runs_table) == ("ai", "agno_sessions", "agno_runs")
    assert load_config({"DATABASE_URL": "postgres://h/db"}).dsn_map == (("default", "postgresql://h/db"),)
    assert load_config({"AGNO_PG_DSN": "host=h dbname=d", "AGNO_DEFAULT_DB_ID": "x"}).db_ids == ["x"]
    assert load_config({"AGNO_PG_DSN": DSN, "AGNO_SESSION_TABLE": "s"}).runs_table == "s_runs"


def test_limits_defaults() -> None:
    config = load_config({"AGNO_PG_DSN": DSN})
    assert (config.max_header_bytes, config.header_timeout, config.write_timeout) == (16384, 10.0, 30.0)
    assert (config.max_connections, config.max_buffered_body_bytes) == (1000, 32 * 1024 * 1024)
    assert (config.search_max_length, config.expensive_concurrency, config.expensive_timeout) == (256, 8, 10.0)
    assert [str(n) for n in config.trusted_proxies] == [
        "127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"
    ]  # fmt: skip
    assert load_config({"AGNO_PG_DSN": DSN, "AGNO_TRUSTED_PROXIES": ""}).trusted_proxies == ()
    small = load_config({"AGNO_PG_DSN": DSN, "AGNO_POOL_MAX_SIZE": "2", "AGNO_REQUEST_TIMEOUT": "5"})
    assert (small.expensive_concurrency, small.expensive_timeout) == (1, 4.5)
    four = load_config({"AGNO_PG_DSN": DSN, "AGNO_POOL_MAX_SIZE": "4"})
    assert four.expensive_concurrency == 2


def test_dsn_map_order_and_default() -> None:
    raw = '{"zeta": "postgresql://a/b", "alpha": "postgresql://c/d"}'
    assert load_config({"AGNO_SESSION_DSN_MAP": raw}).default_db_id == "zeta"  # JSON text order, not sorted
    assert load_config({"AGNO_SESSION_DSN_MAP": raw, "AGNO_DEFAULT_DB_ID": ""}).default_db_id is None
    assert load_config({"AGNO_SESSION_DSN_MAP": raw, "AGNO_DEFAULT_DB_ID": "alpha"}).default_db_id == "alpha"
    assert load_config({"AGNO_SESSION_DSN_MAP": raw, "AGNO_PG_DSN": DSN}).db_ids == ["zeta", "alpha"]


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({}, "AGNO_PG_DSN"),
        ({"AGNO_SESSION_DSN_MAP": "{nope"}, "AGNO_SESSION_DSN_MAP"),
        ({"AGNO_SESSION_DSN_MAP": "[]"}, "AGNO_SESSION_DSN_MAP"),
        ({"AGNO_SESSION_DSN_MAP": '{"a": 1}'}, "AGNO_SESSION_DSN_MAP"),
        ({"AGNO_SESSION_DSN_MAP": '{"a": "postgresql://x/y"}', "AGNO_DEFAULT_DB_ID": "b"}, "AGNO_DEFAULT_DB_ID"),
        ({"AGNO_PG_DSN": "mysql://x/y"}, "AGNO_PG_DSN"),
        ({"AGNO_PG_DSN": "mysql://u:pw@x/y"}, "AGNO_PG_DSN"),  # the rejected DSN's password is not echoed
        ({"AGNO_SESSION_DSN_MAP": '{"a": "mysql://u:pw@x/y"}'}, "AGNO_SESSION_DSN_MAP"),
        ({"AGNO_PG_DSN": "just-a-word"}, "AGNO_PG_DSN"),
        ({"AGNO_PG_DSN": DSN, "AGNO_SERVICE_PORT": "http"}, "AGNO_SERVICE_PORT"),
        ({"AGNO_PG_DSN": DSN, "AGNO_REQUEST_TIMEOUT": "0"}, "AGNO_REQUEST_TIMEOUT"),
        ({"AGNO_PG_DSN": DSN, "AGNO_AUTO_PROVISION": "maybe"}, "AGNO_AUTO_PROVISION"),
        ({"AGNO_PG_DSN": DSN, "AGNO_DB_SCHEMA": "a; drop"}, "AGNO_DB_SCHEMA"),
        ({"AGNO_PG_DSN": DSN, "AGNO_POOL_MIN_SIZE": "5", "AGNO_POOL_MAX_SIZE": "2"}, "AGNO_POOL_MIN_SIZE"),
        ({"AGNO_PG_DSN": DSN, "AGNO_LOG_LEVEL": "LOUD"}, "AGNO_LOG_LEVEL"),
        ({"AGNO_PG_DSN": DSN, "AGNO_WORKERS": "0"}, "AGNO_WORKERS"),
        ({"AGNO_PG_DSN": DSN, "AGNO_TRUSTED_PROXIES": "10.0.0.0/8, ingress"}, "AGNO_TRUSTED_PROXIES"),
        ({"AGNO_PG_DSN": DSN, "AGNO_TRUSTED_PROXIES": "10.0.0.0/33"}, "AGNO_TRUSTED_PROXIES"),
        ({"AGNO_PG_DSN": DSN, "AGNO_MAX_HEADER_BYTES": "100"}, "AGNO_MAX_HEADER_BYTES"),
        ({"AGNO_PG_DSN": DSN, "AGNO_HEADER_TIMEOUT": "0"}, "AGNO_HEADER_TIMEOUT"),
        ({"AGNO_PG_DSN": DSN, "AGNO_WRITE_TIMEOUT": "never"}, "AGNO_WRITE_TIMEOUT"),
        ({"AGNO_PG_DSN": DSN, "AGNO_MAX_CONNECTIONS": "0"}, "AGNO_MAX_CONNECTIONS"),
        ({"AGNO_PG_DSN": DSN, "AGNO_MAX_BUFFERED_BODY_BYTES": "0"}, "AGNO_MAX_BUFFERED_BODY_BYTES"),
        ({"AGNO_PG_DSN": DSN, "AGNO_SEARCH_MAX_LENGTH": "0"}, "AGNO_SEARCH_MAX_LENGTH"),
        ({"AGNO_PG_DSN": DSN, "AGNO_EXPENSIVE_CONCURRENCY": "11"}, "AGNO_EXPENSIVE_CONCURRENCY"),
        ({"AGNO_PG_DSN": DSN, "AGNO_EXPENSIVE_TIMEOUT": "0"}, "AGNO_EXPENSIVE_TIMEOUT"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_config(env)
    assert variable in str(error.value)
    assert "pw" not in str(error.value)


def test_process_exits_with_one_clear_line() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGNO_") and k != "DATABASE_URL"}
    env.update({"AGNO_SESSION_DSN_MAP": '{"a": "postgresql://user:hunter2@h/db"}', "AGNO_DEFAULT_DB_ID": "b"})
    result = subprocess.run([sys.executable, "-m", "service"], env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "agno-session: configuration error: AGNO_DEFAULT_DB_ID: 'b' is not a key of AGNO_SESSION_DSN_MAP"
    ]
    assert "hunter2" not in result.stderr + result.stdout
