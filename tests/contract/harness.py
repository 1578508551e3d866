"""Contract-suite machinery: servers, HTTP, seeding, and running one case against both services.

Every case is sent to the real AgentOS 3.1.10 ("AgentOS") and to the service under test ("SUT":
agno-session, or a second AgentOS with CONTRACT_SUT=agentos to check the harness itself), both serving the
same PostgreSQL databases, and the answers are compared with `service.compare.diff`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg2
import pytest

from service.compare.diff import Difference, compare, format_body, format_differences, is_now, parse_json
from service.compare.divergences import (
    WILDCARD,
    Divergence,
    check_divergence,
    compare_documented,
    parse_divergences,
)
from service.dev.pg import free_port
from service.rows import SESSION_COLUMNS
from tests.conformance import ResponseSchemas
from tests.support.http import call, tail
from tests.support.processes import Server, clean_env, launch, launch_moto, launch_service

from . import media_objects
from .cases import AUTH, DB_IDS, INSTANCES, NO_BODY, SECURITY_KEY, Case

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
AGNO_SIDE = HERE / "agno_side"
COMPAT_DOC = REPO / "docs" / "compatibility.md"
DIVERGENCE_ANSWERS = HERE / "divergence_answers.json"
"""Our exact answer (status, body) to every case marked with a divergence id, by case name: the row of
docs/compatibility.md pins what all its cases share, this file the rest (which field a 422 names, the
sessions a list holds). `CONTRACT_WRITE_DIVERGENCE_ANSWERS=1` rewrites it from the service's answers."""
WRITE_DIVERGENCE_ANSWERS = os.environ.get("CONTRACT_WRITE_DIVERGENCE_ANSWERS", "") == "1"
TWIN_OS, TWIN_US = "-os", "-us"
CHECK_CONTENT_TYPE = os.environ.get("CONTRACT_CHECK_CONTENT_TYPE", "1") != "0"


# --------------------------------------------------------------------------------------------------------
# HTTP: stdlib only, a new connection for every request (AgentOS drops keep-alive after a 500)
# --------------------------------------------------------------------------------------------------------
@dataclass
class Answer:
    status: int
    content_type: str | None
    json: Any  # parsed JSON; the text itself when the body is not JSON; None when empty
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names; repeated ones joined by ", "
    raw: bytes = b""

    def show(self) -> str:
        return format_body(self.status, self.json)


def send(
    base_url: str,
    method: str,
    path: str,
    query: Sequence[tuple[str, str]] = (),
    body: Any = NO_BODY,
    raw_body: str | bytes | None = None,
    content_type: str | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 60,
) -> Answer:
    """One request through the shared client (tests/support/http.py), its answer parsed strictly."""
    # the headers http.client's request() adds by itself (Accept-Encoding, an empty body's length)
    hdrs = {"Accept-Encoding": "identity", "Connection": "close", **(headers or {})}
    payload: bytes | None = None
    if raw_body is not None:
        payload = raw_body.encode() if isinstance(raw_body, str) else raw_body  # bytes: not UTF-8 on purpose
    elif body is not NO_BODY:
        payload = json.dumps(body, ensure_ascii=False).encode()
    if payload is not None:
        hdrs.setdefault("Content-Type", content_type or "application/json")
    elif method.upper() in ("PATCH", "POST", "PUT"):
        hdrs.setdefault("Content-Length", "0")
    reply = call(base_url, method, path, query=query, body=payload, headers=hdrs, timeout=timeout)
    parsed: Any
    try:
        parsed = parse_json(reply.body)
    except ValueError:
        parsed = reply.body.decode("utf-8", "replace")
    return Answer(reply.status, reply.header("content-type"), parsed, reply.headers, reply.body)


# --------------------------------------------------------------------------------------------------------
# servers
# --------------------------------------------------------------------------------------------------------
def wait_started(server: Server, servers: list[Server], tries: int = 3) -> Server:
    """wait_http; a server that lost its port (another process bound or connected from it between
    free_port() and the bind: a dozen servers and their clients start at once) is started again on a new
    port, and the new one is added to `servers` (the list that is stopped at the end)."""
    for attempt in range(tries):
        try:
            server.wait(180)  # a dozen servers start at once on a loaded machine
            return server
        except RuntimeError:
            if attempt == tries - 1 or server.restart is None or "already in use" not in tail(server.log_path).lower():
                raise
            server = server.restart()
            servers.append(server)
    return server


def _clean_env() -> dict[str, str]:
    """The environment of a server or seeder: nothing of the service's, the AgentOS app's, JWT or AWS config."""
    return clean_env("CONTRACT_DBS", "JWT_", "AWS_")


def start_agentos(
    name: str,
    python: Path,
    dbs: Sequence[tuple[str, str]],
    logdir: Path,
    key: str | None,
    extra_env: Mapping[str, str] | None = None,
) -> Server:
    port = free_port()
    env = _clean_env()
    env.update({"CONTRACT_DBS": json.dumps([list(p) for p in dbs]), "AGNO_TELEMETRY": "false", **(extra_env or {})})
    if key:
        env["OS_SECURITY_KEY"] = key
    cmd = [
        str(python),
        "-m",
        "uvicorn",
        "--app-dir",
        str(AGNO_SIDE),
        "agentos_app:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    return launch(
        name,
        cmd,
        env,
        logdir / f"{name}.log",
        port,
        health_path="/health",
        restart=lambda: start_agentos(name, python, dbs, logdir, key, extra_env),
    )


def start_service(
    name: str, dsn_map: Mapping[str, str], logdir: Path, key: str | None, extra_env: Mapping[str, str]
) -> Server:
    env = {
        "AGNO_SESSION_DSN_MAP": json.dumps(dict(dsn_map)),
        "AGNO_DRAIN_SECONDS": "0",  # no load balancer to drain from: stop at once
        **extra_env,
    }
    if key:
        env["OS_SECURITY_KEY"] = key
    # CONTRACT_SERVICE_DIR: run the service from another checkout (e.g. a deliberately broken copy)
    service_dir = Path(os.environ.get("CONTRACT_SERVICE_DIR") or REPO)
    base = _clean_env()
    base["PYTHONPATH"] = os.pathsep.join(p for p in (str(service_dir), base.get("PYTHONPATH", "")) if p)
    server = launch_service(env, logdir, name=name, base_env=base, cwd=service_dir)
    server.restart = lambda: start_service(name, dsn_map, logdir, key, extra_env)
    return server


MOTO_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "contract-testing", "AWS_SECRET_ACCESS_KEY": "contract-testing"}


@dataclass
class MediaSetup:
    """Where the media instances' objects live: one local root (AgentOS and agno-session share it) and,
    for media-s3, one bucket of a moto server."""

    root: Path
    moto: Server | None

    def env(self, backend: str) -> dict[str, str]:
        """The storage settings of both servers of a media instance (agentos_app.py reads the same names)."""
        if backend == "local":
            return {"AGNO_MEDIA_STORAGE": f"local:{self.root}"}
        assert self.moto is not None
        return {
            "AGNO_MEDIA_STORAGE": f"s3://{media_objects.BUCKET}/{media_objects.S3_PREFIX}",
            "AGNO_MEDIA_S3_REGION": media_objects.S3_REGION,
            "AGNO_MEDIA_S3_ENDPOINT_URL": self.moto.base_url,
            **MOTO_CREDENTIALS,
        }

    def seed_args(self) -> list[str]:
        return ["--local-root", str(self.root)] + (["--s3-endpoint", self.moto.base_url] if self.moto else [])


def start_media(logdir: Path) -> MediaSetup | None:
    backends = {spec["media"] for spec in INSTANCES.values() if spec.get("media")}
    if not backends:
        return None
    # the root's parent holds a file the root's symlink points to (outside the root): a fresh directory
    root = Path(tempfile.mkdtemp(prefix="contract-media-")) / "root"
    root.mkdir()
    moto = launch_moto(logdir) if "s3" in backends else None
    if moto is not None:
        started = [moto]
        try:
            moto = wait_started(moto, started)
        except BaseException:
            for server in started:
                server.stop()
            raise
    return MediaSetup(root, moto)


# --------------------------------------------------------------------------------------------------------
# the environment of one suite run
# --------------------------------------------------------------------------------------------------------
@dataclass
class CaseResult:
    name: str
    ok: bool
    divergence: str | None


@dataclass
class ContractEnv:
    sut_kind: str  # "service" or "agentos"
    pairs: dict[str, tuple[Server, Server]]  # instance -> (AgentOS, SUT)
    libpq_dsns: dict[str, str]  # "a" / "b" / "legacy" -> libpq dsn (for row checks)
    divergences: dict[str, Divergence] | None
    divergence_error: str | None
    ids: dict[str, tuple[str, str]] = field(default_factory=dict)  # case name -> generated (os id, us id)
    results: list[CaseResult] = field(default_factory=list)
    servers: list[Server] = field(default_factory=list)
    record: Any = None  # an open text file (CONTRACT_RECORD) or None
    timings: dict[str, float] = field(default_factory=dict)
    media: MediaSetup | None = None
    schemas: dict[str, ResponseSchemas] = field(default_factory=dict)  # instance -> our served /openapi.json

    def stop(self) -> None:
        for s in self.servers:
            s.stop()
        if self.media is not None:
            shutil.rmtree(self.media.root.parent, ignore_errors=True)
        if self.record is not None:
            self.record.close()


def load_divergences() -> tuple[dict[str, Divergence] | None, str | None]:
    if not COMPAT_DOC.exists():
        return None, f"{COMPAT_DOC.relative_to(REPO)} does not exist"
    return parse_divergences(COMPAT_DOC.read_text()), None


def seed_all(python: Path, urls: Mapping[str, str], logdir: Path, media: MediaSetup | None = None) -> dict[str, Any]:
    """Seed the databases in parallel through agno itself (agno_side/seed_agno.py, seed_media.py)."""

    def one(db: str, kind: str) -> Any:
        log = logdir / f"seed-{kind}.log"
        if kind == "media":
            assert media is not None
            cmd = [str(python), str(AGNO_SIDE / "seed_media.py"), "--url", urls[db], "--db-id", DB_IDS[db]]
            cmd += media.seed_args()
            extra = MOTO_CREDENTIALS
        else:
            cmd = [
                str(python),
                str(AGNO_SIDE / "seed_agno.py"),
                "--url",
                urls[db],
                "--kind",
                kind,
                "--db-id",
                DB_IDS[db],
            ]
            extra = {}
        with log.open("wb") as err:
            out = subprocess.run(
                cmd,
                cwd=REPO,
                env={**_clean_env(), "AGNO_TELEMETRY": "false", **extra},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=err,
                check=False,
            )
        if out.returncode != 0:
            raise RuntimeError(f"seeding {kind} failed:\n{tail(log)}")
        return json.loads(out.stdout.decode().strip().splitlines()[-1])

    kinds = {"a": "main", "b": "second", "legacy": "legacy", "edge": "edge", "legacy2x": "legacy2x"}
    if media is not None:
        kinds["media"] = "media"
    with ThreadPoolExecutor(len(kinds)) as pool:
        futures = {db: pool.submit(one, db, kind) for db, kind in kinds.items()}
        return {db: f.result() for db, f in futures.items()}


def build_env(pg: Any, logdir: Path, agentos_python: Path, sut_kind: str) -> ContractEnv:
    """Databases, seed, and every server pair (started in parallel, waited for together)."""
    libpq = {db: pg.create_database(f"contract_{db}") for db in DB_IDS}
    sqla = {db: pg.url_for(dsn).replace("postgresql://", "postgresql+psycopg://", 1) for db, dsn in libpq.items()}
    t0 = time.monotonic()
    media = start_media(logdir)
    try:
        seeded = seed_all(agentos_python, sqla, logdir, media)
    except BaseException:
        if media is not None and media.moto is not None:
            media.moto.stop()
        raise
    assert set(seeded) == {db for db in DB_IDS if db != "media" or media is not None}, seeded
    for db, counts in seeded.items():
        assert counts["sessions"] > 0, f"seeding {db} wrote too little: {counts}"
        assert counts["runs"] > 0, f"seeding {db} wrote too little: {counts}"
    t_seed = time.monotonic() - t0
    divergences, div_error = load_divergences()
    env = ContractEnv(sut_kind, {}, libpq, divergences, div_error, media=media)
    if media is not None and media.moto is not None:
        env.servers.append(media.moto)
    if os.environ.get("CONTRACT_RECORD"):
        env.record = open(os.environ["CONTRACT_RECORD"], "w", encoding="utf-8")  # noqa: SIM115
    started: list[tuple[str, Server, Server]] = []
    try:
        for inst, spec in INSTANCES.items():
            dbs = [(DB_IDS[db], sqla[db]) for db in spec["dbs"]]
            key = SECURITY_KEY if spec.get("auth") else None
            media_env = media.env(spec["media"]) if media is not None and spec.get("media") else {}
            agentos_env = {} if spec.get("auto_provision", True) else {"CONTRACT_AUTO_PROVISION": "false"}
            agentos_env.update(media_env)
            theirs = start_agentos(f"agentos-{inst}", agentos_python, dbs, logdir, key, agentos_env)
            env.servers.append(theirs)
            if sut_kind == "agentos":
                ours = start_agentos(f"sut-agentos-{inst}", agentos_python, dbs, logdir, key, agentos_env)
            else:
                dsn_map = {DB_IDS[db]: pg.url_for(libpq[db]) for db in spec["dbs"]}
                extra = {"AGNO_MAX_PAGE_SIZE": str(spec.get("max_page_size", 10_000_000_000)), **media_env}
                if not spec.get("auto_provision", True):
                    extra["AGNO_AUTO_PROVISION"] = "false"
                if len(dsn_map) > 1:
                    extra["AGNO_DEFAULT_DB_ID"] = ""  # db_id mandatory, like AgentOS with several dbs
                ours = start_service(f"sut-{inst}", dsn_map, logdir, key, extra)
            env.servers.append(ours)
            started.append((inst, theirs, ours))
        for inst, theirs, ours in started:
            env.pairs[inst] = (wait_started(theirs, env.servers), wait_started(ours, env.servers))
        env.timings.update(seed=t_seed, servers=time.monotonic() - t0 - t_seed)
    except BaseException:
        env.stop()
        raise
    return env


# --------------------------------------------------------------------------------------------------------
# running one case
# --------------------------------------------------------------------------------------------------------
def substitute(value: Any, mapping: Mapping[str, str]) -> Any:
    """Replace `{T}` / `{ID}` placeholders in every string of a request part."""
    if isinstance(value, str):
        for k, v in mapping.items():
            value = value.replace(k, v)
        return value
    if isinstance(value, list):
        return [substitute(v, mapping) for v in value]
    if isinstance(value, tuple):
        return tuple(substitute(v, mapping) for v in value)
    if isinstance(value, dict):
        return {substitute(k, mapping): substitute(v, mapping) for k, v in value.items()}
    return value


Repl = list[tuple["re.Pattern[str]", str]]
TWIN_RE = re.compile(r"(?<=\w)-us(?!\w)")  # the `-us` suffix of an id, not the "-us" of "mut-del-user"


def twin_repl(twin: bool, generated: tuple[str, str] | None = None) -> Repl:
    out: Repl = [(TWIN_RE, TWIN_OS)] if twin else []
    if generated and generated[1]:
        out.append((re.compile(re.escape(generated[1])), generated[0]))
    return out


def normalize(value: Any, replacements: Repl) -> Any:
    """The SUT twin's answer with its ids turned into the AgentOS twin's ids (`-us` -> `-os`)."""
    if not replacements:
        return value
    if isinstance(value, str):
        for pattern, new in replacements:
            value = pattern.sub(new, value)
        return value
    if isinstance(value, list):
        return [normalize(v, replacements) for v in value]
    if isinstance(value, dict):
        return {normalize(k, replacements): normalize(v, replacements) for k, v in value.items()}
    return value


def _request(server: Server, case: Case, mapping: Mapping[str, str]) -> Answer:
    return send(
        server.base_url,
        case.method,
        substitute(case.path, mapping),
        substitute(list(case.query), mapping),
        substitute(case.body, mapping) if case.body is not NO_BODY else NO_BODY,
        substitute(case.raw_body, mapping) if case.raw_body is not None else None,
        case.content_type,
        case.headers,
    )


def describe(case: Case) -> str:
    q = ("?" + urllib.parse.urlencode(list(case.query))) if case.query else ""
    body = ""
    if case.raw_body is not None:
        body = f" raw body {case.raw_body!r}"
    elif case.body is not NO_BODY:
        body = " body " + json.dumps(case.body, ensure_ascii=False)
    where = f"[{case.instance}]"
    if case.kind == "readback":
        paths = ", ".join(p + q for p in case.readback) or "-"
        return f"{where} read-back after {case.source}: GET {paths} (both twins, both services)"
    if len(body) > 600:
        body = body[:600] + "..."
    return f"{where} {case.method} {case.path}{q}{body}"


def _content_type_diff(theirs: Answer, ours: Answer) -> list[Difference]:
    if not CHECK_CONTENT_TYPE or theirs.content_type == ours.content_type:
        return []
    return [Difference("header content-type", "value", theirs.content_type, ours.content_type)]


def _compare_answers(
    case: Case, theirs: Answer, ours: Answer, repl: Repl, content_type: bool = True
) -> list[Difference]:
    diffs = compare(
        theirs.status,
        theirs.json,
        ours.status,
        normalize(ours.json, repl),
        ignore_paths=case.ignore,
        unordered=case.unordered,
        # twins' own created_at/updated_at differ by a second: only "is it now" must agree
        formats={**TWIN_TIME, **case.formats} if repl else case.formats,
    )
    if content_type:
        diffs += _content_type_diff(theirs, ours)
    return diffs


def conformance(env: ContractEnv, instance: str, method: str, path: str, answer: Answer) -> list[Difference]:
    """Our answer against the schema our own /openapi.json declares for it (fetched and compiled once per
    instance); nothing to check when the service under test is a second AgentOS."""
    if env.sut_kind != "service":
        return []
    schemas = env.schemas.get(instance)
    if schemas is None:
        doc = send(env.pairs[instance][1].base_url, "GET", "/openapi.json").json
        schemas = env.schemas[instance] = ResponseSchemas(doc)
    problems = schemas.problems(method, path, answer.status, answer.content_type, answer.json)
    return [Difference("SUT answer vs its /openapi.json", "schema", None, None, p) for p in problems]


def run_case(env: ContractEnv, case: Case) -> None:
    theirs_srv, ours_srv = env.pairs[case.instance]
    started = datetime.now(UTC)
    if case.kind == "readback":
        diffs, shown = _run_readback(env, case, theirs_srv, ours_srv)
        _finish(env, case, diffs, shown, started)
        return
    twin = case.is_twin()
    m_os = {"{T}": TWIN_OS} if twin else {}
    m_us = {"{T}": TWIN_US} if twin else {}
    theirs = _request(theirs_srv, case, m_os)
    ours = _request(ours_srv, case, m_us)
    schema_diffs = conformance(env, case.instance, case.method, substitute(case.path, m_us), ours)
    repl = twin_repl(twin)
    if case.generates_id:
        id_os = theirs.json.get("session_id") if isinstance(theirs.json, dict) else None
        id_us = ours.json.get("session_id") if isinstance(ours.json, dict) else None
        if isinstance(id_os, str) and isinstance(id_us, str):
            env.ids[case.name] = (id_os, id_us)
            if id_us:
                repl = twin_repl(twin, (id_os, id_us))
    shown = [("AgentOS", theirs), ("SUT", ours)]
    if case.divergence and env.sut_kind == "service":
        div = (env.divergences or {}).get(case.divergence)
        if div is None:
            why = env.divergence_error or f"no row with id {case.divergence!r} in docs/compatibility.md"
            diffs = [Difference("divergence", "missing", case.divergence, None, why)]
        else:
            got = normalize(ours.json, repl)
            diffs = check_divergence(div, theirs.status, theirs.json, ours.status, got)
            if not div.checks_ours_body:
                diffs.append(
                    Difference(
                        "divergence",
                        "missing",
                        "a JSON body after the status",
                        div.ours_cell,
                        f"row {div.id} of docs/compatibility.md documents no body for agno-session",
                    )
                )
            diffs += divergence_answer_differences(case, ours.status, got)
        _finish(env, case, diffs + schema_diffs, shown, started)
        return
    if case.divergence and theirs.status >= 500:
        # CONTRACT_SUT=agentos: both answers come from AgentOS; some 500 bodies echo values that differ
        # between two processes (timestamps in "Failed to create session: ..."), so compare statuses only
        _finish(env, case, compare(theirs.status, None, ours.status, None), shown, started)
        return
    diffs = schema_diffs
    if theirs.status >= 500 and not case.divergence and theirs.status not in case.allow_5xx:
        diffs.append(
            Difference(
                "AgentOS status",
                "status",
                "< 500",
                theirs.status,
                "AgentOS answered 5xx in a case without a divergence id: document it in "
                "docs/compatibility.md and mark the case",
            )
        )
    diffs += _compare_answers(case, theirs, ours, repl)
    if INSTANCES[case.instance].get("media"):
        diffs += media_differences(theirs, ours, repl, (theirs_srv.base_url, ours_srv.base_url))
    _finish(env, case, diffs, shown, started)


def _now_as_wildcard(value: Any, now: datetime) -> Any:
    """`value` with every timestamp of "now" (a created session's) replaced by the wildcard."""
    if isinstance(value, dict):
        return {k: _now_as_wildcard(v, now) for k, v in value.items()}
    if isinstance(value, list):
        return [_now_as_wildcard(v, now) for v in value]
    return WILDCARD if is_now(value, now, 600) else value


def divergence_answer_differences(case: Case, status: int, body: Any) -> list[Difference]:
    """Our answer against the one recorded for this case in DIVERGENCE_ANSWERS (or, with
    CONTRACT_WRITE_DIVERGENCE_ANSWERS=1, recorded there)."""
    answers = json.loads(DIVERGENCE_ANSWERS.read_text(encoding="utf-8")) if DIVERGENCE_ANSWERS.exists() else {}
    if WRITE_DIVERGENCE_ANSWERS:
        answers[case.name] = {"status": status, "body": _now_as_wildcard(body, datetime.now(UTC))}
        text = json.dumps(dict(sorted(answers.items())), ensure_ascii=False, indent=1)
        DIVERGENCE_ANSWERS.write_text(text + "\n", encoding="utf-8")
        return []
    expected = answers.get(case.name)
    if expected is None:
        where = DIVERGENCE_ANSWERS.relative_to(REPO)
        return [Difference("divergence answer", "missing", case.name, None, f"no answer for this case in {where}")]
    diffs = [] if expected["status"] == status else [Difference("status", "status", expected["status"], status)]
    return diffs + [
        Difference(d.path, d.kind, d.expected, d.actual, f"answer recorded in {DIVERGENCE_ANSWERS.name}")
        for d in compare_documented(expected["body"], body)
    ]


MEDIA_HEADERS = ("x-content-type-options", "content-disposition", "content-length")


def media_differences(theirs: Answer, ours: Answer, repl: Repl, bases: tuple[str, str]) -> list[Difference]:
    """What a media answer adds to the JSON comparison: the headers AgentOS sets on it, the exact bytes,
    and for a 307 the object behind the presigned URL (a fresh signature each time: the URL's path and
    parameter names must agree, and both URLs must give the same bytes). A 307 to the answering server
    itself (`bases`: each side's base URL) is compared by its path and not followed."""
    diffs = []
    for name in MEDIA_HEADERS:
        if name == "content-length" and theirs.status != 200:
            continue
        if theirs.headers.get(name) != ours.headers.get(name):
            diffs.append(Difference(f"header {name}", "value", theirs.headers.get(name), ours.headers.get(name)))
    if theirs.status == 200 and theirs.raw != ours.raw:
        at = next(
            (i for i, (a, b) in enumerate(zip(theirs.raw, ours.raw, strict=False)) if a != b),
            min(len(theirs.raw), len(ours.raw)),
        )
        diffs.append(
            Difference(
                "body bytes", "value", f"{len(theirs.raw)} bytes", f"{len(ours.raw)} bytes, first difference at {at}"
            )
        )
    if theirs.status == 307 and ours.status == 307:
        loc_os, loc_us = theirs.headers.get("location", ""), normalize(ours.headers.get("location", ""), repl)
        if loc_os.startswith(bases[0] + "/") and loc_us.startswith(bases[1] + "/"):
            if loc_os[len(bases[0]) :] != loc_us[len(bases[1]) :]:
                diffs.append(Difference("header location", "value", loc_os, loc_us))
            return diffs
        url_os, url_us = urllib.parse.urlsplit(loc_os), urllib.parse.urlsplit(loc_us)
        if (url_os.scheme, url_os.netloc, url_os.path) != (url_us.scheme, url_us.netloc, url_us.path):
            diffs.append(Difference("header location", "value", loc_os, loc_us))
        names_os = sorted(k for k, _ in urllib.parse.parse_qsl(url_os.query))
        names_us = sorted(k for k, _ in urllib.parse.parse_qsl(url_us.query))
        if names_os != names_us:
            diffs.append(Difference("header location (parameters)", "value", names_os, names_us))
        got_os = send(f"{url_os.scheme}://{url_os.netloc}", "GET", url_os.path, urllib.parse.parse_qsl(url_os.query))
        got_us = send(f"{url_us.scheme}://{url_us.netloc}", "GET", url_us.path, urllib.parse.parse_qsl(url_us.query))
        # an error body from the S3 server carries a request id: only a 200's bytes are compared
        if got_os.status != got_us.status or (got_os.status == 200 and got_os.raw != got_us.raw):
            diffs.append(
                Difference(
                    "presigned URL",
                    "value",
                    f"{got_os.status}, {len(got_os.raw)} bytes",
                    f"{got_us.status}, {len(got_us.raw)} bytes",
                )
            )
    return diffs


def _finish(
    env: ContractEnv, case: Case, diffs: list[Difference], shown: Iterable[tuple[str, Answer]], started: datetime
) -> None:
    shown = list(shown)
    if env.record is not None:  # CONTRACT_RECORD: every exchange, for debugging and the docs
        rec = {
            "name": case.name,
            "request": describe(case),
            "divergence": case.divergence,
            "equal": not diffs,
            "answers": [{"who": label, "status": a.status, "body": a.json} for label, a in shown],
            "differences": [str(d) for d in diffs],
            "at": started.isoformat(),
        }
        env.record.write(json.dumps(rec, ensure_ascii=False) + "\n")
        env.record.flush()
    if not diffs:
        env.results.append(CaseResult(case.name, True, case.divergence))
        return
    lines = [f"case {case.name}: {describe(case)}"]
    if case.divergence:
        lines.append(f"  marked divergence: {case.divergence}")
    for label, ans in shown:
        lines.append(f"  {label:<28} {ans.show()}")
    lines.append("  differences (expected = AgentOS):")
    lines.append(format_differences(diffs))
    detail = "\n".join(lines)
    env.results.append(CaseResult(case.name, False, case.divergence))
    pytest.fail(detail, pytrace=False)


# --------------------------------------------------------------------------------------------------------
# read-back after a twin mutation: each service reads both twins; the rows are compared too
# --------------------------------------------------------------------------------------------------------
ROW_SQL = """
SELECT session_type, agent_id, team_id, workflow_id, user_id,
       session_data::text, agent_data::text, team_data::text, workflow_data::text, metadata::text, summary::text,
       created_at, updated_at,
       (SELECT count(*) FROM ai.agno_runs r WHERE r.session_id = s.session_id) AS runs
FROM ai.agno_sessions s WHERE session_id = %s
"""
ROW_COLS = [*SESSION_COLUMNS[1:], "runs"]
# the 2.x layout without a runs table: the sessions' own `runs` column instead of the run count
ROW_SQL_2X = ROW_SQL.replace(
    "(SELECT count(*) FROM ai.agno_runs r WHERE r.session_id = s.session_id) AS runs", "s.runs::text AS runs"
)
ROW_SQL_BY_DB = {"legacy2x": ROW_SQL_2X}


def _row(dsn: str, session_id: str, db: str = "") -> dict[str, Any] | None:
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(ROW_SQL_BY_DB.get(db, ROW_SQL), (session_id,))
            row = cur.fetchone()
    finally:
        conn.close()
    if row is None:
        return None
    out: dict[str, Any] = {}
    for col, val in zip(ROW_COLS, row, strict=True):
        if col in ("created_at", "updated_at") and isinstance(val, int):
            val = datetime.fromtimestamp(val, tz=UTC).isoformat().replace("+00:00", "Z")
        elif val is not None and (
            col.endswith(("_data", "metadata", "summary")) or (col == "runs" and isinstance(val, str))
        ):
            val = {"json": parse_json(val)}  # JSON value (possibly JSON null); SQL NULL stays None
        out[col] = val
    return out


TWIN_TIME = {"created_at": "twin-time", "updated_at": "twin-time"}


def _run_readback(
    env: ContractEnv, case: Case, theirs_srv: Server, ours_srv: Server
) -> tuple[list[Difference], list[tuple[str, Answer]]]:
    src = case.source or ""
    if "{ID}" in json.dumps([case.readback, case.query, case.db_rows]) and src not in env.ids:
        why = f"the read-back needs the session id generated by case {src!r}, which did not run or generated none"
        return [Difference("{ID}", "missing", src, None, why)], []
    id_os, id_us = env.ids.get(src, ("", ""))
    m_os = {"{T}": TWIN_OS, "{ID}": id_os}
    m_us = {"{T}": TWIN_US, "{ID}": id_us}
    repl = twin_repl(True, (id_os, id_us))
    # read-backs on a secured pair read with the key, also after a refused (401) mutation
    reader = AUTH if INSTANCES[case.instance].get("auth") else case.headers
    diffs: list[Difference] = []
    shown: list[tuple[str, Answer]] = []
    for path in case.readback:
        p_os, p_us = substitute(path, m_os), substitute(path, m_us)
        q_os, q_us = substitute(list(case.query), m_os), substitute(list(case.query), m_us)
        a_os = send(theirs_srv.base_url, "GET", p_os, q_os, headers=reader)
        u_os = send(ours_srv.base_url, "GET", p_os, q_os, headers=reader)
        a_us = send(theirs_srv.base_url, "GET", p_us, q_us, headers=reader)
        u_us = send(ours_srv.base_url, "GET", p_us, q_us, headers=reader)
        diffs += conformance(env, case.instance, "GET", p_os, u_os) + conformance(env, case.instance, "GET", p_us, u_us)
        shown += [
            (f"AgentOS  GET {p_os}", a_os),
            (f"SUT      GET {p_os}", u_os),
            (f"AgentOS  GET {p_us}", a_us),
            (f"SUT      GET {p_us}", u_us),
        ]
        for label, exp, act, r in (
            ("AgentOS-written twin read by both", a_os, u_os, list[tuple[re.Pattern[str], str]]()),
            ("SUT-written twin read by both", a_us, u_us, list[tuple[re.Pattern[str], str]]()),
        ):
            for d in _compare_answers(case, exp, act, r):
                diffs.append(
                    Difference(
                        f"[{label}] {p_os if exp is a_os else p_us} {d.path}", d.kind, d.expected, d.actual, d.note
                    )
                )
        if not case.divergence:
            # both answers are AgentOS's (its content types were checked against the SUT's above)
            for d in _compare_answers(case, a_os, a_us, repl, content_type=False):
                diffs.append(
                    Difference(
                        f"[AgentOS reads both twins: SUT wrote differently] {d.path}",
                        d.kind,
                        d.expected,
                        d.actual,
                        d.note,
                    )
                )
    if not case.divergence and case.db_rows:
        dsn = env.libpq_dsns[case.db]
        for sid in case.db_rows:
            r_os = _row(dsn, substitute(sid, m_os), case.db)
            r_us = _row(dsn, substitute(sid, m_us), case.db)
            for d in compare(None, r_os, None, normalize(r_us, repl), formats=TWIN_TIME):
                diffs.append(
                    Difference(
                        f"[row {substitute(sid, m_os)} vs its SUT twin] {d.path}", d.kind, d.expected, d.actual, d.note
                    )
                )
    return diffs, shown


def copy_logs(env: ContractEnv, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for s in env.servers:
        shutil.copy(s.log_path, dest / s.log_path.name)
