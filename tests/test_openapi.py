"""/openapi.json: a valid OpenAPI 3.1 document that documents exactly the routes make_app serves.

The /sessions operationIds and parameter names are AgentOS 3.1.10's (copied below from its own
/openapi.json, so this test needs nothing outside the repository).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import tornado.routing
import tornado.web
from openapi_spec_validator import validate

from service.app import make_app
from service.config import load_config
from service.db import Databases
from service.openapi import path_template
from service.queries import Queries
from tests.conformance import ResponseSchemas

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "shaping"

HTTP_METHODS = ("get", "post", "put", "patch", "delete", "head", "options")
KEY = "openapi-test-key"

# AgentOS 3.1.10: (method, path) -> (operationId, parameter names in declaration order)
AGENTOS_SESSIONS_OPERATIONS: dict[tuple[str, str], tuple[str, list[str]]] = {
    ("get", "/sessions"): (
        "get_sessions",
        ["type", "component_id", "user_id", "session_name", "limit", "page", "sort_by", "sort_order", "db_id", "table"],
    ),
    ("post", "/sessions"): ("create_session", ["type", "db_id"]),
    ("delete", "/sessions"): ("delete_sessions", ["user_id", "db_id", "table", "delete_media"]),
    ("get", "/sessions/{session_id}"): ("get_session_by_id", ["session_id", "type", "user_id", "db_id", "table"]),
    ("delete", "/sessions/{session_id}"): (
        "delete_session",
        ["session_id", "user_id", "db_id", "table", "delete_media"],
    ),
    ("patch", "/sessions/{session_id}"): ("update_session", ["session_id", "type", "user_id", "db_id", "table"]),
    ("get", "/sessions/{session_id}/runs"): (
        "get_session_runs",
        ["session_id", "type", "user_id", "created_after", "created_before", "status", "db_id", "table"],
    ),
    ("get", "/sessions/{session_id}/run-previews"): (
        "get_session_run_previews",
        ["session_id", "type", "user_id", "created_after", "created_before", "status", "db_id", "table"],
    ),
    ("get", "/sessions/{session_id}/runs/{run_id}"): (
        "get_session_run",
        ["session_id", "run_id", "type", "user_id", "db_id", "table"],
    ),
    ("post", "/sessions/{session_id}/rename"): (
        "rename_session",
        ["session_id", "type", "user_id", "db_id", "table"],
    ),
    ("get", "/sessions/{session_id}/media/{storage_key}"): (
        "get_session_media",
        ["session_id", "storage_key", "type", "user_id", "db_id", "table", "redirect"],
    ),
}
# AgentOS 3.1.10's request bodies and 2xx response schema references of the same operations.
AGENTOS_BODIES = {
    "create_session": "CreateSessionRequest",
    "delete_sessions": "DeleteSessionRequest",
    "update_session": "UpdateSessionRequest",
    "rename_session": "Body_rename_session",
}
_DETAIL = ["AgentSessionDetailSchema", "TeamSessionDetailSchema", "WorkflowSessionDetailSchema"]
_RUN = ["RunSchema", "TeamRunSchema", "WorkflowRunSchema"]
AGENTOS_SUCCESS_SCHEMAS: dict[str, tuple[str, list[str] | None]] = {
    "get_sessions": ("200", ["PaginatedResponse_SessionSchema_"]),
    "create_session": ("201", _DETAIL),
    "delete_sessions": ("204", None),
    "get_session_by_id": ("200", _DETAIL),
    "delete_session": ("204", None),
    "update_session": ("200", _DETAIL),
    "get_session_runs": ("200", _RUN),
    "get_session_run_previews": ("200", ["SessionRunPreviewSchema"]),
    "get_session_run": ("200", _RUN),
    "rename_session": ("200", _DETAIL),
}
UNAUTHENTICATED_PATHS = {"/", "/health", "/healthz", "/readyz", "/metrics", "/openapi.json", "/docs"}


def make_test_app(**env: str) -> tornado.web.Application:
    config = load_config({"AGNO_PG_DSN": "postgresql://nobody@127.0.0.1:1/none", **env})
    return make_app(config, Databases(config, Queries.load()))


def document(**env: str) -> dict[str, Any]:
    """The document exactly as the handler serves it (built from the app's own config)."""
    from service.handlers.docs import openapi_text

    config = load_config({"AGNO_PG_DSN": "postgresql://nobody@127.0.0.1:1/none", **env})
    parsed: dict[str, Any] = json.loads(
        openapi_text(config.max_page_size, config.search_max_length, config.auth.enabled)
    )
    return parsed


def served_operations(app: tornado.web.Application) -> set[tuple[str, str]]:
    """(method, OpenAPI path) of every route of the app; static-file routes are assets, not operations."""
    out: set[tuple[str, str]] = set()
    for rule in app.wildcard_router.rules:
        handler = rule.target
        if not (isinstance(handler, type) and issubclass(handler, tornado.web.RequestHandler)):
            continue
        if issubclass(handler, tornado.web.StaticFileHandler):
            continue
        assert isinstance(rule.matcher, tornado.routing.PathMatches)
        regex = rule.matcher.regex.pattern
        for method in HTTP_METHODS:
            if getattr(handler, method) is not getattr(tornado.web.RequestHandler, method):
                out.add((method, path_template(regex)))
    return out


def documented_operations(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method, path) for path, item in doc["paths"].items() for method in item if method in HTTP_METHODS}


@pytest.mark.parametrize("env", [{}, {"OS_SECURITY_KEY": KEY}], ids=["no-key", "key"])
def test_document_is_valid_openapi_3_1(env: dict[str, str]) -> None:
    doc = document(**env)
    assert doc["openapi"].startswith("3.1.")
    validate(doc)  # raises on any schema violation or unresolvable $ref


def test_every_route_is_documented_and_vice_versa() -> None:
    app = make_test_app()
    served, documented = served_operations(app), documented_operations(document())
    assert served - documented == set(), "routes served by make_app but missing from /openapi.json"
    assert documented - served == set(), "operations in /openapi.json that make_app does not serve"
    # every path parameter of the regexes appears as a documented path parameter
    doc = document()
    for path, item in doc["paths"].items():
        names = set(re.findall(r"\{([^}]+)\}", path))
        for method, operation in item.items():
            in_path = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert in_path == names, f"{method.upper()} {path}: path parameters {in_path} != {names}"


def test_sessions_operations_match_agentos() -> None:
    doc = document(OS_SECURITY_KEY=KEY)
    ours = {
        (method, path): (op["operationId"], [p["name"] for p in op.get("parameters", [])])
        for path, item in doc["paths"].items()
        if path.startswith("/sessions")
        for method, op in item.items()
    }
    assert ours == AGENTOS_SESSIONS_OPERATIONS
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids)), "operationIds must be unique"
    for (method, path), (operation_id, _) in AGENTOS_SESSIONS_OPERATIONS.items():
        op = doc["paths"][path][method]
        body = AGENTOS_BODIES.get(operation_id)
        if body is None:
            assert "requestBody" not in op, operation_id
        else:
            assert op["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/" + body)


def test_success_schemas_match_agentos() -> None:
    doc = document()
    operations = {op["operationId"]: op for item in doc["paths"].values() for op in item.values()}
    for operation_id, (status, names) in AGENTOS_SUCCESS_SCHEMAS.items():
        response = operations[operation_id]["responses"][status]
        if names is None:
            assert "content" not in response, operation_id
            continue
        text = json.dumps(response["content"]["application/json"]["schema"])
        assert re.findall(r"#/components/schemas/([A-Za-z_]+)", text) == names, operation_id


def test_parameter_types_defaults_and_page_limits() -> None:
    doc = document(AGNO_MAX_PAGE_SIZE="250")
    params = {p["name"]: p for p in doc["paths"]["/sessions"]["get"]["parameters"]}
    limit = params["limit"]["schema"]
    assert limit["default"] == 20
    assert limit["anyOf"][0] == {"type": "integer", "minimum": 1, "maximum": 250}
    assert params["page"]["schema"]["default"] == 1
    assert params["sort_order"]["schema"]["default"] == "desc"
    assert params["sort_by"]["schema"]["default"] == "created_at"
    enums = doc["components"]["schemas"]
    assert enums["SessionType"]["enum"] == ["agent", "team", "workflow"]
    assert enums["SortOrder"]["enum"] == ["asc", "desc"]
    create = {p["name"]: p for p in doc["paths"]["/sessions"]["post"]["parameters"]}
    assert create["type"]["schema"] == {"$ref": "#/components/schemas/SessionType", "default": "agent"}
    status = {p["name"]: p for p in doc["paths"]["/sessions/{session_id}/runs"]["get"]["parameters"]}["status"]
    assert status["schema"]["anyOf"][0] == {"type": "array", "items": {"type": "string"}}
    # import extension fields on POST /sessions
    create_body = doc["components"]["schemas"]["CreateSessionRequest"]["properties"]
    assert {"runs", "summary"} <= set(create_body)


@pytest.mark.parametrize("secured", [False, True], ids=["no-key", "key"])
def test_error_responses(secured: bool) -> None:
    doc = document(OS_SECURITY_KEY=KEY) if secured else document()
    key_codes = {"401"} if secured else set()
    components = doc["components"]
    detail = components["schemas"]["ValidationErrorDetail"]
    assert list(detail["properties"]) == ["type", "loc", "msg", "input", "ctx"]
    unavailable = components["responses"]["ServiceUnavailable"]
    assert "Retry-After" in unavailable["headers"]
    for path, item in doc["paths"].items():
        if not path.startswith("/sessions") or "/media/" in path:
            continue
        for method, op in item.items():
            codes = set(op["responses"])
            assert {"400", *key_codes, "403", "404", "422", "429", "500", "503", "504"} <= codes, f"{method} {path}"
            if "requestBody" in op:
                assert "413" in codes, f"{method} {path}"
    assert "409" in doc["paths"]["/sessions"]["post"]["responses"]
    media = doc["paths"]["/sessions/{session_id}/media/{storage_key}"]["get"]["responses"]
    assert set(media) == {"200", "307", "400", *key_codes, "403", "404", "422", "429", "500", "502", "503", "504"}
    assert "binary" in str(media["200"])
    assert "Location" in media["307"]["headers"]


def test_security_only_when_a_key_is_configured() -> None:
    open_doc, secured_doc = document(), document(OS_SECURITY_KEY=KEY)
    assert "securitySchemes" not in open_doc["components"]
    assert secured_doc["components"]["securitySchemes"] == {
        "HTTPBearer": {
            "type": "http",
            "scheme": "bearer",
            "description": secured_doc["components"]["securitySchemes"]["HTTPBearer"]["description"],
        }
    }
    for doc, secured in ((open_doc, False), (secured_doc, True)):
        for path, item in doc["paths"].items():
            for method, op in item.items():
                needs_key = secured and path not in UNAUTHENTICATED_PATHS
                assert ("security" in op) == needs_key, f"{method} {path}"
                assert ("401" in op["responses"]) == needs_key, f"{method} {path}"
                if needs_key:
                    assert op["security"] == [{"HTTPBearer": []}]


def test_refs_resolve_and_every_component_is_used() -> None:
    doc = document(OS_SECURITY_KEY=KEY)
    text = json.dumps(doc)
    refs = set(re.findall(r'"\$ref": "#/components/([a-zA-Z]+)/([^"]+)"', text))
    for section, name in refs:
        assert name in doc["components"][section], f"dangling $ref {section}/{name}"
    for section in ("schemas", "responses", "headers"):
        for name in doc["components"][section]:
            assert (section, name) in refs, f"unused component {section}/{name}"


def test_document_does_not_depend_on_the_key_value() -> None:
    assert document(OS_SECURITY_KEY="a") == document(OS_SECURITY_KEY="b")
    assert "openapi-test-key" not in json.dumps(document(OS_SECURITY_KEY=KEY))


@pytest.fixture
def app() -> tornado.web.Application:
    return make_test_app(OS_SECURITY_KEY=KEY, AGNO_MAX_PAGE_SIZE="50")


@pytest.mark.gen_test
async def test_served_without_auth_and_page_limits_are_enforced(http_client: Any, base_url: str) -> None:
    response = await http_client.fetch(base_url + "/openapi.json")
    assert response.code == 200
    assert response.headers["Content-Type"] == "application/json"
    doc = json.loads(response.body)
    assert doc == document(OS_SECURITY_KEY=KEY, AGNO_MAX_PAGE_SIZE="50")
    headers = {"Authorization": f"Bearer {KEY}"}
    over = await http_client.fetch(base_url + "/sessions?limit=51", headers=headers, raise_error=False)
    assert over.code == 422  # the documented maximum is the one the handler enforces (no database needed)
    assert json.loads(over.body)["detail"][0]["ctx"] == {"le": 50}
    page = {p["name"]: p for p in doc["paths"]["/sessions"]["get"]["parameters"]}["page"]["schema"]["anyOf"][0]
    below_minimum = f"/sessions?page={page['minimum'] - 1}"
    below = await http_client.fetch(base_url + below_minimum, headers=headers, raise_error=False)
    assert below.code == 422  # so does the documented minimum of page
    assert json.loads(below.body)["detail"][0]["ctx"] == {"ge": page["minimum"]}
    name = {p["name"]: p for p in doc["paths"]["/sessions"]["get"]["parameters"]}["session_name"]["schema"]["anyOf"][0]
    too_long = await http_client.fetch(
        base_url + "/sessions?session_name=" + "x" * (name["maxLength"] + 1), headers=headers, raise_error=False
    )
    assert too_long.code == 422  # and the documented maximum length of a name search
    assert json.loads(too_long.body)["detail"][0]["ctx"] == {"max_length": name["maxLength"]}
    unauthenticated = await http_client.fetch(base_url + "/sessions", raise_error=False)
    assert unauthenticated.code == 401


def golden_answers() -> list[tuple[str, str, str, int, Any]]:
    """(name, method, path, status, body) of each golden answer of AgentOS (ours are equal: tests/api/test_golden)."""
    reads = json.loads((FIXTURES / "golden_reads.json").read_text("utf-8"))
    mutations = json.loads((FIXTURES / "golden_mutations.json").read_text("utf-8"))
    out = [(case["name"], "GET", case["path"], 200, case["response"]) for case in reads]
    for case in mutations:
        method = "POST" if case["path"].endswith("/rename") else "PATCH"
        if case["status"] < 500:  # a 500 of AgentOS is a divergence: we answer otherwise
            out.append((case["name"], method, case["path"], case["status"], case["response"]))
    return out


@pytest.mark.parametrize("answer", golden_answers(), ids=lambda a: a[0])
def test_golden_answers_conform_to_the_document(answer: tuple[str, str, str, int, Any]) -> None:
    _, method, path, status, body = answer
    assert SCHEMAS.operation(method, path) is not None, f"{method} {path} matches no documented operation"
    assert SCHEMAS.problems(method, path, status, "application/json", body) == []


def test_conformance_check_finds_a_wrong_answer() -> None:
    """The check itself: a missing required field, a wrong type and an undocumented status are found."""
    assert SCHEMAS.problems("GET", "/sessions/s1", 200, "application/json", {"session_id": "s1"}) != []
    body = {"data": [{"session_id": 1, "session_name": "x"}], "meta": {}}
    assert SCHEMAS.problems("GET", "/sessions", 200, "application/json", body) != []
    assert SCHEMAS.problems("GET", "/sessions", 418, "application/json", {"detail": "x"}) != []
    assert SCHEMAS.problems("DELETE", "/sessions/s1", 204, None, None) == []


SCHEMAS = ResponseSchemas(document())
