"""Seed the contract suite's media database through agno (agno==3.1.10): runs whose media agno's own
offload (`offload_run_media`, `offload_workflow_media`) uploaded to a `LocalMediaStorage` directory and to
an `S3MediaStorage` bucket (a moto server the suite started), plus hand-made `MediaReference`s for the
states the offload never writes but a database can hold (keys that leave the storage root, references of
another backend/bucket/region, odd mime types, objects that are gone).

Runs inside `.venv-agentos` (never imported by the project):

    .venv-agentos/bin/python tests/contract/agno_side/seed_media.py --url postgresql+psycopg://... \\
        --db-id contract-media --local-root DIR [--s3-endpoint http://127.0.0.1:PORT]

Prints one JSON object on stdout: {"sessions": N, "runs": M, "seconds": S}.
"""

import argparse
import importlib.util
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("AGNO_TELEMETRY", "false")

from agno.db.postgres import PostgresDb
from agno.media import Audio, File, Image
from agno.media.reference import MediaReference
from agno.media.storage import LocalMediaStorage, S3MediaStorage
from agno.models.message import Message
from agno.run.agent import RunInput, RunOutput
from agno.run.team import TeamRunOutput
from agno.run.workflow import WorkflowRunOutput
from agno.session import AgentSession, TeamSession, WorkflowSession
from agno.utils.media_offload import offload_run_media, offload_workflow_media
from sqlalchemy import text

_spec = importlib.util.spec_from_file_location(
    "media_objects", Path(__file__).resolve().parent.parent / "media_objects.py"
)
assert _spec is not None
assert _spec.loader is not None
M = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(M)

T0 = 1767225600  # 2026-01-01T00:00:00Z


def media(media_id: str) -> Any:
    cls, mime, filename, content, _ = M.OBJECTS[media_id]
    kw: dict[str, Any] = {"id": media_id, "content": content}
    if mime:
        kw["mime_type"] = mime
    if filename:
        kw["filename"] = filename
    return {"Image": Image, "File": File, "Audio": Audio}[cls](**kw)


def ref_image(key: str, backend: str, bucket: str | None, session_id: str, **kw: Any) -> Image:
    """An image that is only a reference (what a stored run holds after the offload)."""
    ref = MediaReference(
        media_id=kw.pop("media_id", "hand"),
        storage_key=key,
        session_id=session_id,
        storage_backend=backend,
        bucket=bucket,
        **kw,
    )
    return Image(media_reference=ref)


def agent_run(sid: str, rid: str, t: int, **kw: Any) -> RunOutput:
    return RunOutput(
        run_id=rid,
        agent_id="media-agent",
        agent_name="Media Agent",
        session_id=sid,
        user_id=M.USER,
        input=kw.pop("input", RunInput(input_content="Look at these")),
        content="Seen.",
        created_at=t,
        **kw,
    )


def check_keys(sid: str, backend: str, run: Any, ids: list[str]) -> None:
    got = {m.media_reference.storage_key for m in _all_media(run) if m.media_reference is not None}
    for media_id in ids:
        expected = M.key(sid, media_id, backend)
        if expected not in got:
            raise SystemExit(f"agno stored {sorted(got)}, expected {expected} (fix media_objects.OBJECTS)")


def _all_media(run: Any) -> list[Any]:
    from agno.utils.media_offload import iter_run_media

    return list(iter_run_media(run))


def main_session(backend: str, storage: Any, bucket: str, t: int) -> AgentSession:
    """Every kind of object, offloaded by agno, plus hand-made references."""
    sid = f"media-{backend}"
    run = agent_run(
        sid,
        f"{sid}-r1",
        t,
        input=RunInput(input_content="Look at these", images=[media("png")], files=[media("txt")]),
        messages=[
            Message(role="user", content="Look at these", images=[media("svg")], created_at=t),
            Message(role="assistant", content="Seen.", files=[media("xml")], created_at=t),
        ],
        files=[media(i) for i in ("html", "csv", "bare", "empty", "big")],
        response_audio=media("wav"),
    )
    offload_run_media(run, storage, sid)
    check_keys(sid, backend, run, list(M.OBJECTS))
    hand: list[Image] = []
    # odd mime types on references to real objects
    for name, mime in (
        ("mime-upper.bin", "IMAGE/PNG; q=1"),
        ("mime-bad.bin", "not a mime"),
        ("mime-html-param.bin", "text/html; charset=utf-8"),
        ("mime-empty.bin", ""),
        ("mime-none.js", None),
        ("mime-none.json", None),
    ):
        key = storage.upload(f"{sid}-{name.rsplit('.', 1)[0]}", b"odd " + name.encode(), filename=name)
        hand.append(ref_image(key, backend, bucket, sid, mime_type=mime, media_id=name))
    other = "s3" if backend == "local" else "local"
    hand.append(
        ref_image(f"{M.S3_PREFIX if backend == 's3' else ''}gone.png", backend, bucket, sid, mime_type="image/png")
    )
    # real objects whose references name another backend, bucket or region: the 404 comes from that check
    mismatches = [("other-backend", other, bucket, None), ("other-bucket", backend, "/elsewhere", None)]
    if backend == "s3":
        mismatches.append(("other-region", backend, bucket, "eu-west-1"))
    for name, ref_backend, ref_bucket, region in mismatches:
        key = storage.upload(f"{sid}-{name}", M.PNG, mime_type="image/png")
        hand.append(ref_image(key, ref_backend, ref_bucket, sid, region=region, media_id=name))
    if backend == "local":
        hand += [
            ref_image("../outside-secret.txt", "local", bucket, sid),
            ref_image("escape.txt", "local", bucket, sid),
            ref_image("/etc/hostname", "local", bucket, sid),
            ref_image("subdir", "local", bucket, sid),
            ref_image("CON.txt", "local", bucket, sid),
        ]
    run.images = hand
    return AgentSession(session_id=sid, agent_id="media-agent", user_id=M.USER, runs=[run], created_at=t, updated_at=t)


def simple_session(sid: str, backend: str, storage: Any, t: int, extra: list[Image] | None = None) -> AgentSession:
    run = agent_run(sid, f"{sid}-r1", t, input=RunInput(input_content="One image", images=[media("png")]))
    offload_run_media(run, storage, sid)
    check_keys(sid, backend, run, ["png"])
    if extra:
        run.images = extra
    return AgentSession(session_id=sid, agent_id="media-agent", user_id=M.USER, runs=[run], created_at=t, updated_at=t)


def team_session(backend: str, storage: Any, t: int) -> TeamSession:
    sid = f"media-team-{backend}"
    member = agent_run(sid, f"{sid}-m1", t, images=[media("png")])
    run = TeamRunOutput(
        run_id=f"{sid}-r1",
        team_id="media-team",
        team_name="Media Team",
        session_id=sid,
        user_id=M.USER,
        content="Delegated.",
        created_at=t,
        member_responses=[member],
        files=[media("txt")],
    )
    offload_run_media(run, storage, sid)
    check_keys(sid, backend, run, ["png", "txt"])
    return TeamSession(session_id=sid, team_id="media-team", user_id=M.USER, runs=[run], created_at=t, updated_at=t)


def workflow_session(backend: str, storage: Any, t: int) -> WorkflowSession:
    sid = f"media-wf-{backend}"
    run = WorkflowRunOutput(
        run_id=f"{sid}-r1",
        workflow_id="media-workflow",
        workflow_name="Media Workflow",
        session_id=sid,
        user_id=M.USER,
        content="Done.",
        created_at=t,
        images=[media("png")],
    )
    offload_workflow_media(run, storage, sid)
    check_keys(sid, backend, run, ["png"])
    return WorkflowSession(
        session_id=sid, workflow_id="media-workflow", user_id=M.USER, runs=[run], created_at=t, updated_at=t
    )


def inherited(of: AgentSession, backend: str, bucket: str) -> Image:
    """A reference to another session's object (a forked run holds these): not this session's to delete."""
    return ref_image(M.key(of.session_id, "png", backend), backend, bucket, of.session_id, mime_type="image/png")


def backend_sessions(backend: str, storage: Any, bucket: str, t: int) -> list[Any]:
    keep = simple_session(f"media-keep-{backend}", backend, storage, t + 10)
    sessions: list[Any] = [
        main_session(backend, storage, bucket, t),
        simple_session(f"media-other-{backend}", backend, storage, t + 1),
        team_session(backend, storage, t + 2),
        workflow_session(backend, storage, t + 3),
        keep,
    ]
    for n, twin in enumerate(("-os", "-us")):
        tt = t + 20 + 10 * n
        deleted = [
            simple_session(
                f"media-{name}-{backend}{twin}", backend, storage, tt + i, [inherited(keep, backend, bucket)]
            )
            for i, name in enumerate(("del", "bulk", "deluser", "plain"))
        ]
        witness = simple_session(
            f"media-witness-{backend}{twin}", backend, storage, tt + 5, [inherited(s, backend, bucket) for s in deleted]
        )
        sessions += [*deleted, witness]
    return sessions


def write(db: PostgresDb, sessions: list[Any]) -> None:
    db.upsert_sessions(sessions, deserialize=False, preserve_updated_at=True)
    for s in sessions:
        for idx, run in enumerate(s.runs or []):
            db.upsert_run(run, session_id=s.session_id, user_id=s.user_id, run_index=idx)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True, help="postgresql+psycopg:// URL")
    ap.add_argument("--db-id", default="contract-media")
    ap.add_argument("--local-root", required=True)
    ap.add_argument("--s3-endpoint")
    a = ap.parse_args()
    started = time.time()
    db = PostgresDb(db_url=a.url, id=a.db_id)
    db._create_all_tables()
    root = Path(a.local_root)
    local = LocalMediaStorage(base_path=str(root))
    # what a storage root can hold besides agno's objects: a directory, a symlink leading out of the root
    (root / "subdir").mkdir(exist_ok=True)
    outside = root.parent / "outside-secret.txt"
    outside.write_text("not media\n")
    if not (root / "escape.txt").is_symlink():
        (root / "escape.txt").symlink_to(outside)
    (root / "CON.txt").write_text("a Windows device name\n")
    sessions = backend_sessions("local", local, local.bucket, T0)
    if a.s3_endpoint:
        import boto3

        boto3.client("s3", endpoint_url=a.s3_endpoint, region_name=M.S3_REGION).create_bucket(Bucket=M.BUCKET)
        s3 = S3MediaStorage(M.BUCKET, prefix=M.S3_PREFIX, region=M.S3_REGION, endpoint_url=a.s3_endpoint)
        sessions += backend_sessions("s3", s3, M.BUCKET, T0 + 1000)
    write(db, sessions)
    with db.db_engine.connect() as c:
        counts = c.execute(text("SELECT (SELECT count(*) FROM ai.agno_sessions), (SELECT count(*) FROM ai.agno_runs)"))
        n_s, n_r = counts.one()
    json.dump({"sessions": n_s, "runs": n_r, "seconds": round(time.time() - started, 1)}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
