"""Schema-driven fuzzing: schemathesis generates valid and invalid requests for every operation of
our own /openapi.json and sends them to the running service. No 5xx (media's designed 503 aside),
every error a JSON object with `detail`, every success JSON (204 aside), and every answer documented:
its status listed for the operation and its body valid against the declared schema (schemathesis's
`status_code_conformance` and `response_schema_conformance` checks).

Generation is derandomized (the same cases each run, so CI cannot flake on a lucky draw); failures
are collected with a curl command to replay each.
"""

from __future__ import annotations

import collections
import json
from collections.abc import Callable
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from service.handlers.sessions import MEDIA_NOT_CONFIGURED

from .harness import call

EXAMPLES_PER_OPERATION = 25


def problem_with(response: schemathesis.Response) -> str | None:
    """What is wrong with an answer, or None. (Header names are lower case, values lists.)"""
    status = response.status_code
    content_type = (response.headers.get("content-type") or [""])[0]
    is_json = content_type.startswith("application/json")
    body: Any = None
    if is_json and response.content:
        try:
            body = json.loads(response.content)
        except ValueError:
            return "invalid JSON body"
    if status == 503 and body == {"detail": MEDIA_NOT_CONFIGURED}:
        return None
    if status >= 500:
        return f"server error {status}"
    if status >= 400 and not (is_json and isinstance(body, dict) and "detail" in body):
        return f"{status} without a JSON detail"
    path = response.request.path_url or ""
    if 200 <= status < 300 and status != 204 and not is_json and not path.startswith(("/docs", "/redoc", "/metrics")):
        return f"{status} without a JSON body"
    return None


def fuzz(raw_schema: dict[str, Any], base_url: str, examples: int) -> dict[str, Any]:
    schema = schemathesis.openapi.from_dict(raw_schema)
    statuses: collections.Counter[int] = collections.Counter()
    failures: list[str] = []
    operations = 0
    skipped: list[str] = []
    with requests.Session() as http:
        for result in schema.get_all_operations():
            operation = result.ok()  # type: ignore[union-attr]  # an invalid schema raises: the test fails
            operations += 1
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

                @settings(
                    max_examples=examples,
                    deadline=None,
                    derandomize=True,
                    database=None,
                    phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=list(HealthCheck),
                )
                @given(case=operation.as_strategy(generation_mode=mode))
                def send(case: Any) -> None:
                    response = case.call(base_url=base_url, session=http, timeout=15)
                    statuses[response.status_code] += 1
                    problem = problem_with(response)
                    try:
                        case.validate_response(response, checks=[status_code_conformance, response_schema_conformance])
                    except Exception as exc:  # schemathesis's failure group: the answer breaks our document
                        problem = problem or f"not as documented: {str(exc)[:300]}"
                    if problem:
                        failures.append(f"{problem}: {response.text[:200]!r}\n  {case.as_curl_command()}")

                try:
                    send()
                except Unsatisfiable:
                    # nothing to generate in this mode (e.g. no parameter can be made invalid)
                    skipped.append(f"{operation.method.upper()} {operation.path} {mode.value}")
    return {
        "operations": operations,
        "requests": sum(statuses.values()),
        "statuses": statuses,
        "failures": failures,
        "not_generated": skipped,
    }


@pytest.mark.slow
def test_openapi_fuzz(module_service: Callable[..., Any], figures: dict[str, Any]) -> None:
    service = module_service()
    reply = call(service.base_url, "GET", "/openapi.json")
    assert reply.status == 200, reply
    results = fuzz(reply.json(), service.base_url, EXAMPLES_PER_OPERATION)
    assert call(service.base_url, "GET", "/healthz").status == 200
    assert results["operations"] > 0
    assert results["requests"] >= results["operations"], results
    figures.update(
        {
            "operations": results["operations"],
            "requests_sent": results["requests"],
            "statuses": {str(k): v for k, v in sorted(results["statuses"].items())},
            "failures": len(results["failures"]),
        }
    )
    failures = results["failures"]
    assert not failures, f"{len(failures)} bad answers, e.g.:\n" + "\n".join(failures[:10])
