"""Over HTTP, the service answers the AgentOS oracle's golden read cases JSON-equal (values and key order),
on the oracle's own seed data stored as agno stores it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.api.conftest import FIXTURES, assert_json_equal, running_api

READS: list[dict[str, Any]] = json.loads((FIXTURES / "golden_reads.json").read_text("utf-8"))


@pytest.mark.gen_test(timeout=60)
@pytest.mark.parametrize("case", READS, ids=[c["name"] for c in READS])
async def test_golden_read(seeded_dsn: str, case: dict[str, Any]) -> None:
    async with running_api({"AGNO_PG_DSN": seeded_dsn}) as api:
        reply = await api.call("GET", case["path"], query=[tuple(q) for q in case["query"]])
    assert reply.status == 200, reply.text
    assert_json_equal(reply.json, case["response"])
