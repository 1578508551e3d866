"""Runs list, run previews, one run and media (docs/agentos.md §6)."""

from __future__ import annotations

import pytest

from tests.api.conftest import SEED, running_api

STATUSES = "['CANCELLED', 'COMPLETED', 'ERROR', 'PAUSED', 'PENDING', 'REGENERATED', 'RUNNING']"


@pytest.mark.gen_test(timeout=60)
async def test_runs_errors_and_filters(seeded_dsn: str) -> None:
    async with running_api({"AGNO_PG_DSN": seeded_dsn}) as api:
        missing = await api.get("/sessions/does-not-exist/runs")
        assert missing.status == 404
        assert missing.json == {"detail": "Session with ID does-not-exist not found"}
        invalid = await api.call("GET", "/sessions/does-not-exist/runs", query=[("status", "bogus"), ("status", "ok")])
        assert invalid.status == 400
        assert invalid.json == {"detail": f"Invalid status value(s) ['BOGUS', 'OK']; expected one of {STATUSES}"}
        bad_int = await api.get("/sessions/agent-sess-00/runs", created_after="yesterday")
        assert bad_int.status == 422
        assert bad_int.json["detail"][0]["loc"] == ["query", "created_after"]
        empty = await api.get("/sessions/agent-sess-empty/runs")
        assert empty.status == 200
        assert empty.json == []
        user_mismatch = await api.get("/sessions/agent-sess-00/runs", user_id="bob@example.com")
        assert user_mismatch.status == 404
        runs = SEED["agent-sess-02"]["runs"]
        multi = await api.call("GET", "/sessions/agent-sess-02/runs", query=[("status", "ERROR"), ("status", "paused")])
        assert [r["run_id"] for r in multi.json] == [r["run_id"] for r in runs if r["status"] in ("ERROR", "PAUSED")]
        created = sorted(r["created_at"] for r in SEED["agent-sess-00"]["runs"])
        middle = created[1]
        after = await api.get("/sessions/agent-sess-00/runs", created_after=str(middle))
        before = await api.get("/sessions/agent-sess-00/runs", created_before=str(middle))
        window = await api.get("/sessions/agent-sess-00/runs", created_after=str(middle), created_before=str(middle))
        assert [r["created_at"] for r in after.json]
        assert len(after.json) == len([c for c in created if c >= middle])
        assert len(before.json) == len([c for c in created if c <= middle])
        assert len(window.json) == 1
        previews = await api.get("/sessions/team-sess-01/run-previews", status="error")
        errored = [r["run_id"] for r in SEED["team-sess-01"]["runs"] if r["status"] == "ERROR"]
        assert errored
        assert [p["run_id"] for p in previews.json] == errored
        unknown_preview = await api.get("/sessions/nope/run-previews")
        assert unknown_preview.status == 404


@pytest.mark.gen_test(timeout=60)
async def test_single_run_errors(seeded_dsn: str) -> None:
    async with running_api({"AGNO_PG_DSN": seeded_dsn}) as api:
        no_session = await api.get("/sessions/does-not-exist/runs/r")
        assert no_session.json == {"detail": "Session with ID does-not-exist not found"}
        no_runs = await api.get("/sessions/agent-sess-empty/runs/x")
        assert no_runs.json == {"detail": "Session with ID agent-sess-empty has no runs"}
        other = await api.get("/sessions/agent-sess-00/runs/agent-sess-01-run-0")
        assert other.status == 404
        assert other.json == {"detail": "Run with ID agent-sess-01-run-0 not found in session agent-sess-00"}
        invalid_type = await api.get("/sessions/agent-sess-00/runs/agent-sess-00-run-1", type="robot")
        assert invalid_type.status == 422


@pytest.mark.gen_test(timeout=60)
async def test_media_is_unavailable_without_storage(seeded_dsn: str) -> None:
    async with running_api({"AGNO_PG_DSN": seeded_dsn}) as api:
        for key in ("a.png", "deep/path/x.wav", "../../etc/passwd", "%2e%2e/secret"):
            reply = await api.get(f"/sessions/agent-sess-00/media/{key}")
            assert reply.status == 503, key
            assert reply.json == {"detail": "Media storage is not configured on AgentOS"}
        bad = await api.get("/sessions/agent-sess-00/media/a.png", redirect="maybe")
        assert bad.status == 422
        assert bad.json["detail"][0]["type"] == "bool_parsing"
