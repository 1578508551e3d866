"""Stored session media: the objects agno's media offload wrote, read back as AgentOS 3.1.10 serves them.

Two backends, like agno's `LocalMediaStorage` and `S3MediaStorage`; this service only reads and deletes.
Storage calls run in a bounded thread pool, objects are read a chunk at a time (docs/api.md "Media",
which also states the rules the pure half mirrors: references, minting storage, answer headers).
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import os
import re
import stat
import threading
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath
from typing import IO, Any, TypeVar

from service.config import Config
from service.errors import MediaObjectMissing, MediaStorageFailed
from service.rows import is_workflow_run

log = logging.getLogger("agno_session.media")
T = TypeVar("T")

CHUNK_BYTES = 256 * 1024
STORAGE_THREADS = 8
PRESIGNED_EXPIRY = 3600  # agno's S3MediaStorage default `presigned_url_expiry`
S3_DELETE_BATCH = 1000  # DeleteObjects accepts at most 1000 keys per call


# AgentOS's texts for a failing storage (docs/compatibility.md, media-storage-error)
FETCH_FAILED = "Failed to fetch media from storage"
SIGN_FAILED = "Failed to generate media URL"


# ---------------------------------------------------------------------------------------------- references
@dataclass(frozen=True)
class Reference:
    """The fields of agno's `MediaReference` that serving needs."""

    storage_key: str
    storage_backend: str
    session_id: str | None
    bucket: str | None
    region: str | None
    mime_type: str | None


_MEDIA_LISTS = ("images", "videos", "audio", "files")


def _reference(media: Any) -> Reference | None:
    """The reference of one serialized media object (a dict with a `media_reference` dict), else None."""
    if not isinstance(media, dict):
        return None
    ref = media.get("media_reference")
    if not isinstance(ref, dict):
        return None
    key, backend = ref.get("storage_key"), ref.get("storage_backend")
    if not isinstance(key, str) or not isinstance(backend, str) or not isinstance(ref.get("media_id"), str):
        return None

    def text(name: str) -> str | None:
        value = ref.get(name)
        return value if isinstance(value, str) else None

    return Reference(key, backend, text("session_id"), text("bucket"), text("region"), text("mime_type"))


def _items(container: Any, *names: str) -> Iterator[Any]:
    if not isinstance(container, dict):
        return
    for name in names:
        value = container.get(name)
        if isinstance(value, list):
            yield from value


def _messages_media(messages: Any, with_audio_output: bool) -> Iterator[Any]:
    for message in messages if isinstance(messages, list) else []:
        yield from _items(message, *_MEDIA_LISTS)
        if with_audio_output and isinstance(message, dict) and message.get("audio_output") is not None:
            yield message["audio_output"]


def _step_outputs(run: dict[str, Any]) -> Iterator[Any]:
    """agno's `iter_step_outputs`: step results (nested container steps too) and paused step requirements."""

    def walk(step: Any) -> Iterator[Any]:
        yield step
        for nested in _items(step, "steps"):
            yield from walk(nested)

    for result in _items(run, "step_results"):
        for step in result if isinstance(result, list) else [result]:
            yield from walk(step)
    for requirement in _items(run, "step_requirements"):
        if not isinstance(requirement, dict):
            continue
        step_input = requirement.get("step_input")
        if step_input is not None:
            yield step_input
            previous = step_input.get("previous_step_outputs") if isinstance(step_input, dict) else None
            for output in (previous or {}).values() if isinstance(previous, dict) else []:
                yield from walk(output)
        if requirement.get("step_output") is not None:
            yield from walk(requirement["step_output"])


def _executor_shape(run: dict[str, Any]) -> str:
    """The class agno's `WorkflowRunOutput.from_dict` gives a step executor run."""
    if "team_id" in run or "team_name" in run:
        return "team"
    if "agent_id" in run or "agent_name" in run:
        return "agent"
    return "workflow" if "workflow_name" in run and "parent_run_id" in run else "agent"


def iter_run_media(run: Any, shape: str) -> Iterator[Any]:
    """agno's `iter_run_media` over a stored run dict deserialized as `shape` ("agent": RunOutput,
    "team": TeamRunOutput, "workflow": WorkflowRunOutput): every media object the run object holds."""
    if not isinstance(run, dict):
        return
    if shape != "workflow":
        yield from _items(run.get("input"), "images", "videos", "audios", "files")
        yield from _messages_media(run.get("messages"), with_audio_output=True)
    yield from _items(run, *_MEDIA_LISTS)
    if run.get("response_audio") is not None:
        yield run["response_audio"]
    if shape != "workflow":
        for collection in ("additional_input", "reasoning_messages"):
            yield from _messages_media(run.get(collection), with_audio_output=False)
    if shape == "team":
        for member in _items(run, "member_responses"):
            if isinstance(member, dict):
                yield from iter_run_media(member, "agent" if "agent_id" in member else "team")
    if shape == "workflow":
        for step in _step_outputs(run):
            yield from _items(step, *_MEDIA_LISTS)
        for executor_run in _items(run, "step_executor_runs"):
            if isinstance(executor_run, dict):
                yield from iter_run_media(executor_run, _executor_shape(executor_run))
        if isinstance(run.get("workflow_agent_run"), dict):
            yield from iter_run_media(run["workflow_agent_run"], "agent")


def session_runs(runs: Sequence[Any], session_type: str) -> list[tuple[dict[str, Any], str]]:
    """The runs agno keeps, with their shapes, when it deserializes a session of `session_type`
    (`AgentSession.from_dict`, `TeamSession.from_dict`: runs with an `agent_id` key, then runs with a
    `team_id` key; `WorkflowSession.from_dict`: workflow runs)."""
    dicts = [run for run in runs if isinstance(run, dict)]
    if session_type == "workflow":
        return [(run, "workflow") for run in dicts if is_workflow_run(run)]
    return [(run, "agent" if "agent_id" in run else "team") for run in dicts if "agent_id" in run or "team_id" in run]


def session_references(runs: Sequence[Any], session_type: str) -> Iterator[Reference]:
    for run, shape in session_runs(runs, session_type):
        for media in iter_run_media(run, shape):
            ref = _reference(media)
            if ref is not None:
                yield ref


def find_reference(runs: Sequence[Any], session_type: str, storage_key: str) -> Reference | None:
    """The session's first reference to `storage_key` (agno's `_find_media_reference`)."""
    return next((ref for ref in session_references(runs, session_type) if ref.storage_key == storage_key), None)


def owned_keys(runs: Sequence[Any], session_type: str, session_id: str, storage: MediaStorage) -> list[str]:
    """agno's `session_media_keys`: keys this session uploaded (not inherited ones) on this storage."""
    return [
        ref.storage_key
        for ref in session_references(runs, session_type)
        if ref.storage_key and ref.session_id == session_id and storage.minted(ref)
    ]


# ------------------------------------------------------------------------------------------------ headers
_MIME_TYPE = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+/[A-Za-z0-9!#$%&'*+.^_`|~-]+")
# Content types a browser can execute on the API origin: served as octet-stream, as an attachment.
ACTIVE_CONTENT_TYPES = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/javascript",
        "application/javascript",
        "application/x-javascript",
        "text/xml",
        "application/xml",
    }
)


def answer_headers(ref: Reference) -> dict[str, str]:
    """Content-Type (with Starlette's `; charset=utf-8` on text/*), nosniff and, for active content,
    `Content-Disposition: attachment`, as AgentOS answers a media fetch."""
    media_type = ref.mime_type or mimetypes.guess_type(ref.storage_key)[0] or "application/octet-stream"
    media_type = media_type.split(";")[0].strip().lower()
    if not _MIME_TYPE.fullmatch(media_type):
        media_type = "application/octet-stream"
    headers = {"X-Content-Type-Options": "nosniff"}
    if media_type in ACTIVE_CONTENT_TYPES:
        headers["Content-Disposition"] = "attachment"
        media_type = "application/octet-stream"
    if media_type.startswith("text/"):
        media_type += "; charset=utf-8"
    headers["Content-Type"] = media_type
    return headers


# ------------------------------------------------------------------------------------------------ storage
class MediaObject:
    """One open object: `size` (bytes, when known) and `read()` chunk by chunk (b"" at the end)."""

    def __init__(self, storage: MediaStorage, stream: Any, size: int | None) -> None:
        self._storage = storage
        self._stream = stream
        self.size = size

    async def read(self) -> bytes:
        data: bytes = await self._storage.run(self._storage.read_chunk, self._stream)
        return data

    async def close(self) -> None:
        await self._storage.run(self._stream.close)


class MediaStorage:
    """What both backends share: the identity agno records on each reference, and the thread pool."""

    backend_name = ""

    def __init__(self, bucket: str, region: str | None) -> None:
        self.bucket = bucket
        self.region = region
        # threads start on first use, so a pool made before the workers fork is safe
        self._pool = ThreadPoolExecutor(STORAGE_THREADS, thread_name_prefix="media")

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    def minted(self, ref: Reference) -> bool:
        """agno's `reference_matches_storage`: same backend and container; a region both name must agree."""
        if ref.storage_backend != self.backend_name or ref.bucket != self.bucket:
            return False
        return not (ref.region and self.region) or ref.region == self.region

    async def open(self, key: str) -> MediaObject:
        stream, size = await self.run(self.open_sync, key)
        return MediaObject(self, stream, size)

    async def presigned_url(self, key: str) -> str | None:
        return await self.run(self.presigned_url_sync, key)

    async def delete_many(self, keys: Sequence[str]) -> None:
        """Best effort, like agno's `delete_media_keys`: the rows are gone already; failures are logged."""
        unique = list(dict.fromkeys(keys))
        if unique:
            await self.run(self.delete_many_sync, unique)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    # each backend: blocking calls, run in the pool
    def open_sync(self, key: str) -> tuple[Any, int | None]:
        raise NotImplementedError

    def read_chunk(self, stream: Any) -> bytes:
        raise NotImplementedError

    def presigned_url_sync(self, key: str) -> str | None:
        return None

    def delete_many_sync(self, keys: list[str]) -> None:
        raise NotImplementedError


# ---------------------------------------------------------------------------------------- local directory
_WINDOWS_RESERVED = re.compile(r"^(CON|PRN|AUX|NUL|COM[1-9]|LPT[1-9])(\.|$)", re.IGNORECASE)
_WINDOWS_PREFIX = re.compile(r"^([A-Za-z]:|\\\\)")


def _has_control(text: str) -> bool:
    return any(unicodedata.category(c) == "Cc" for c in text)


def _has_windows_prefix(text: str) -> bool:
    if _WINDOWS_PREFIX.match(text):
        return True
    windows = PureWindowsPath(text)
    return bool(windows.drive) or windows.is_absolute()


def _segment(segment: str) -> str:
    if _has_control(segment) or _has_windows_prefix(segment):
        raise MediaObjectMissing(segment)
    stripped = segment.rstrip(". ")
    if not stripped or _WINDOWS_RESERVED.match(stripped):
        raise MediaObjectMissing(segment)
    return stripped


def resolve_key(root: Path, key: str) -> Path:
    """agno's `safe_join_relative_path`: the file `key` names under `root`, symlinks resolved; any key
    that is absolute, carries control characters or resolves outside the root is `MediaObjectMissing`."""
    if not key or not key.strip():
        raise MediaObjectMissing(key)
    key = unicodedata.normalize("NFKC", key)
    if _has_control(key):
        raise MediaObjectMissing(key)
    windows = PureWindowsPath(key)
    if windows.drive or windows.is_absolute():
        raise MediaObjectMissing(key)
    parts = [s if s in ("", ".", "..") else _segment(s) for s in key.replace("\\", "/").split("/")]
    try:
        resolved_root = root.resolve()
        resolved = (root / "/".join(parts)).resolve()
    except (OSError, UnicodeEncodeError) as exc:
        raise MediaObjectMissing(key) from exc
    except RuntimeError as exc:  # a symlink loop (agno: not its path error, so a 500)
        raise MediaStorageFailed(FETCH_FAILED, str(exc)) from exc
    if not resolved.is_relative_to(resolved_root):
        raise MediaObjectMissing(key)
    return resolved


class LocalStorage(MediaStorage):
    backend_name = "local"

    def __init__(self, root: str) -> None:
        # agno records the resolved base path as the reference's `bucket`
        self.root = Path(root).resolve()
        super().__init__(str(self.root), None)

    def open_sync(self, key: str) -> tuple[IO[bytes], int | None]:
        path = resolve_key(self.root, key)
        try:
            # O_NOFOLLOW: the path is resolved, so a symlink here was swapped in after the check;
            # O_NONBLOCK: a FIFO must not hold a thread forever
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK)
        except FileNotFoundError as exc:
            raise MediaObjectMissing(key) from exc
        except OSError as exc:
            raise MediaStorageFailed(FETCH_FAILED, f"{type(exc).__name__}: {exc.strerror} ({key!r})") from exc
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            raise MediaStorageFailed(FETCH_FAILED, f"not a regular file ({key!r})")
        return os.fdopen(fd, "rb", buffering=0), info.st_size

    def read_chunk(self, stream: Any) -> bytes:
        data: bytes = stream.read(CHUNK_BYTES)
        return data

    def delete_many_sync(self, keys: list[str]) -> None:
        """agno's `LocalMediaStorage.delete` per key: the file and its `.meta.json` sidecar."""
        for key in keys:
            try:
                path = resolve_key(self.root, key)
                path.unlink(missing_ok=True)
                path.with_suffix(path.suffix + ".meta.json").unlink(missing_ok=True)
            except (OSError, ValueError, MediaObjectMissing, MediaStorageFailed) as exc:
                log.warning("could not delete media object %r: %s", key, type(exc).__name__)


# --------------------------------------------------------------------------------------------------- S3
class S3Storage(MediaStorage):
    backend_name = "s3"

    def __init__(self, bucket: str, region: str | None, endpoint_url: str | None) -> None:
        super().__init__(bucket, region)
        self.endpoint_url = endpoint_url
        self._client: Any = None
        self._lock = threading.Lock()

    def client(self) -> Any:
        """One boto3 client (thread-safe), built on first use with agno's settings (SigV4 pinned)."""
        with self._lock:
            if self._client is None:
                import boto3
                from botocore.config import Config as BotoConfig

                kwargs: dict[str, Any] = {
                    "config": BotoConfig(
                        signature_version="s3v4",
                        max_pool_connections=STORAGE_THREADS,
                        connect_timeout=5,
                        read_timeout=30,
                        retries={"max_attempts": 3, "mode": "standard"},
                    )
                }
                if self.region:
                    kwargs["region_name"] = self.region
                if self.endpoint_url:
                    kwargs["endpoint_url"] = self.endpoint_url
                self._client = boto3.client("s3", **kwargs)
            return self._client

    def open_sync(self, key: str) -> tuple[Any, int | None]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self.client().get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise MediaObjectMissing(key) from exc
            raise MediaStorageFailed(FETCH_FAILED, f"S3 {exc.response.get('Error', {}).get('Code')} ({key!r})") from exc
        except (BotoCoreError, ValueError) as exc:
            raise MediaStorageFailed(FETCH_FAILED, f"{type(exc).__name__}: {exc} ({key!r})") from exc
        size = response.get("ContentLength")
        return response["Body"], size if isinstance(size, int) else None

    def read_chunk(self, stream: Any) -> bytes:
        from botocore.exceptions import BotoCoreError

        try:
            data: bytes = stream.read(CHUNK_BYTES)
        except (BotoCoreError, OSError) as exc:
            raise MediaStorageFailed(FETCH_FAILED, f"{type(exc).__name__}: {exc}") from exc
        return data

    def presigned_url_sync(self, key: str) -> str | None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            url: str = self.client().generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=PRESIGNED_EXPIRY
            )
        except (BotoCoreError, ClientError, ValueError) as exc:
            raise MediaStorageFailed(SIGN_FAILED, f"{type(exc).__name__}: {exc}") from exc
        return url

    def delete_many_sync(self, keys: list[str]) -> None:
        """agno's `S3MediaStorage.delete_many`: DeleteObjects in batches, quiet; failures logged."""
        for start in range(0, len(keys), S3_DELETE_BATCH):
            batch = keys[start : start + S3_DELETE_BATCH]
            try:
                self.client().delete_objects(
                    Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True}
                )
            except Exception as exc:  # best effort, like agno: a storage failure never fails the delete
                log.warning("could not delete %d media objects: %s", len(batch), type(exc).__name__)


def storage_from_config(config: Config) -> MediaStorage | None:
    if config.media_backend == "local":
        return LocalStorage(config.media_location)
    if config.media_backend == "s3":
        return S3Storage(config.media_location, config.media_s3_region, config.media_s3_endpoint_url)
    return None
