"""The OpenAPI 3.1 document of the service (served at `/openapi.json`), built as a plain dict.

Assembled from the operation specs (service/operations.py) and the field tables (service/schemas.py).
The `/sessions` operations mirror AgentOS 3.1.10's own document (paths, operationIds, tags, parameter
names, types, enums, defaults, schema names and fields); where this service answers differently, the
document says what *we* do (docs/api.md lists it). No I/O: the document depends only on the config
values passed to `build_openapi` and is cached per process by the docs handler.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from service import AGNO_VERSION, __version__
from service.operations import OPERATIONS, Operation, Param, json_answer
from service.schemas import ENUMS, Schema, component_schemas, json_schema, nullable, ref


def parameter(param: Param, bounds: Mapping[str, int]) -> Schema:
    """A parameter in FastAPI's style: optional query values are `anyOf [T, null]`. `bounds`: the
    configured values of the bounds a spec names (`max_page_size`, `search_max_length`)."""
    schema = ref(param.type) if param.type in ENUMS else json_schema("str" if param.type == "raw" else param.type)
    minimum = param.ge if param.minimum is None else param.minimum
    le, max_length = (bounds[b] if isinstance(b, str) else b for b in (param.le, param.max_length))
    for key, bound in (("minimum", minimum), ("maximum", le), ("maxLength", max_length)):
        if bound is not None:
            schema[key] = bound
    out: Schema = {"name": param.name, "in": param.location, "required": param.location == "path"}
    if param.location == "path":
        return {**out, "schema": schema, "description": param.description}
    inner = nullable(schema) if param.nullable else schema
    if param.default is not None:
        inner["default"] = param.default
    return {**out, "schema": inner, "description": param.description}


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
            "content": {"application/json": {"schema": ref("ErrorResponse")}},
        },
        "GatewayTimeout": json_answer(
            "The request ran past AGNO_REQUEST_TIMEOUT (`Request timed out`) or a statement past "
            "AGNO_STATEMENT_TIMEOUT (`Database statement timed out`).",
            ref("ErrorResponse"),
        ),
    }


def _responses(op: Operation, *, secured: bool) -> dict[str, Schema]:
    if op.open:
        return {op.success[0]: op.success[1], **(op.extra or {})}
    out = {op.success[0]: op.success[1], "400": json_answer(op.bad_request, ref("BadRequestResponse"))}
    # scope checks and the service-account throttle apply with or without OS_SECURITY_KEY
    out["403"] = _shared("Forbidden")
    out["429"] = _shared("TooManyRequests")
    if secured:
        out["401"] = _shared("Unauthorized")
    out["404"] = json_answer(op.not_found, ref("NotFoundResponse"))
    out.update(op.extra or {})
    if op.body is not None:
        out["413"] = _shared("PayloadTooLarge")
    out["422"] = json_answer("Invalid query parameters or body", ref("ValidationErrorResponse"))
    out["500"] = json_answer("Unexpected error (`Internal server error`)", ref("InternalServerErrorResponse"))
    out["503"] = _shared("ServiceUnavailable")
    out["504"] = _shared("GatewayTimeout")
    return dict(sorted(out.items()))


def paths(bounds: Mapping[str, int], secured: bool) -> dict[str, Schema]:
    out: dict[str, Schema] = {}
    for op in OPERATIONS.values():
        operation: Schema = {
            "tags": [op.tag],
            "summary": op.summary,
            "description": op.description,
            "operationId": op.operation_id,
        }
        if op.params:
            operation["parameters"] = [parameter(param, bounds) for param in op.params]
        if op.body is not None:
            operation["requestBody"] = op.body
        operation["responses"] = _responses(op, secured=secured)
        if secured and not op.open:
            operation["security"] = [{"HTTPBearer": []}]
        out.setdefault(op.path, {})[op.method] = operation
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
        "openapi": "3.1.0",
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
            {"name": "Sessions", "description": "AgentOS's sessions API."},
            {"name": "Media", "description": "Session media from the media storage (AGNO_MEDIA_STORAGE)."},
            {"name": "Health", "description": "Health and Kubernetes probes (no authentication)."},
            {"name": "Monitoring", "description": "Prometheus metrics (no authentication)."},
            {"name": "Docs", "description": "This document and the API page (no authentication)."},
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
