"""service/limits.py in process: the `headers_only` seam and the dropped-body marks."""

from __future__ import annotations

from typing import Any

import pytest
import tornado.escape
import tornado.web
from tornado.httpclient import AsyncHTTPClient
from tornado.testing import bind_unused_port

from service import limits
from service.config import load_config


class Probe(tornado.web.RequestHandler):
    def post(self) -> None:
        self.write({"body": len(self.request.body), "dropped": limits.dropped_body(self.request.connection)})


async def post(port: int, body: bytes, headers: dict[str, str]) -> Any:
    reply = await AsyncHTTPClient().fetch(f"http://127.0.0.1:{port}/probe", method="POST", body=body, headers=headers)
    return tornado.escape.json_decode(reply.body)


@pytest.mark.gen_test(timeout=30)
async def test_headers_only_hook_drops_the_body_unread() -> None:
    """A request the hook marks from its headers reaches the application without its body (marked
    `headers_only`); others keep theirs; a body over the limit is dropped and marked `body_too_large`."""
    config = load_config({"AGNO_PG_DSN": "dbname=unused", "AGNO_MAX_BODY_BYTES": "1000"})
    server = limits.GuardedHTTPServer(
        tornado.web.Application([("/probe", Probe)]),
        config,
        headers_only=lambda start_line, headers: "X-Without-Body" in headers,
    )
    sock, port = bind_unused_port()
    server.add_sockets([sock])
    try:
        assert await post(port, b"x" * 500, {"X-Without-Body": "1"}) == {"body": 0, "dropped": "headers_only"}
        assert await post(port, b"x" * 500, {}) == {"body": 500, "dropped": None}
        assert await post(port, b"x" * 1001, {}) == {"body": 0, "dropped": "body_too_large"}
        assert server.body_budget.used == 0
    finally:
        server.stop()
        await server.close_all_connections()
