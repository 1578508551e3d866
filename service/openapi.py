"""The OpenAPI 3.1 document of the service (served at `/openapi.json`), built as a plain dict.

The `/sessions` operations mirror AgentOS 3.1.10's own document: same paths, operationIds, tags,
parameter names, types, enums and defaults, same request-body and response schema names and fields.
Where this service answers differently the document says what *we* do (docs/api.md lists it):

- `limit` has a maximum (AGNO_MAX_PAGE_SIZE) and `page` a minimum of 1 (AgentOS: no cap; page=0 is a 500);
- POST /sessions accepts two import extension fields, `runs` and `summary`;
- `summary` (POST and PATCH) is validated (422) instead of failing with a 500;
- the infrastructure answers 409 (run id conflict), 413, 503 (with Retry-After) and 504 are documented;
- the media endpoint answers 503 unless AGNO_MEDIA_STORAGE is set; a failing storage is a 502 (AgentOS: 500);
- `HTTPBearer` security and the 401 answers appear only when OS_SECURITY_KEY is configured.

Descriptions are ours. Nothing here does I/O; the document depends only on the config values
passed to `build_openapi` and is cached per process by the docs handler.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from service import AGNO_VERSION, __version__
from service.operations import ENUMS, OPERATIONS, Operation, Param, json_answer
from service.schemas import Schema, component_schemas, nullable, ref

OPENAPI_VERSION = "3.1.0"
JSON = "application/json"

SESSIONS_TAG = "Sessions"
MEDIA_TAG = "Media"
HEALTH_TAG = "Health"
MONITORING_TAG = "Monitoring"
DOCS_TAG = "Docs"


_SCALARS: dict[str, Schema] = {
    "str": {"type": "string"},
    "raw": {"type": "string"},
    "int": {"type": "integer"},
    "bool": {"type": "boolean"},
    "strs": {"type": "array", "items": {"type": "string"}},
}


def parameter(param: Param, bounds: Mapping[str, int]) -> Schema:
    """A parameter in FastAPI's style: optional query values are `anyOf [T, null]`. `bounds`: the
    configured values of the bounds a spec names (`max_page_size`, `search_max_length`)."""
    schema = ref(param.type) if param.type in ENUMS else dict(_SCALARS[param.type])
    minimum = param.ge if param.minimum is None else param.minimum
    if minimum is not None:
        schema["minimum"] = minimum
    if param.le is not None:
        schema["maximum"] = bounds[param.le] if isinstance(param.le, str) else param.le
    if param.max_length is not None:
        schema["maxLength"] = bounds[param.max_length] if isinstance(param.max_length, str) else param.max_length
    out: Schema = {"name": param.name, "in": param.location, "required": param.location == "path"}
    if param.location == "path":
        return {**out, "schema": schema, "description": param.description}
    inner = nullable(schema) if param.nullable else schema
    if param.default is not None:
        inner["default"] = param.default
    return {**out, "schema": inner, "description": param.description}


# --------------------------------------------------------------------------------------------------------
# responses
# --------------------------------------------------------------------------------------------------------
def _error(description: str, schema_name: str) -> Schema:
    return json_answer(description, ref(schema_name))


def _shared(name: str) -> Schema:
    return {"$ref": f"#/components/responses/{name}"}


def component_responses() -> dict[str, Schema]:
    return {
        "Unauthorized": json_answer(
            "Missing or wrong bearer token (`Authorization header required` / `Invalid authentication token`).",
            ref("UnauthenticatedResponse"),
        ),
        "Forbidden": json_answer(
            "The token lacks a scope the operation needs (`Insufficient permissions. Required scope(s): ...`), "
            "or user isolation is on and the token names no user.",
            ref("ErrorResponse"),
        ),
        "TooManyRequests": json_answer(
            "Too many failed service-account token attempts from this client within a minute.", ref("ErrorResponse")
        ),
        "PayloadTooLarge": json_answer("The request body is larger than AGNO_MAX_BODY_BYTES.", ref("ErrorResponse")),
        "ServiceUnavailable": {
            "description": (
                "The database is unreachable (`Database unavailable`, Retry-After: 2), no pooled connection "
                "became free in time (`Service overloaded: ...`, Retry-After: 1), agno's tables are missing "
                "and AGNO_AUTO_PROVISION is false, or media was asked for without AGNO_MEDIA_STORAGE (`Media storage "
                "is not configured on AgentOS`, as AgentOS without media storage); the last two without Retry-After."
            ),
            "headers": {"Retry-After": {"$ref": "#/components/headers/Retry-After"}},
            "content": {JSON: {"schema": ref("ErrorResponse")}},
        },
        "GatewayTimeout": json_answer(
            "The request ran past AGNO_REQUEST_TIMEOUT (`Request timed out`) or a statement past "
            "AGNO_STATEMENT_TIMEOUT (`Database statement timed out`).",
            ref("ErrorResponse"),
        ),
    }


def _responses(
    success: tuple[str, Schema],
    *,
    secured: bool,
    body: bool = False,
    bad_request: str = "db_id/table rules: db_id missing with several databases or with `table`",
    not_found: str = "Unknown db_id, or a table that does not exist",
    extra: dict[str, Schema] | None = None,
) -> dict[str, Schema]:
    out: dict[str, Schema] = {success[0]: success[1], "400": _error(bad_request, "BadRequestResponse")}
    # scope checks and the service-account throttle apply with or without OS_SECURITY_KEY
    out["403"] = _shared("Forbidden")
    out["429"] = _shared("TooManyRequests")
    if secured:
        out["401"] = _shared("Unauthorized")
    out["404"] = _error(not_found, "NotFoundResponse")
    out.update(extra or {})
    if body:
        out["413"] = _shared("PayloadTooLarge")
    out["422"] = _error("Invalid query parameters or body", "ValidationErrorResponse")
    out["500"] = _error("Unexpected error (`Internal server error`)", "InternalServerErrorResponse")
    out["503"] = _shared("ServiceUnavailable")
    out["504"] = _shared("GatewayTimeout")
    return dict(sorted(out.items()))


def _operation(op: Operation, parameters: list[Schema], responses: dict[str, Schema], *, secured: bool) -> Schema:
    out: Schema = {
        "tags": [op.tag],
        "summary": op.summary,
        "description": op.description,
        "operationId": op.operation_id,
    }
    if parameters:
        out["parameters"] = parameters
    if op.body is not None:
        out["requestBody"] = op.body
    out["responses"] = responses
    if secured:
        out["security"] = [{"HTTPBearer": []}]
    return out


# --------------------------------------------------------------------------------------------------------
# paths
# --------------------------------------------------------------------------------------------------------
def paths(bounds: Mapping[str, int], secured: bool) -> dict[str, Schema]:
    out: dict[str, Schema] = {}
    for op in OPERATIONS.values():
        if op.open:
            responses = {op.success[0]: op.success[1], **(op.extra or {})}
        else:
            responses = _responses(
                op.success,
                secured=secured,
                body=op.body is not None,
                bad_request=op.bad_request,
                not_found=op.not_found,
                extra=op.extra,
            )
        out.setdefault(op.path, {})[op.method] = _operation(
            op,
            [parameter(param, bounds) for param in op.params],
            responses,
            secured=secured and not op.open,
        )
    return out


def build_openapi(*, max_page_size: int, search_max_length: int, secured: bool) -> dict[str, Any]:
    """The whole document. `secured`: OS_SECURITY_KEY is configured (bearer auth on /sessions)."""
    auth_note = (
        "Every /sessions operation needs `Authorization: Bearer <OS_SECURITY_KEY>`."
        if secured
        else "No OS_SECURITY_KEY is configured: no authentication."
    )
    components: dict[str, Any] = {
        "schemas": component_schemas(),
        "responses": component_responses(),
        "headers": {
            "Retry-After": {
                "description": "Seconds to wait before retrying (1 when overloaded, 2 when the database is down).",
                "schema": {"type": "integer", "minimum": 0},
            }
        },
    }
    if secured:
        components["securitySchemes"] = {
            "HTTPBearer": {
                "type": "http",
                "scheme": "bearer",
                "description": "The OS_SECURITY_KEY value. The `Bearer ` prefix is optional (case-insensitive).",
            }
        }
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "agno-session",
            "version": __version__,
            "summary": f"The Agno AgentOS {AGNO_VERSION} /sessions API, served from PostgreSQL.",
            "description": (
                f"JSON-compatible with AgentOS {AGNO_VERSION}'s /sessions endpoints over agno's own PostgreSQL "
                f"tables. {auth_note} Differences from AgentOS are listed in docs/api.md and "
                "docs/compatibility.md."
            ),
        },
        "tags": [
            {"name": SESSIONS_TAG, "description": "AgentOS's sessions API."},
            {"name": MEDIA_TAG, "description": "Session media from the media storage (AGNO_MEDIA_STORAGE)."},
            {"name": HEALTH_TAG, "description": "Health and Kubernetes probes (no authentication)."},
            {"name": MONITORING_TAG, "description": "Prometheus metrics (no authentication)."},
            {"name": DOCS_TAG, "description": "This document and the API page (no authentication)."},
        ],
        "paths": paths({"max_page_size": max_page_size, "search_max_length": search_max_length}, secured),
        "components": components,
    }


# --------------------------------------------------------------------------------------------------------
# route regexes <-> path templates
# --------------------------------------------------------------------------------------------------------
_GROUP = re.compile(r"\(\?P<([A-Za-z_][A-Za-z0-9_]*)>(?:[^()]|\([^()]*\))*\)")


def path_template(route_regex: str) -> str:
    """A Tornado route regex as an OpenAPI path: `/sessions/(?P<session_id>[^/]+)/?` -> `/sessions/{session_id}`."""
    text = route_regex.rstrip("$")
    if text.endswith("/?"):
        text = text[:-2]
    text = _GROUP.sub(lambda m: "{" + m.group(1) + "}", text)
    text = re.sub(r"\\(.)", r"\1", text)  # regex escapes: `\.` -> `.`
    return text or "/"
