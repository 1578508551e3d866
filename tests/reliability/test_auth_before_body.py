"""Authentication is decided from the headers before any body byte is kept (docs/security.md,
docs/reliability.md): an upload the key or token already refuses is drained unbuffered, so it takes
nothing from the process's body budget, and is answered 401 once it ends."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .harness import call, wait_until
from .test_hostile import open_socket, sockets

KEY = "body-gate-key"


def test_refused_uploads_are_not_buffered(live_service: Callable[..., Any], dsn: str) -> None:
    env = {
        "AGNO_PG_DSN": dsn,
        "OS_SECURITY_KEY": KEY,
        "AGNO_MAX_BODY_BYTES": "65536",
        "AGNO_MAX_BUFFERED_BODY_BYTES": "131072",
    }
    service = live_service(env=env)
    base, auth = service.base_url, {"Authorization": f"Bearer {KEY}"}
    body = json.dumps({"session_name": "x" * 60_000}).encode()
    # the same stalled uploads fill the budget when they carry the key (test_hostile), so twice as many
    # without it would leave no room at all if they were kept
    with sockets() as opened:
        for credential in (b"", b"Authorization: Bearer wrong\r\n") * 2:
            sock = open_socket(service)
            opened.append(sock)
            sock.sendall(
                b"POST /sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n%s"
                b"Content-Length: %d\r\n\r\n%s" % (credential, len(body) + 1, body)
            )
        created = wait_until(
            "an authenticated body is accepted beside the refused uploads",
            lambda: r if (r := call(base, "POST", "/sessions", body=body, headers=auth)).status == 201 else None,
            10,
        )
        assert created.json()["session_name"] == "x" * 60_000
        # a refused upload that completes is answered 401, as without the gate
        finished = opened[1]
        finished.sendall(b" ")
        answer = finished.recv(65536)
        assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
        assert b'{"detail":"Invalid authentication token"}' in answer
