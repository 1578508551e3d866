"""Bad input and hostile callers, by hand: invalid UTF-8, NUL bytes, 10,000-deep JSON, huge numbers,
wrong content types, LIKE wildcards, SQL fragments in every string parameter, path traversal.

The guarantee: never a 5xx (the one designed 503 is media storage, which is not configured), every
error is a JSON object with `detail`, and nothing stored is touched by what a caller sends.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from service.handlers.sessions import MEDIA_NOT_CONFIGURED

from .harness import Reply, call, count_sessions, raw_request

JSON = {"Content-Type": "application/json"}
DEEP = 10_000


@pytest.fixture(scope="module")
def service(module_service: Any) -> Any:
    svc = module_service()
    reply = call(svc.base_url, "POST", "/sessions", json_body={"session_id": "canary", "session_name": "canary"})
    assert reply.status == 201
    return svc


def assert_handled(reply: Reply, *, allowed: set[int] | None = None) -> None:
    """No 5xx (but media's designed 503), errors are JSON with `detail`, an expected status if given."""
    if reply.status == 503:
        assert reply.json() == {"detail": MEDIA_NOT_CONFIGURED}, reply
    else:
        assert reply.status < 500, reply
    if reply.status >= 400:
        assert reply.is_json_error(), reply
    if allowed is not None:
        assert reply.status in allowed, reply


def send(service: Any, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Reply:
    raw = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    sent = dict(JSON if raw is not None else {}, **(headers or {}))
    return call(service.base_url, method, path, body=raw, headers=sent)


def deep_array(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def deep_object(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


CASES: list[tuple[str, str, str, Any, dict[str, str] | None, set[int]]] = [
    # id, method, path, body, headers, expected statuses
    ("utf8-body-post", "POST", "/sessions", b'{"session_name": "\xff\xfe"}', None, {400}),
    ("utf8-body-patch", "PATCH", "/sessions/canary", b'{"metadata": {"\xc0\xaf": 1}}', None, {400}),
    ("utf8-body-rename", "POST", "/sessions/canary/rename", b'{"session_name": "\xed\xa0\x80"}', None, {400}),
    ("utf8-query", "GET", "/sessions?session_name=%FF%FE&user_id=%C0%AF&component_id=%ED%A0%80", None, None, {200}),
    ("utf8-path", "GET", "/sessions/%FF%FE", None, None, {400, 404}),
    ("utf8-path-runs", "GET", "/sessions/%FF/runs/%FE", None, None, {400, 404}),
    (
        "utf8-charset-latin1",
        "POST",
        "/sessions",
        "é".encode("latin-1"),
        {"Content-Type": "application/json; charset=latin-1"},
        {400},
    ),
    ("utf16-body", "POST", "/sessions", '{"session_name": "x"}'.encode("utf-16"), None, {400}),
    ("nul-query-name", "GET", "/sessions?session_name=%00", None, None, {422}),
    ("nul-query-user", "GET", "/sessions/canary?user_id=a%00b", None, None, {422}),
    ("nul-path-get", "GET", "/sessions/a%00b", None, None, {422}),
    ("nul-path-delete", "DELETE", "/sessions/a%00b", None, None, {422}),
    ("nul-path-run", "GET", "/sessions/canary/runs/r%00", None, None, {422}),
    ("nul-body-name", "PATCH", "/sessions/canary", {"session_name": "a\x00b"}, None, {200}),  # stripped, as agno does
    ("nul-body-key", "POST", "/sessions", {"session_state": {"k\x00": 1}}, None, {422}),
    ("nul-bulk-ids", "DELETE", "/sessions", {"session_ids": ["a\x00"], "session_types": ["agent"]}, None, {422}),
    ("nul-raw-escape", "POST", "/sessions", b'{"session_name": "\\u0000"}', None, {201}),  # stripped
    ("deep-array-post", "POST", "/sessions", deep_array(DEEP), None, {400}),
    ("deep-object-post", "POST", "/sessions", b'{"session_state": ' + deep_object(DEEP) + b"}", None, {400}),
    ("deep-object-patch", "PATCH", "/sessions/canary", b'{"metadata": ' + deep_object(DEEP) + b"}", None, {400}),
    ("deep-array-delete", "DELETE", "/sessions", deep_array(DEEP), None, {400}),
    ("deep-array-rename", "POST", "/sessions/canary/rename", deep_array(DEEP), None, {400}),
    ("deep-unclosed", "POST", "/sessions", b"[" * DEEP, None, {400, 422}),
    ("num-inf", "POST", "/sessions", b'{"session_state": {"n": 1e999}}', None, {422}),
    ("num-neg-inf", "PATCH", "/sessions/canary", b'{"metadata": {"n": -1e999}}', None, {422}),
    ("num-nan", "POST", "/sessions", b'{"session_state": {"n": NaN}}', None, {422}),
    ("num-400-digits", "POST", "/sessions", b'{"session_state": {"n": 1' + b"0" * 400 + b"}}", None, {201, 422}),
    ("num-max-double", "POST", "/sessions", b'{"session_state": {"n": 1.7976931348623157e308}}', None, {201}),
    ("num-int64-overflow", "POST", "/sessions", b'{"metadata": {"n": 9223372036854775808}}', None, {201, 422}),
    ("num-limit-exp", "GET", "/sessions?limit=1e999", None, None, {422}),
    ("num-limit-zero", "GET", "/sessions?limit=0", None, None, {422}),
    ("num-page-huge", "GET", "/sessions?page=99999999999999999999999999", None, None, {200}),
    ("num-page-negative", "GET", "/sessions?page=-1", None, None, {422}),
    (
        "num-created-after-huge",
        "GET",
        "/sessions/canary/runs?created_after=999999999999999999999999",
        None,
        None,
        {200},
    ),
    (
        "num-created-before-neg",
        "GET",
        "/sessions/canary/run-previews?created_before=-99999999999999999999",
        None,
        None,
        {200},
    ),
    ("num-created-nan", "GET", "/sessions/canary/runs?created_after=NaN", None, None, {422}),
    ("ct-text-plain", "POST", "/sessions", b'{"session_name": "x"}', {"Content-Type": "text/plain"}, {422}),
    (
        "ct-form",
        "POST",
        "/sessions",
        b"session_name=x&session_id=y",
        {"Content-Type": "application/x-www-form-urlencoded"},
        {422},
    ),
    (
        "ct-multipart",
        "POST",
        "/sessions",
        b"--zz\r\nContent-Disposition: form-data; name=a\r\n\r\nb\r\n--zz--\r\n",
        {"Content-Type": "multipart/form-data; boundary=zz"},
        {422},
    ),
    (
        "ct-multipart-broken",
        "PATCH",
        "/sessions/canary",
        b"garbage",
        {"Content-Type": "multipart/form-data"},
        {400, 422},
    ),
    (
        "ct-xml",
        "POST",
        "/sessions/canary/rename",
        b"<session_name>x</session_name>",
        {"Content-Type": "application/xml"},
        {422},
    ),
    ("ct-none", "POST", "/sessions", b'{"session_name": "no content type"}', {"Content-Type": ""}, {201, 422}),
    ("ct-json-empty-body", "PATCH", "/sessions/canary", b"", None, {422}),
    ("ct-json-not-json", "PATCH", "/sessions/canary", b"{'a': 1}", None, {422}),
    ("ct-json-scalar", "DELETE", "/sessions", b"42", None, {422}),
    ("long-session-id", "GET", "/sessions/" + "x" * 10_000, None, None, {404}),
    # a search term over AGNO_SEARCH_MAX_LENGTH (divergence `session-name-length`)
    ("long-query-value", "GET", "/sessions?session_name=" + "%25" * 5_000, None, None, {422}),
    ("many-duplicate-params", "GET", "/sessions?" + "&".join(["limit=1"] * 900), None, None, {200}),
    ("unknown-method-put", "PUT", "/sessions/canary", {"a": 1}, None, {405}),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_hostile_request(service: Any, method: str, path: str, body: Any, headers: Any, expected: set[int]) -> None:
    reply = send(service, method, path, body, headers)
    assert_handled(reply, allowed=expected)


RAW_REQUESTS = {
    "raw-non-ascii-path": b"GET /sessions/\xff\xfe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    "raw-non-ascii-query": b"GET /sessions?session_name=\xff\xfe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    "raw-nul-in-path": b"GET /sessions/a\x00b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    "raw-non-ascii-header": b"GET /sessions HTTP/1.1\r\nHost: x\r\nX-Request-ID: \xff\xfe\r\nConnection: close\r\n\r\n",
    "raw-bad-content-length": b"POST /sessions HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\nConnection: close\r\n\r\n",
    "raw-garbage": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 hello\r\n\r\n",
}


@pytest.mark.parametrize("data", list(RAW_REQUESTS.values()), ids=list(RAW_REQUESTS))
def test_raw_bytes_request(service: Any, data: bytes) -> None:
    """Request lines no client library builds: an answer below 500 (JSON when it reaches the app),
    or the HTTP layer closing the connection; the service keeps serving."""
    answer = raw_request(service.base_url, data)
    if answer is not None:
        status, body = answer
        assert status < 500, answer
        if status >= 400 and body:
            assert "detail" in json.loads(body), answer
    assert call(service.base_url, "GET", "/healthz").status == 200


@pytest.fixture(scope="module")
def wildcard_names(service: Any) -> dict[str, str]:
    names = {
        "pct": "100% done",
        "ends_pct": "50%",
        "under": "a_b",
        "axb": "axb",
        "slash": "back\\slash",
        "plain": "plain",
    }
    for key, name in names.items():
        body = {"session_id": f"wild-{key}", "session_name": name, "user_id": "wild"}
        assert call(service.base_url, "POST", "/sessions", json_body=body).status == 201
    body = {"session_id": "wild-unnamed", "user_id": "wild"}
    assert call(service.base_url, "POST", "/sessions", json_body=body).status == 201
    return names


# AgentOS filters with `coalesce(session_data->>'session_name', '') ILIKE '%' || name || '%'`: `%` and
# `_` are wildcards, `\` is the default escape character; no pattern can be an SQL error.
WILDCARDS = [
    ("%", {"pct", "ends_pct", "under", "axb", "slash", "plain", "unnamed"}),
    ("%%", {"pct", "ends_pct", "under", "axb", "slash", "plain", "unnamed"}),
    ("_", {"pct", "ends_pct", "under", "axb", "slash", "plain"}),
    ("a_b", {"under", "axb"}),
    ("A_B", {"under", "axb"}),
    ("100%", {"pct"}),
    ("0%d", {"pct"}),
    ("\\", {"ends_pct"}),  # `%\%`: the last % is escaped, so names ending in a literal %
    ("\\%", {"pct", "ends_pct"}),  # `%\%%`: names containing a literal %
    ("\\_", {"under"}),
    ("\\\\", {"slash"}),
    ("x\\", set()),
    ("[a-z]", set()),
    ("'; DROP TABLE ai.agno_sessions; --", set()),
]


@pytest.mark.parametrize(("pattern", "expected"), WILDCARDS, ids=[w[0] for w in WILDCARDS])
def test_session_name_wildcards(service: Any, wildcard_names: dict[str, str], pattern: str, expected: set[str]) -> None:
    reply = call(service.base_url, "GET", f"/sessions?user_id=wild&limit=100&session_name={quote(pattern, safe='')}")
    assert reply.status == 200, reply
    found = {item["session_id"].removeprefix("wild-") for item in reply.json()["data"]}
    assert found == expected


SQL_FRAGMENTS = [
    "'; DROP TABLE ai.agno_sessions; --",
    '" OR 1=1 --',
    "1) OR (1=1",
    "x' OR '1'='1",
    "$$; SELECT pg_sleep(30); $$",
    "%(session_id)s",
    "%s",
    ":session_id",
    "{{sessions}}",
    "created_at; DELETE FROM ai.agno_runs",
    "ai.agno_sessions",
    "../agno_sessions",
]
STRING_PARAMETERS = [
    ("GET", "/sessions?sort_by={}"),
    ("GET", "/sessions?sort_order={}"),
    ("GET", "/sessions?db_id={}"),
    ("GET", "/sessions?table={}"),
    ("GET", "/sessions?db_id=default&table={}"),
    ("GET", "/sessions?user_id={}"),
    ("GET", "/sessions?component_id={}"),
    ("GET", "/sessions?type=agent&component_id={}"),
    ("GET", "/sessions?session_name={}"),
    ("GET", "/sessions?type={}"),
    ("GET", "/sessions/{}"),
    ("GET", "/sessions/canary?user_id={}"),
    ("GET", "/sessions/canary?db_id={}"),
    ("GET", "/sessions/canary?db_id=default&table={}"),
    ("PATCH", "/sessions/{}"),
    ("DELETE", "/sessions/{}"),
    ("DELETE", "/sessions/canary?user_id={}"),
    ("POST", "/sessions/{}/rename"),
    ("GET", "/sessions/{}/runs"),
    ("GET", "/sessions/canary/runs?status={}"),
    ("GET", "/sessions/canary/runs/{}"),
    ("GET", "/sessions/{}/run-previews"),
]


def sql_cases() -> Iterator[tuple[str, str, Any]]:
    for fragment in SQL_FRAGMENTS:
        for method, template in STRING_PARAMETERS:
            body: Any = None
            if method == "PATCH":
                body = {"metadata": {"x": fragment}}
            elif method == "POST":
                body = {"session_name": fragment}
            yield method, template.format(quote(fragment, safe="")), body
        yield (
            "DELETE",
            "/sessions",
            {"session_ids": [fragment, "canary' OR '1'='1"], "session_types": ["agent", "team"]},
        )
        yield (
            "DELETE",
            f"/sessions?user_id={quote(fragment, safe='')}",
            {"session_ids": ["canary"], "session_types": ["agent"]},
        )
        yield "POST", "/sessions", {"session_id": f"sql {fragment}", "user_id": fragment, "agent_id": fragment}


def test_sql_fragments_in_every_string_parameter(service: Any, figures: dict[str, Any]) -> None:
    """SQL in sort_by, sort_order, db_id, table, filters, path ids and bulk ids is data: no 5xx, no
    row outside the request's reach touched, sort_by outside the column whitelist ignored."""
    before = count_sessions(service.dsn)
    sent = 0
    created = 0
    for method, path, body in sql_cases():
        reply = send(service, method, path, body)
        assert_handled(reply)
        sent += 1
        created += reply.status == 201
    assert count_sessions(service.dsn) == before + created
    assert count_sessions(service.dsn, "session_id = 'canary'") == 1
    injected = quote("nobody' OR '1'='1", safe="")
    leaked = call(service.base_url, "GET", f"/sessions?user_id={injected}").json()
    assert leaked["meta"]["total_count"] == 0
    stored = call(service.base_url, "GET", f"/sessions/{quote('sql ' + SQL_FRAGMENTS[0], safe='')}")
    assert stored.status == 200
    assert stored.json()["user_id"] == SQL_FRAGMENTS[0]
    assert sent > 200
    figures.update({"fragments": len(SQL_FRAGMENTS), "requests_sent": sent, "sessions_created_verbatim": created})


TRAVERSALS = [
    "/sessions/canary/media/../../../../etc/passwd",
    "/sessions/canary/media/..%2F..%2F..%2Fetc%2Fpasswd",
    "/sessions/canary/media/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/sessions/canary/media/....//....//etc/passwd",
    "/sessions/canary/media/..\\..\\..\\windows\\win.ini",
    "/sessions/canary/media/%2Fetc%2Fpasswd",
    "/sessions/canary/media//etc/passwd",
    "/sessions/canary/media/file:%2F%2F%2Fetc%2Fpasswd",
    "/sessions/canary/media/%00../../etc/passwd",
    "/sessions/..%2F..%2Fetc/media/passwd",
    "/sessions/canary/media/../../../../etc/passwd?redirect=true",
    "/../../../../etc/passwd",
    "/sessions/../../etc/passwd",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_path_traversal_in_media_keys(service: Any, path: str) -> None:
    reply = call(service.base_url, "GET", path)
    assert_handled(reply, allowed={400, 404, 422, 503})
    assert b"root:" not in reply.body
    assert b"[fonts]" not in reply.body
    assert reply.header("location") is None


HTTP_LAYER_LIMITS = {
    "too-many-query-fields": "/sessions?" + "&".join(["limit=1"] * 2_000),
    "header-block-over-64k": "/sessions",
}


@pytest.mark.parametrize("case", list(HTTP_LAYER_LIMITS))
def test_http_layer_limits(service: Any, case: str) -> None:
    """Tornado's own limits (over 1,000 query fields, a header block over 64 KiB) end a request before
    it reaches the app: a bare 400 or a closed connection, never a 5xx; the service keeps serving."""
    headers = {"X-Padding": "x" * 70_000} if case == "header-block-over-64k" else {}
    reply = None
    with contextlib.suppress(OSError):
        reply = call(service.base_url, "GET", HTTP_LAYER_LIMITS[case], headers=headers)
    assert reply is None or reply.status == 400, reply
    assert call(service.base_url, "GET", "/healthz").status == 200
