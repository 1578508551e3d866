"""Configuration: env parsing and validation, and the process refusing to start on bad values."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest

from service.config import ConfigError, load_config

DSN = "postgresql://u:pw@h:5432/db"


def test_defaults_and_single_dsn() -> None:
    config = load_config({"AGNO_PG_DSN": "postgresql+psycopg://u:pw@h/db"})
    assert config.dsn_map == (("default", "postgresql://u:pw@h/db"),)
    assert config.default_db_id == "default"
    assert config.port == 8080
    assert config.request_timeout == 60
    assert config.statement_timeout < config.request_timeout
    assert config.auto_provision
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
        ({"AGNO_PG_DSN": DSN, "AGNO_JWT_ALGORITHM": "XS256"}, "AGNO_JWT_ALGORITHM"),
        ({"AGNO_PG_DSN": DSN, "JWT_VERIFICATION_KEY": "shared-secret"}, "JWT_VERIFICATION_KEY"),  # RS256 needs PEM
        (
            {"AGNO_PG_DSN": DSN, "JWT_VERIFICATION_KEY": "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----"},
            "JWT_VERIFICATION_KEY",
        ),
        ({"AGNO_PG_DSN": DSN, "JWT_JWKS_FILE": "/nonexistent/jwks.json"}, "JWT_JWKS_FILE"),
        ({"AGNO_PG_DSN": DSN, "AGNO_AUTHORIZATION": "true"}, "AGNO_AUTHORIZATION"),
        ({"AGNO_PG_DSN": DSN, "AGNO_JWT_VERIFY_AUDIENCE": "true"}, "AGNO_JWT_VERIFY_AUDIENCE"),
        ({"AGNO_PG_DSN": DSN, "AGNO_JWT_JWKS_URL": "ftp://idp/keys"}, "AGNO_JWT_JWKS_URL"),
        ({"AGNO_PG_DSN": DSN, "AGNO_USER_ISOLATION": "perhaps"}, "AGNO_USER_ISOLATION"),
        ({"AGNO_PG_DSN": DSN, "AGNO_SERVICE_ACCOUNTS_TABLE": "x y"}, "AGNO_SERVICE_ACCOUNTS_TABLE"),
        ({"AGNO_PG_DSN": DSN, "AGNO_TRUSTED_PROXIES": "10.0.0.0/8, ingress"}, "AGNO_TRUSTED_PROXIES"),
        ({"AGNO_PG_DSN": DSN, "AGNO_TRUSTED_PROXIES": "10.0.0.0/33"}, "AGNO_TRUSTED_PROXIES"),
        ({"AGNO_PG_DSN": DSN, "AGNO_MAX_HEADER_BYTES": "100"}, "AGNO_MAX_HEADER_BYTES"),
        ({"AGNO_PG_DSN": DSN, "AGNO_HEADER_TIMEOUT": "0"}, "AGNO_HEADER_TIMEOUT"),
        ({"AGNO_PG_DSN": DSN, "AGNO_WRITE_TIMEOUT": "never"}, "AGNO_WRITE_TIMEOUT"),
        ({"AGNO_PG_DSN": DSN, "AGNO_MAX_CONNECTIONS": "0"}, "AGNO_MAX_CONNECTIONS"),
        ({"AGNO_PG_DSN": DSN, "AGNO_MAX_BUFFERED_BODY_BYTES": "0"}, "AGNO_MAX_BUFFERED_BODY_BYTES"),
        ({"AGNO_PG_DSN": DSN, "AGNO_SEARCH_MAX_LENGTH": "0"}, "AGNO_SEARCH_MAX_LENGTH"),
        ({"AGNO_PG_DSN": DSN, "AGNO_ANSWER_CACHE_BYTES": "-1"}, "AGNO_ANSWER_CACHE_BYTES"),
        ({"AGNO_PG_DSN": DSN, "AGNO_CONDITIONAL_GETS": "maybe"}, "AGNO_CONDITIONAL_GETS"),
        ({"AGNO_PG_DSN": DSN, "AGNO_EXPENSIVE_CONCURRENCY": "11"}, "AGNO_EXPENSIVE_CONCURRENCY"),
        ({"AGNO_PG_DSN": DSN, "AGNO_EXPENSIVE_TIMEOUT": "0"}, "AGNO_EXPENSIVE_TIMEOUT"),
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


def test_jwt_key_material_is_checked_at_start_up(tmp_path: Any) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    auth = load_config({"AGNO_PG_DSN": DSN, "JWT_VERIFICATION_KEY": pem, "AGNO_JWT_AUDIENCE": "a, b"}).auth
    assert auth.jwt_configured
    assert auth.enabled
    assert auth.jwt_audience == ("a", "b")
    assert auth.jwt_algorithm == "RS256"
    with pytest.raises(ConfigError, match="HMAC"):  # RS/HS confusion refused at start-up
        load_config({"AGNO_PG_DSN": DSN, "JWT_VERIFICATION_KEY": pem, "AGNO_JWT_ALGORITHM": "HS256"})
    bad = tmp_path / "jwks.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="JWT_JWKS_FILE"):
        load_config({"AGNO_PG_DSN": DSN, "JWT_JWKS_FILE": str(bad)})
    bad.write_text('{"no_keys": []}')
    with pytest.raises(ConfigError, match="JWT_JWKS_FILE"):
        load_config({"AGNO_PG_DSN": DSN, "JWT_JWKS_FILE": str(bad)})
    hs = load_config({"AGNO_PG_DSN": DSN, "JWT_VERIFICATION_KEY": "s3cret", "AGNO_JWT_ALGORITHM": "HS256"}).auth
    assert hs.jwt_keys == ("s3cret",)
    origins = load_config({"AGNO_PG_DSN": DSN, "AGNO_CORS_ALLOWED_ORIGINS": "https://a.example, *"}).auth
    assert origins.cors_origins == ("https://a.example",)
    assert "http://localhost:3000" in load_config({"AGNO_PG_DSN": DSN}).auth.cors_origins
