"""Response conformance: does an answer match what our /openapi.json declares for that operation and status?

`ResponseSchemas(doc).problems(method, path, status, content_type, body)` lists what is wrong (empty when
the answer conforms): an undocumented status, a body where none is declared, or a JSON body that fails the
declared schema. Requests that match no documented operation are not judged. Validators are compiled once
per (operation, status), so checking thousands of answers stays cheap.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

HTTP_METHODS = ("get", "post", "put", "patch", "delete")


class ResponseSchemas:
    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.routes: list[tuple[re.Pattern[str], str]] = []
        for template in doc["paths"]:
            # {storage_key} may hold slashes (the media route takes the rest of the path)
            pattern = re.sub(r"\{([^}]+)\}", lambda m: ".+" if m.group(1) == "storage_key" else "[^/]+", template)
            self.routes.append((re.compile(f"^{pattern}{'/?' if template != '/' else ''}$"), template))
        self.validators: dict[tuple[str, str, str], Draft202012Validator] = {}

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]] | None:
        for regex, template in self.routes:
            if regex.match(path):
                op = self.doc["paths"][template].get(method.lower())
                return None if op is None else (template, op)
        return None

    def _response(self, response: dict[str, Any]) -> dict[str, Any]:
        if "$ref" in response:
            name = response["$ref"].rsplit("/", 1)[1]
            return dict(self.doc["components"]["responses"][name])
        return response

    def problems(self, method: str, path: str, status: int, content_type: str | None, body: Any) -> list[str]:
        found = self.operation(method, unquote(path.split("?", 1)[0]))  # routed decoded, as both services do
        if found is None:
            return []
        template, op = found
        where = f"{method.upper()} {template} {status}"
        declared = op["responses"].get(str(status))
        if declared is None:
            return [f"{where}: status not documented (documented: {', '.join(op['responses'])})"]
        content = self._response(declared).get("content")
        if not content:
            return [] if body in (None, "") else [f"{where}: a body where none is documented"]
        if "application/json" not in content:
            return []  # bytes of a documented other type (media: whatever type the object has)
        if not (content_type or "").startswith("application/json"):
            return [f"{where}: {content_type} instead of JSON"]
        key = (template, method.lower(), str(status))
        if key not in self.validators:
            schema = content["application/json"]["schema"]
            # the components travel with the schema, so `#/components/...` references resolve
            self.validators[key] = Draft202012Validator({**schema, "components": self.doc["components"]})
        error = best_match(self.validators[key].iter_errors(body))
        if error is None:
            return []
        at = "".join(f"[{p!r}]" for p in error.absolute_path)
        return [f"{where}: body{at}: {error.message[:300]}"]
