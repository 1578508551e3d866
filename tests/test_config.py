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


def test_media_storage() -> None:
    assert load_config({"AGNO_PG_DSN": DSN}).media_backend is None
    local = load_config({"AGNO_PG_DSN": DSN, "AGNO_MEDIA_STORAGE": " local:/srv/media "})
    assert (local.media_backend, local.media_location) == ("local", "/srv/media")
    s3 = load_config(
        {
            "AGNO_PG_DSN": DSN,
            "AGNO_MEDIA_STORAGE": "s3://my-bucket/agno/media/",
            "AGNO_MEDIA_S3_REGION": "eu-west-1",
            "AGNO_MEDIA_S3_ENDPOINT_URL": "http://minio:9000",
        }
    )
    assert (s3.media_backend, s3.media_location, s3.media_prefix) == ("s3", "my-bucket", "agno/media/")
    assert (s3.media_s3_region, s3.media_s3_endpoint_url) == ("eu-west-1", "http://minio:9000")
    bare = load_config({"AGNO_PG_DSN": DSN, "AGNO_MEDIA_STORAGE": "s3://bkt", "AGNO_MEDIA_S3_REGION": ""})
    assert (bare.media_location, bare.media_prefix, bare.media_s3_region) == ("bkt", "", None)


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
        ({"AGNO_PG_DSN": DSN, "AGNO_MEDIA_STORAGE": "/var/media"}, "AGNO_MEDIA_STORAGE"),
        ({"AGNO_PG_DSN": DSN, "AGNO_MEDIA_STORAGE": "local:"}, "AGNO_MEDIA_STORAGE"),
        ({"AGNO_PG_DSN": DSN, "AGNO_MEDIA_STORAGE": "s3://"}, "AGNO_MEDIA_STORAGE"),
        ({"AGNO_PG_DSN": DSN, "AGNO_MEDIA_STORAGE": "s3://b/x"}, "AGNO_MEDIA_STORAGE"),
        ({"AGNO_PG_DSN": DSN, "AGNO_MEDIA_STORAGE": "gcs://bucket/x"}, "AGNO_MEDIA_STORAGE"),
        (
            {"AGNO_PG_DSN": DSN, "AGNO_MEDIA_STORAGE": "s3://bkt", "AGNO_MEDIA_S3_ENDPOINT_URL": "minio:9000"},
            "AGNO_MEDIA_S3_ENDPOINT_URL",
        ),
        ({"AGNO_PG_DSN": DSN, "AGNO_MEDIA_STORAGE": "local:/m", "AGNO_MEDIA_S3_REGION": "eu-west-1"}, "AGNO_MEDIA_S3"),
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
