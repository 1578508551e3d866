"""The one HTTP client of the test suites (reliability, contract, image and top-level tests).

`http.client` on purpose: it sends exactly the bytes it is given (invalid UTF-8, NUL bytes, `..` in
paths, wrong content types), one request per connection, and never retries, decompresses or follows
anything. The API tests' in-process client (tests/api/conftest.py, `ApiClient`) is the asynchronous
one that runs on the test's own io_loop.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Reply:
    status: int
    headers: dict[str, str]  # lower-case names; a repeated header's values joined by ", "
    body: bytes
    started: float  # time.monotonic() when the request was sent
    elapsed: float  # seconds until the whole answer was read

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def is_json_error(self) -> bool:
        """A JSON error body of the service's one shape: an object with `detail`."""
        if not (self.header("content-type") or "").startswith("application/json"):
            return False
        try:
            body = self.json()
        except ValueError:
            return False
        return isinstance(body, dict) and "detail" in body

    def __repr__(self) -> str:
        return f"Reply({self.status}, {self.body[:300]!r})"


def call(
    base_url: str,
    method: str,
    path: str,
    *,
    query: Sequence[tuple[str, str]] = (),
    json_body: Any = None,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 30.0,
) -> Reply:
    """One request on a fresh connection; raises OSError when the server cannot be reached.
    `query` is percent-encoded (`%20` for a space) and appended to `path`."""
    parts = urllib.parse.urlsplit(base_url)
    sent_headers = dict(headers or {})
    if json_body is not None:
        body = json.dumps(json_body).encode()
        sent_headers.setdefault("Content-Type", "application/json")
    target = path + ("?" + urllib.parse.urlencode(list(query), quote_via=urllib.parse.quote) if query else "")
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    started = time.monotonic()
    try:
        conn.putrequest(method, target, skip_accept_encoding=True)
        for name, value in sent_headers.items():
            conn.putheader(name, value)
        if body is not None and "content-length" not in {k.lower() for k in sent_headers}:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        data = response.read()
        received: dict[str, str] = {}
        for name, value in response.getheaders():
            key = name.lower()
            received[key] = f"{received[key]}, {value}" if key in received else value
        return Reply(response.status, received, data, started, time.monotonic() - started)
    finally:
        conn.close()


def try_call(base_url: str, method: str, path: str, **kwargs: Any) -> Reply | None:
    """`call`, with None instead of a connection error (refused, reset, timed out)."""
    try:
        return call(base_url, method, path, **kwargs)
    except (OSError, http.client.HTTPException):
        return None


def tail(log: Path | None, lines: int = 40) -> str:
    """The last lines of a process's log, for an error message."""
    if log is None:
        return ""
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "<no log>"


def wait_http(
    url: str,
    timeout: float = 30,
    proc: subprocess.Popen[bytes] | None = None,
    alive: Callable[[], bool] | None = None,
    log: Path | None = None,
) -> None:
    """Wait for `url` to answer at all (any status); give up early when `proc` exits or `alive()` is
    false. The errors end with the tail of `log`, when given."""
    parts = urllib.parse.urlsplit(url)
    base, path = f"{parts.scheme}://{parts.netloc}", (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode} before {url} answered\n{tail(log)}")
        if alive is not None and not alive():
            raise RuntimeError(f"the server stopped before {url} answered\n{tail(log)}")
        if try_call(base, "GET", path, timeout=2) is not None:
            return
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout}s\n{tail(log)}")
