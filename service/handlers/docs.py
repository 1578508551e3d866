"""`/openapi.json` and `/docs` (filled in by the API-docs work)."""

from __future__ import annotations

from typing import Any

default_handlers: list[Any] = []
