"""service/media.py: the local root's containment, answer headers, and which references a session holds
(the contract suite compares all of it with AgentOS; these pin the rules one by one)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from service.errors import MediaObjectMissing, MediaStorageFailed
from service.media import (
    LocalStorage,
    Reference,
    answer_headers,
    find_reference,
    owned_keys,
    resolve_key,
)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    base = tmp_path / "root"
    (base / "sub").mkdir(parents=True)
    (base / "a.png").write_bytes(b"png")
    (base / "sub" / "b.txt").write_bytes(b"b")
    (tmp_path / "secret.txt").write_text("secret")
    (base / "out").symlink_to(tmp_path / "secret.txt")
    (base / "outdir").symlink_to(tmp_path)
    (base / "in").symlink_to(base / "a.png")
    return base


def test_keys_resolve_inside_the_root_only(root: Path) -> None:
    assert resolve_key(root, "a.png") == root / "a.png"
    assert resolve_key(root, "sub/b.txt") == root / "sub" / "b.txt"
    assert resolve_key(root, "sub/../a.png") == root / "a.png"
    assert resolve_key(root, "a.png.") == root / "a.png"  # agno strips trailing dots and spaces per segment
    assert resolve_key(root, "in") == root / "a.png"  # a symlink that stays inside is followed
    for key in (
        "",
        " ",
        "../secret.txt",
        "sub/../../secret.txt",
        "/etc/passwd",
        "out",
        "outdir/secret.txt",
        "C:/x",
        "\\\\server\\share",
        "a\x00b",
        "a\nb",
        "CON",
        "nul.txt",
        "\uff0e\uff0e/secret.txt",  # full-width dots: NFKC makes them ../
        "..\\secret.txt",
    ):
        with pytest.raises(MediaObjectMissing):
            resolve_key(root, key)


def test_local_storage_reads_files_and_nothing_else(root: Path) -> None:
    storage = LocalStorage(str(root))

    async def read(key: str) -> bytes:
        obj = await storage.open(key)
        try:
            parts = []
            while chunk := await obj.read():
                parts.append(chunk)
            assert obj.size == sum(map(len, parts))
            return b"".join(parts)
        finally:
            await obj.close()

    async def main() -> None:
        assert await read("a.png") == b"png"
        with pytest.raises(MediaObjectMissing):
            await read("missing.png")
        with pytest.raises(MediaObjectMissing):
            await read("out")
        with pytest.raises(MediaStorageFailed):
            await read("sub")  # a directory: AgentOS's 500, our 502
        await storage.delete_many(["sub/b.txt", "sub/b.txt", "../secret.txt", "missing"])

    try:
        asyncio.run(main())
    finally:
        storage.close()
    assert not (root / "sub" / "b.txt").exists()
    assert (root.parent / "secret.txt").exists()
    assert storage.bucket == str(root.resolve())


def _ref(mime: str | None, key: str = "k") -> Reference:
    return Reference(key, "local", "s", "/r", None, mime)


@pytest.mark.parametrize(
    ("mime", "key", "content_type", "attachment"),
    [
        ("image/png", "k", "image/png", False),
        ("IMAGE/PNG; q=1", "k", "image/png", False),
        ("text/plain", "k", "text/plain; charset=utf-8", False),
        (None, "x.csv", "text/csv; charset=utf-8", False),
        ("", "x.png", "image/png", False),
        (None, "x", "application/octet-stream", False),
        ("not a mime", "x.png", "application/octet-stream", False),
        ("text/html", "x.png", "application/octet-stream", True),
        ("image/svg+xml", "k", "application/octet-stream", True),
        (None, "x.js", "application/octet-stream", True),
        ("application/xml; charset=x", "k", "application/octet-stream", True),
    ],
)
def test_answer_headers(mime: str | None, key: str, content_type: str, attachment: bool) -> None:
    headers = answer_headers(_ref(mime, key))
    assert headers["Content-Type"] == content_type
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert ("Content-Disposition" in headers) == attachment


def _media(key: str, session_id: str = "s", backend: str = "local", bucket: str = "/r") -> dict[str, Any]:
    ref = {"media_id": "m", "storage_key": key, "storage_backend": backend, "bucket": bucket, "session_id": session_id}
    return {"id": "m", "media_reference": ref}


def test_references_where_agno_finds_them(root: Path) -> None:
    agent_run = {
        "agent_id": "a",
        "input": {"images": [_media("in")]},
        "messages": [{"files": [_media("msg")], "audio_output": _media("out-audio")}],
        "response_audio": _media("resp"),
        "reasoning_messages": [{"images": [_media("reason")]}],
        "member_responses": [{"agent_id": "x", "images": [_media("not-walked")]}],  # RunOutput has none
    }
    team_run = {"team_id": "t", "member_responses": [{"agent_id": "m", "images": [_media("member")]}]}
    workflow_run = {"workflow_id": "w", "step_results": [[{"images": [_media("step"), "junk"]}]]}
    runs = [agent_run, team_run, workflow_run, "junk"]
    for key in ("in", "msg", "out-audio", "resp", "reason", "member"):
        assert find_reference(runs, "agent", key) is not None, key
        assert find_reference(runs, "workflow", key) is None, key
    assert find_reference(runs, "agent", "not-walked") is None
    assert find_reference(runs, "agent", "step") is None
    assert find_reference(runs, "workflow", "step") is not None
    storage = LocalStorage(str(root))
    try:
        mine = [_media("mine.png"), _media("inherited.png", session_id="other"), _media("s3.png", backend="s3")]
        runs = [{"agent_id": "a", "images": mine}]
        bucket = storage.bucket
        for media in mine:
            media["media_reference"]["bucket"] = bucket
        assert owned_keys(runs, "agent", "s", storage) == ["mine.png"]
    finally:
        storage.close()
