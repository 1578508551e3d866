"""`/openapi.json` (this service's OpenAPI 3.1 document) and `/docs` (Swagger UI over it).

Both are unauthenticated, like AgentOS's own docs (they are in auth.EXEMPT_PATHS). The Swagger
UI files come from the installed `swagger-ui-py` distribution and are served by this process
(`/docs/static/...`), never from a CDN; only the files the page needs are routed. The page's
Content-Security-Policy limits it to this origin.
"""

from __future__ import annotations

import functools
import importlib.metadata
from pathlib import Path
from string import Template
from typing import Any

import swagger_ui
import tornado.web

from service.handlers.base import BaseHandler
from service.jsonutil import dumps
from service.openapi import build_openapi

ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"
SWAGGER_UI_DIR = Path(swagger_ui.__file__).resolve().parent / "static"
SWAGGER_UI_FILES = ("swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png", "favicon-16x16.png")
OUR_FILES = ("agno-session-docs.js",)
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


@functools.cache
def _asset_version() -> str:
    try:
        return importlib.metadata.version("swagger-ui-py")
    except importlib.metadata.PackageNotFoundError:
        return "0"


@functools.cache
def openapi_text(max_page_size: int, search_max_length: int, secured: bool) -> str:
    """The serialised document, built once per configuration."""
    return dumps(build_openapi(max_page_size=max_page_size, search_max_length=search_max_length, secured=secured))


@functools.cache
def docs_page() -> str:
    template = Template((ASSETS_DIR / "docs.html").read_text(encoding="utf-8"))
    return template.substitute(version=_asset_version())


class OpenAPIHandler(BaseHandler):
    async def get(self) -> None:
        self.set_header("Cache-Control", "no-cache")
        config = self.config
        self.finish(openapi_text(config.max_page_size, config.search_max_length, config.auth.enabled))


class DocsHandler(BaseHandler):
    async def get(self) -> None:
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.set_header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Cache-Control", "no-cache")
        self.finish(docs_page())


class DocsStaticHandler(tornado.web.StaticFileHandler):
    """Swagger UI's files (cached for a year when versioned with `?v=`); errors as JSON."""

    def set_default_headers(self) -> None:
        self.clear_header("Server")
        self.set_header("X-Content-Type-Options", "nosniff")

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.set_header("Content-Type", "application/json")
        detail = "Not Found" if status_code == 404 else (self._reason or "Error")
        self.finish(dumps({"detail": detail}))


def _files(names: tuple[str, ...]) -> str:
    return "(" + "|".join(name.replace(".", r"\.") for name in names) + ")"


default_handlers: list[Any] = [
    (r"/openapi\.json/?", OpenAPIHandler),
    (r"/docs/?", DocsHandler),
    (rf"/docs/static/{_files(SWAGGER_UI_FILES)}", DocsStaticHandler, {"path": str(SWAGGER_UI_DIR)}),
    (rf"/docs/static/{_files(OUR_FILES)}", DocsStaticHandler, {"path": str(ASSETS_DIR)}),
]
