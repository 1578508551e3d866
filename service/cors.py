"""CORS exactly as AgentOS 3.1.10 answers it: Starlette's CORSMiddleware with AgentOS's settings
(credentials allowed, every method, any requested header, every header exposed), docs/security.md.

Pure functions from the request's CORS headers to the answer's; the base handler applies them.
"""

from __future__ import annotations

from dataclasses import dataclass

PREFLIGHT_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "QUERY")
PREFLIGHT_VARY = (
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network"
)
AUTH_ERROR_HEADERS = {"Access-Control-Allow-Methods": "*", "Access-Control-Allow-Headers": "*"}
"""Added by AgentOS's auth middleware to its own 401/403/429/503 answers for an allowed origin."""


def answer_headers(origin: str | None, allowed_origins: tuple[str, ...]) -> dict[str, str]:
    """Headers of every answer that is not a preflight."""
    headers: dict[str, str] = {}
    if origin is not None:
        headers["Access-Control-Allow-Credentials"] = "true"
        headers["Access-Control-Expose-Headers"] = "*"
        if origin in allowed_origins:
            headers["Access-Control-Allow-Origin"] = origin
    headers["Vary"] = "Origin"
    return headers


@dataclass(frozen=True)
class Preflight:
    status: int
    headers: dict[str, str]
    body: str


def preflight(
    origin: str,
    method: str,
    requested_headers: str | None,
    private_network: bool,
    allowed_origins: tuple[str, ...],
) -> Preflight:
    """The answer to `OPTIONS` with an `Origin` and an `Access-Control-Request-Method` (any path, before auth)."""
    headers = {
        "Vary": PREFLIGHT_VARY,
        "Access-Control-Allow-Methods": ", ".join(PREFLIGHT_METHODS),
        "Access-Control-Max-Age": "600",
        "Access-Control-Allow-Credentials": "true",
    }
    failures = []
    if origin in allowed_origins:
        headers["Access-Control-Allow-Origin"] = origin
    else:
        failures.append("origin")
    if method not in PREFLIGHT_METHODS:
        failures.append("method")
    if requested_headers is not None:
        headers["Access-Control-Allow-Headers"] = requested_headers
    if private_network:
        failures.append("private-network")
    if failures:
        return Preflight(400, headers, "Disallowed CORS " + ", ".join(failures))
    return Preflight(200, headers, "OK")
