"""The stored media of the contract suite's `contract-media` database, shared by the seeder (which runs in
the AgentOS venv and uploads them through agno) and the cases (which need their storage keys).

Plain standard library: `agno_side/seed_media.py` imports this file by path.

agno's offload names an object `{session_id}-{media_id}-{sha256(content)[:16]}{extension}` (its
`_offload_single_media` and `build_storage_key`); `key()` gives the same name and the seeder checks that
agno produced exactly it.
"""

from __future__ import annotations

import hashlib
import random

BUCKET = "contract-media"
S3_PREFIX = "agno/media/"
S3_REGION = "us-east-1"
USER = "media-user"

# a 1x1 transparent PNG
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


def _big() -> bytes:
    rng = random.Random(11)  # noqa: S311 -- fixed-seed test bytes, not a secret
    return rng.randbytes(3 * 1024 * 1024 + 12345)  # 3 MiB and a bit: many chunks, a short last one


# media_id -> (agno class, mime_type, filename, content, extension agno gives the key)
OBJECTS: dict[str, tuple[str, str | None, str | None, bytes, str]] = {
    "png": ("Image", "image/png", None, PNG, ".png"),
    "txt": ("File", "text/plain", "notes.txt", "hello, media ✓\n".encode(), ".txt"),
    "html": ("File", "text/html", "page.html", b"<html><script>alert(1)</script></html>", ".html"),
    "svg": ("Image", "image/svg+xml", None, b'<svg xmlns="http://www.w3.org/2000/svg"/>', ".svg"),
    "xml": ("File", "text/xml", "data.xml", b"<?xml version='1.0'?><a/>", ".xml"),
    "csv": ("File", None, "table.csv", b"a,b\n1,2\n", ".csv"),
    "bare": ("File", None, None, bytes(range(256)), ""),
    "empty": ("File", "text/plain", "empty.txt", b"", ".txt"),
    "wav": ("Audio", "audio/wav", None, b"RIFF\x24\x00\x00\x00WAVEfmt ", ".wav"),
    "big": ("File", "application/zip", "big.zip", _big(), ".zip"),
}


def key(session_id: str, media_id: str, backend: str = "local") -> str:
    content, ext = OBJECTS[media_id][3], OBJECTS[media_id][4]
    prefix = S3_PREFIX if backend == "s3" else ""
    return f"{prefix}{session_id}-{media_id}-{hashlib.sha256(content).hexdigest()[:16]}{ext}"
