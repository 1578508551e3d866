"""Stored media under load and failure: a 50 MiB object streamed with flat memory, the event loop free
while a stream is stalled, and a storage that is down (docs/reliability.md, "Media").

The service reads a local directory, or a bucket of moto's standalone S3 server (`moto[server]`, the dev
extra) started here on loopback.
"""

from __future__ import annotations

import hashlib
import http.client
import socket
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from service.dev.pg import free_port
from tests.support.processes import launch_moto

from .harness import call, scrape, wait_until

BIG = 50 * 1024 * 1024
BUCKET = "reliability-media"
S3_ENV = {"AWS_ACCESS_KEY_ID": "reliability", "AWS_SECRET_ACCESS_KEY": "reliability"}


def _big_content() -> Iterator[bytes]:
    block = hashlib.sha256(b"media").digest() * 32768  # 1 MiB, not all one byte
    for i in range(BIG // len(block)):
        yield bytes([i % 251]) + block[1:]


@pytest.fixture(scope="module")
def moto_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    moto = launch_moto(tmp_path_factory.mktemp("moto"))
    try:
        moto.wait(60)
        yield moto.base_url
    finally:
        moto.stop(timeout=15)


def _s3_client(moto_url: str) -> Any:
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id=S3_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=S3_ENV["AWS_SECRET_ACCESS_KEY"],
    )


def _reference(key: str, backend: str, bucket: str, size: int, mime: str = "application/zip") -> dict[str, Any]:
    ref = {"media_id": key, "storage_key": key, "session_id": "s", "storage_backend": backend, "bucket": bucket}
    return {"id": key, "media_reference": {**ref, "mime_type": mime, "size": size}}


def _seed_session(base_url: str, session_id: str, refs: list[dict[str, Any]]) -> None:
    run = {"run_id": f"{session_id}-r1", "agent_id": "a", "input": {"input_content": "x", "files": refs}}
    reply = call(base_url, "POST", "/sessions", json_body={"session_id": session_id, "agent_id": "a", "runs": [run]})
    assert reply.status == 201, reply


def _rss_peak_kib(pid: int) -> int:
    """VmHWM: the process's peak resident set since it started."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def _download(
    base_url: str, path: str, on_first_mib: Callable[[], None] | None = None
) -> tuple[int, dict[str, str], str, int]:
    """GET `path` reading 64 KiB at a time; (status, headers, sha256 of the body, body length)."""
    parts = urllib.parse.urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=120)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        digest, length = hashlib.sha256(), 0
        while chunk := resp.read(65536):
            digest.update(chunk)
            length += len(chunk)
            if on_first_mib is not None and length >= 1024 * 1024:
                on_first_mib()
                on_first_mib = None
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, digest.hexdigest(), length
    finally:
        conn.close()


@pytest.mark.parametrize("backend", ["local", "s3"])
def test_50_mib_object_streams_with_flat_memory(
    backend: str, module_service: Any, moto_url: str, tmp_path: Path, figures: dict[str, Any]
) -> None:
    expected = hashlib.sha256()
    if backend == "local":
        root = tmp_path / "media"
        root.mkdir()
        with (root / "big.zip").open("wb") as f:
            for block in _big_content():
                f.write(block)
                expected.update(block)
        (root / "small.zip").write_bytes(b"small")
        env = {"AGNO_MEDIA_STORAGE": f"local:{root}"}
        bucket, prefix = str(root.resolve()), ""
    else:
        client = _s3_client(moto_url)
        client.create_bucket(Bucket=BUCKET)
        data = b"".join(_big_content())
        expected.update(data)
        client.put_object(Bucket=BUCKET, Key="m/big.zip", Body=data)
        del data
        client.put_object(Bucket=BUCKET, Key="m/small.zip", Body=b"small")
        env = {
            "AGNO_MEDIA_STORAGE": f"s3://{BUCKET}/m/",
            "AGNO_MEDIA_S3_ENDPOINT_URL": moto_url,
            "AGNO_MEDIA_S3_REGION": "us-east-1",
            **S3_ENV,
        }
        bucket, prefix = BUCKET, "m/"
    service = module_service(**env)
    sid = f"big-{backend}"
    refs = [_reference(f"{prefix}big.zip", backend, bucket, BIG), _reference(f"{prefix}small.zip", backend, bucket, 5)]
    _seed_session(service.base_url, sid, refs)

    # warm up every code path (thread pool, boto3 import and client) on a small object first
    status, _, _, length = _download(service.base_url, f"/sessions/{sid}/media/{prefix}small.zip")
    assert (status, length) == (200, 5)
    pid = service.proc.pid
    before = _rss_peak_kib(pid)

    healthz: list[int] = []

    def while_streaming() -> None:
        # the stream is stalled (this client reads no further until the probe is back): the loop serves on
        healthz.append(call(service.base_url, "GET", "/healthz").status)
        healthz.append(call(service.base_url, "GET", f"/sessions/{sid}").status)

    status, headers, digest, length = _download(
        service.base_url, f"/sessions/{sid}/media/{prefix}big.zip", while_streaming
    )
    after = _rss_peak_kib(pid)
    assert status == 200
    assert (length, digest) == (BIG, expected.hexdigest())
    assert headers["content-length"] == str(BIG)
    assert headers["content-type"] == "application/zip"
    assert healthz == [200, 200]
    growth_mib = (after - before) / 1024
    figures.update(
        backend=backend, object_mib=BIG / 2**20, peak_rss_before_mib=before / 1024, peak_rss_after_mib=after / 1024
    )
    figures["peak_rss_growth_mib"] = round(growth_mib, 1)
    # holding the object would add 50 MiB (twice that with a copy); chunks of 256 KiB add next to nothing
    assert growth_mib < 16, f"peak RSS grew by {growth_mib:.1f} MiB while streaming a 50 MiB object"


def test_storage_down_is_502_and_delete_still_deletes(module_service: Any) -> None:
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    service = module_service(
        AGNO_MEDIA_STORAGE=f"s3://{BUCKET}/",
        AGNO_MEDIA_S3_ENDPOINT_URL=closed,
        AGNO_MEDIA_S3_REGION="us-east-1",
        **S3_ENV,
    )
    _seed_session(service.base_url, "down", [_reference("k.png", "s3", BUCKET, 3, "image/png")])
    reply = call(service.base_url, "GET", "/sessions/down/media/k.png")
    assert (reply.status, reply.json()) == (502, {"detail": "Failed to fetch media from storage"})
    assert "nosniff" not in str(reply.headers)
    wait_until("the failure is logged", lambda: "media storage failed" in service.log_text() or None, timeout=10)
    # signing needs no network: the redirect is still given (the storage's own answer follows at the URL)
    reply = call(service.base_url, "GET", "/sessions/down/media/k.png?redirect=true")
    assert reply.status == 307
    assert reply.headers["location"].startswith(f"{closed}/{BUCKET}/k.png?")
    # deleting the objects is best effort after the rows are gone, like AgentOS: the delete succeeds
    reply = call(service.base_url, "DELETE", "/sessions/down?delete_media=true")
    assert reply.status == 204
    assert call(service.base_url, "GET", "/sessions/down").status == 404


def _raw_get(base_url: str, path: str) -> socket.socket:
    """A request on a socket with a small receive buffer, so the server can only send as fast as it is read."""
    parts = urllib.parse.urlsplit(base_url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)
    sock.settimeout(60)
    sock.connect((parts.hostname or "127.0.0.1", parts.port or 80))
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    return sock


def test_request_timeout_bounds_each_chunk_not_the_stream(module_service: Any, tmp_path: Path) -> None:
    """AGNO_REQUEST_TIMEOUT=4: a slow reader gets the whole object although it pauses for far longer than
    the timeout in all (the deadline restarts for every chunk); a reader that stops reading is cut off.
    A chunk needs at most a second of the reader's pauses, so a loaded machine leaves it ample time."""
    timeout = 4
    root = tmp_path / "media"
    root.mkdir()
    content = b"".join(_big_content())[: 8 * 1024 * 1024]
    (root / "slow.bin").write_bytes(content)
    service = module_service(AGNO_MEDIA_STORAGE=f"local:{root}", AGNO_REQUEST_TIMEOUT=str(timeout))
    _seed_session(service.base_url, "slow", [_reference("slow.bin", "local", str(root.resolve()), len(content))])

    sock = _raw_get(service.base_url, "/sessions/slow/media/slow.bin")
    received = bytearray()
    paused = 0.0  # the reader's own pauses: a lower bound of the download's duration, whatever the load
    with sock:
        while chunk := sock.recv(128 * 1024):
            received += chunk
            time.sleep(0.1)
            paused += 0.1
    head, _, body = bytes(received).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head[:200]
    assert hashlib.sha256(body).digest() == hashlib.sha256(content).digest()
    assert paused > 2 * timeout, f"the reader paused {paused:.1f}s: too little to show that the timeout is per chunk"

    stalled = _raw_get(service.base_url, "/sessions/slow/media/slow.bin")
    with stalled:
        assert stalled.recv(1024).startswith(b"HTTP/1.1 200")
        # the client reads nothing more: once no chunk goes out within the timeout the request ends
        # (only the metrics scrape itself is then in flight) instead of holding its slot for ever
        wait_until(
            "the stalled stream is given up",
            lambda: scrape(service.base_url, "http_requests_in_progress") == 1 or None,
            timeout=60,
        )
        rest = bytearray()
        stalled.settimeout(30)
        try:
            while chunk := stalled.recv(1 << 20):
                rest += chunk
        except ConnectionResetError:
            pass
    assert len(rest) < len(content), "the stalled stream was cut off, not completed"
    assert call(service.base_url, "GET", "/healthz").status == 200
