"""The replay engine of `agno-session compare`: recorded requests sent to AgentOS and to this service,
answers compared (service/compare/diff.py) and tallied per endpoint, documented divergences
(service/compare/divergences.py) counted apart. docs/rollout.md §2 describes the behaviour."""

from __future__ import annotations

import dataclasses
import functools
import http.client
import json
import re
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service.compare.diff import Difference, compare, format_differences, parse_json
from service.compare.divergences import Divergence, check_divergence, parse_divergences
from service.openapi import path_template

ACCESS_LOGGER = "agno_session.access"
READ_METHODS = frozenset({"GET"})
NOT_AGENTOS_ROUTES = frozenset({"/healthz", "/readyz", "/metrics", "/docs", "/openapi.json", "/docs/static/{file}"})
# GET /sessions sort_by -> the list item's key that carries the sort value (rows tying on it may come
# back in any order). Columns without such a key make the whole page one tie group.
_SAME_NAMED = ("created_at", "session_id", "session_type", "user_id", "agent_id", "team_id", "workflow_id")
SORT_TIE_KEYS = {
    **{column: column for column in _SAME_NAMED},
    "updated_at": "updated_at|created_at",
    "summary": "session_summary",
}
NO_BODY: Any = object()


class UsageError(ValueError):
    """Bad arguments or inputs (exit status 2)."""


class StagingCheckError(UsageError):
    """Writes were asked for, but the servers do not prove they use the named staging database."""


# --------------------------------------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReplayRequest:
    """One request to replay. `body` is a JSON value, or NO_BODY; `body_known` is False for log lines."""

    method: str
    path: str
    body: Any = NO_BODY
    db_id: str | None = None
    body_known: bool = True
    source: str = ""

    @classmethod
    def from_mapping(cls, entry: Mapping[str, Any], source: str = "") -> ReplayRequest:
        method, path = entry.get("method"), entry.get("path")
        if not isinstance(method, str) or not isinstance(path, str) or not path.startswith("/"):
            raise UsageError(f"{source or 'entry'}: needs string 'method' and 'path' (starting with /)")
        db_id = entry.get("db_id")
        return cls(
            method=method.upper(),
            path=path,
            body=entry.get("body", NO_BODY),
            db_id=db_id if isinstance(db_id, str) else None,
            source=source,
        )

    @property
    def query(self) -> dict[str, list[str]]:
        return urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query, keep_blank_values=True)

    def show(self) -> str:
        return f"{self.method} {self.path}" + (f"  ({self.source})" if self.source else "")


def load_access_log(path: Path) -> list[ReplayRequest]:
    """The access lines of this service's JSON log (other lines, and non-JSON ones, are skipped)."""
    out: list[ReplayRequest] = []
    with path.open(encoding="utf-8", errors="replace") as lines:
        for number, line in enumerate(lines, 1):
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if not isinstance(entry, dict) or entry.get("logger") != ACCESS_LOGGER:
                continue
            try:
                request = ReplayRequest.from_mapping(entry, f"{path.name}:{number}")
            except UsageError:
                continue
            # the log keeps no request bodies (a `body` key, if any, is not one)
            out.append(dataclasses.replace(request, body=NO_BODY, body_known=False))
    return out


def load_requests(path: Path) -> list[ReplayRequest]:
    """A JSON-lines request file: `{"method", "path", "body"?, "db_id"?}` per line."""
    out: list[ReplayRequest] = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            source = f"{path.name}:{number}"
            try:
                entry = json.loads(line)
            except ValueError as exc:
                raise UsageError(f"{source}: not JSON ({exc})") from None
            if not isinstance(entry, dict):
                raise UsageError(f"{source}: expected a JSON object")
            out.append(ReplayRequest.from_mapping(entry, source))
    return out


# --------------------------------------------------------------------------------------------------------
# routes and comparison options
# --------------------------------------------------------------------------------------------------------
@functools.cache
def _route_table() -> tuple[tuple[re.Pattern[str], str], ...]:
    """make_app's routes, in its order (the first matching route wins), as (regex, path template)."""
    from service.app import routes

    table: list[tuple[re.Pattern[str], str]] = []
    for rule in routes():
        regex = rule[0]
        template = path_template(regex)
        if "(" in template:  # unnamed groups: static files
            template = re.sub(r"\([^)]*\)", "{file}", template)
        table.append((re.compile(regex + "$"), template))
    return tuple(table)


def route_of(path: str) -> str:
    """The route template a request path is served by (`/sessions/{session_id}`), else the path itself."""
    bare = urllib.parse.urlsplit(path).path
    for pattern, template in _route_table():
        if pattern.match(bare):
            return template
    return bare


def _last(values: list[str] | None) -> str | None:
    return values[-1] if values else None


def default_compare_options(request: ReplayRequest, route: str) -> dict[str, Any]:
    """Keyword arguments of `service.compare.compare` for one request."""
    # chat_history messages stored without an id get a random uuid4 from agno (and from us)
    formats = {"created_at": "now", "updated_at": "now", "chat_history.*.id": "uuid4"}
    ignore: list[str] = []
    unordered: dict[str, Sequence[str] | None] = {}
    if request.method == "POST" and route == "/sessions":
        formats.update({"session_id": "uuid4", "agent_session_id": "uuid4"})
    if route == "/health":
        ignore.append("instantiated_at")  # each process's own start time
    if request.method == "GET" and route == "/sessions":
        sort_by = _last(request.query.get("sort_by")) or "created_at"
        tie = SORT_TIE_KEYS.get(sort_by)
        unordered["data"] = [tie] if tie else None
    return {"formats": formats, "ignore_paths": ignore, "unordered": unordered}


# --------------------------------------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------------------------------------
@dataclass
class Answer:
    status: int | None
    body: Any  # parsed JSON; the text when not JSON; None when empty
    error: str | None = None


def send(base_url: str, request: ReplayRequest, key: str | None, timeout: float) -> Answer:
    """One request on a fresh connection (AgentOS closes keep-alive connections after a 500)."""
    url = urllib.parse.urlsplit(base_url)
    prefix = url.path.rstrip("/")
    headers = {"Connection": "close", "Accept": "application/json", "User-Agent": "agno-session-compare"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    payload: bytes | None = None
    if request.body is not NO_BODY:
        payload = json.dumps(request.body, ensure_ascii=False).encode()
        headers["Content-Type"] = "application/json"
    connection_class = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
    conn = connection_class(url.hostname or "127.0.0.1", url.port, timeout=timeout)
    try:
        conn.request(request.method, prefix + request.path, body=payload, headers=headers)
        response = conn.getresponse()
        raw = response.read()
        status = response.status
    except (OSError, http.client.HTTPException) as exc:
        return Answer(None, None, f"{type(exc).__name__}: {exc}")
    finally:
        conn.close()
    try:
        body = parse_json(raw)
    except ValueError:
        body = raw.decode("utf-8", "replace")
    return Answer(status, body)


def server_databases(base_url: str, key: str | None, timeout: float = 10.0) -> list[str] | None:
    """The db_ids a server reports: AgentOS's GET /config `databases`, or this service's /readyz."""
    config = send(base_url, ReplayRequest("GET", "/config"), key, timeout)
    if config.status == 200 and isinstance(config.body, dict) and isinstance(config.body.get("databases"), list):
        return [str(db_id) for db_id in config.body["databases"]]
    ready = send(base_url, ReplayRequest("GET", "/readyz"), key, timeout)
    if isinstance(ready.body, dict) and isinstance(ready.body.get("databases"), dict):
        return [str(db_id) for db_id in ready.body["databases"]]
    return None


# --------------------------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------------------------
@dataclass
class Outcome:
    request: ReplayRequest
    route: str
    agentos: Answer
    ours: Answer
    differences: list[Difference]
    rechecked: bool = False
    divergence: str | None = None  # the id of the documented divergence both answers match

    @property
    def equal(self) -> bool:
        return not self.differences


@dataclass
class EndpointTally:
    endpoint: str  # "GET /sessions/{session_id}"
    total: int = 0
    equal: int = 0
    documented: int = 0


@dataclass
class Report:
    endpoints: dict[str, EndpointTally] = field(default_factory=dict)
    mismatches: list[Outcome] = field(default_factory=list)
    documented: list[Outcome] = field(default_factory=list)
    skipped: list[tuple[ReplayRequest, str]] = field(default_factory=list)
    total: int = 0
    equal: int = 0
    equal_after_recheck: int = 0

    @property
    def ok(self) -> bool:
        """Every replayed answer matched or is a documented divergence (and at least one was replayed)."""
        return self.total > 0 and not self.mismatches

    def summary_line(self) -> str:
        line = f"{self.equal}/{self.total} requests JSON-equal"
        if self.documented:
            line += f", {len(self.documented)} documented divergence(s), {len(self.mismatches)} mismatch(es)"
        return line

    def add(self, outcome: Outcome) -> None:
        endpoint = f"{outcome.request.method} {outcome.route}"
        tally = self.endpoints.setdefault(endpoint, EndpointTally(endpoint))
        tally.total += 1
        self.total += 1
        if outcome.equal:
            tally.equal += 1
            self.equal += 1
            self.equal_after_recheck += int(outcome.rechecked)
        elif outcome.divergence:
            tally.documented += 1
            self.documented.append(outcome)
        else:
            self.mismatches.append(outcome)

    def format(self, max_diffs: int = 10, max_mismatches: int = 50) -> str:
        lines: list[str] = []
        width = max((len(e) for e in self.endpoints), default=0)
        for endpoint in sorted(self.endpoints):
            tally = self.endpoints[endpoint]
            mark = "ok  " if tally.equal + tally.documented == tally.total else "DIFF"
            documented = f" (+{tally.documented} documented divergence(s))" if tally.documented else ""
            lines.append(f"{mark} {endpoint.ljust(width)}  {tally.equal}/{tally.total} equal{documented}")
        if self.documented:
            counts = Counter(outcome.divergence or "" for outcome in self.documented)
            lines.append("")
            lines.append(f"documented divergences ({len(self.documented)}, docs/compatibility.md; not failures):")
            lines.extend(f"  {count} x {div_id}" for div_id, count in sorted(counts.items()))
        if self.mismatches:
            lines.append("")
            lines.append(f"mismatches ({len(self.mismatches)}):")
            for outcome in self.mismatches[:max_mismatches]:
                lines.append(
                    f"* {outcome.request.show()}\n"
                    f"  AgentOS {_status(outcome.agentos)}, ours {_status(outcome.ours)}\n"
                    f"{_indent(format_differences(outcome.differences, max_diffs))}"
                )
            if len(self.mismatches) > max_mismatches:
                lines.append(f"... and {len(self.mismatches) - max_mismatches} more mismatches")
        if self.skipped:
            reasons = Counter(reason for _, reason in self.skipped)
            lines.append("")
            lines.append(f"skipped ({len(self.skipped)}):")
            lines.extend(f"  {count} x {reason}" for reason, count in sorted(reasons.items()))
        if self.equal_after_recheck:
            lines.append("")
            lines.append(f"{self.equal_after_recheck} request(s) matched only when asked again (live changes)")
        lines.append("")
        lines.append(self.summary_line())
        return "\n".join(lines)


def _status(answer: Answer) -> str:
    return answer.error if answer.error else str(answer.status)


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


# --------------------------------------------------------------------------------------------------------
# replay
# --------------------------------------------------------------------------------------------------------
def _differences(agentos: Answer, ours: Answer, options: Mapping[str, Any], max_differences: int) -> list[Difference]:
    if agentos.error or ours.error:
        return [Difference("request", "error", agentos.error or agentos.status, ours.error or ours.status)]
    return compare(agentos.status, agentos.body, ours.status, ours.body, max_differences=max_differences, **options)


_REQUEST_IN_CELL = re.compile(r"`(GET|POST|PATCH|PUT|DELETE) (/[^`\s?]*)")
_ERROR_TYPE_IN_CELL = re.compile(r"`([a-z][a-z_]*)`")


@dataclass(frozen=True)
class DocumentedDivergence:
    """A row of docs/compatibility.md's divergence table, as the replay applies it: the routes its
    `request` cell names (none: any route) and both documented answers."""

    divergence: Divergence
    endpoints: frozenset[str]
    error_types: frozenset[str]  # a 422 cell without a body: the error types it names (`string_nul`)

    @classmethod
    def of(cls, divergence: Divergence) -> DocumentedDivergence:
        named = _REQUEST_IN_CELL.findall(divergence.request)
        types = _ERROR_TYPE_IN_CELL.findall(divergence.ours_cell) if divergence.ours_status == 422 else []
        return cls(divergence, frozenset(f"{method} {route_of(path)}" for method, path in named), frozenset(types))

    @property
    def distinguishable(self) -> bool:
        """Whether a pair of answers can be told apart from a plain mismatch by this row: statuses that
        differ, or a documented body. (A row with equal statuses and no body would hide any mismatch.)"""
        d = self.divergence
        return d.agentos_status != d.ours_status or d.checks_agentos_body or d.checks_ours_body

    def matches(self, request: ReplayRequest, route: str, agentos: Answer, ours: Answer) -> bool:
        if not self.distinguishable or agentos.error or ours.error:
            return False
        if self.endpoints and f"{request.method} {route}" not in self.endpoints:
            return False
        d = self.divergence
        if check_divergence(d, agentos.status, agentos.body, ours.status, ours.body):
            return False
        if self.error_types and not d.checks_ours_body:
            detail = ours.body.get("detail") if isinstance(ours.body, dict) else None
            found = {e.get("type") for e in detail if isinstance(e, dict)} if isinstance(detail, list) else set()
            return bool(found & self.error_types)
        return True


def load_divergences(path: Path) -> list[DocumentedDivergence]:
    """The divergence table of `path` (docs/compatibility.md); raises OSError when it cannot be read."""
    return [DocumentedDivergence.of(d) for d in parse_divergences(path.read_text(encoding="utf-8")).values()]


def default_divergences_file() -> Path | None:
    """docs/compatibility.md of the checkout this module runs from, when there is one."""
    candidate = Path(__file__).resolve().parents[2] / "docs" / "compatibility.md"
    return candidate if candidate.is_file() else None


@dataclass(frozen=True)
class _WriteTarget:
    staging_db: str
    agentos_only: str | None
    ours_only: str | None

    def allows(self, request: ReplayRequest) -> bool:
        named = _last(request.query.get("db_id")) or request.db_id
        if named is not None:
            return named == self.staging_db
        return self.agentos_only == self.staging_db and self.ours_only == self.staging_db


def check_staging(
    agentos_url: str, ours_url: str, staging_db: str, agentos_key: str | None, ours_key: str | None, timeout: float
) -> _WriteTarget:
    """Refuse writes unless both servers report the staging database (raises StagingCheckError)."""
    if not staging_db:
        raise StagingCheckError("--include-writes needs --staging-db NAME (the db_id of a staging copy)")
    found: list[list[str]] = []
    for name, url, key in (("AgentOS", agentos_url, agentos_key), ("ours", ours_url, ours_key)):
        databases = server_databases(url, key, timeout)
        if databases is None:
            raise StagingCheckError(
                f"{name} ({url}) did not report its databases (GET /config or /readyz); writes refused"
            )
        if staging_db not in databases:
            raise StagingCheckError(
                f"{name} ({url}) has no database {staging_db!r} (it has {databases}); writes refused"
            )
        found.append(databases)
    sole = [d[0] if len(d) == 1 else None for d in found]
    return _WriteTarget(staging_db, sole[0], sole[1])


def replay(
    entries: Iterable[ReplayRequest | Mapping[str, Any]],
    agentos_url: str,
    ours_url: str,
    *,
    agentos_key: str | None = None,
    ours_key: str | None = None,
    include_writes: bool = False,
    staging_db: str | None = None,
    timeout: float = 30.0,
    recheck: int = 1,
    ignore_paths: Sequence[str] = (),
    options: Callable[[ReplayRequest, str], Mapping[str, Any]] | None = None,
    progress: Callable[[int, int, Report], None] | None = None,
    max_differences: int = 50,
    divergences: Sequence[DocumentedDivergence] = (),
) -> Report:
    """Replay `entries` against AgentOS then this service, one at a time, and compare each answer pair.

    `entries`: ReplayRequest objects or mappings `{"method", "path", "body"?, "db_id"?}`.
    `options(request, route)` returns keyword arguments for `service.compare.compare`
    (default: `default_compare_options`); `ignore_paths` is added to every comparison.
    `progress(done, total, report)` is called after every request. A differing pair of answers that
    matches one of `divergences` (`load_divergences`) counts as that documented divergence, not as a
    mismatch.
    Raises StagingCheckError when writes are asked for without a verified staging database.
    """
    requests = [e if isinstance(e, ReplayRequest) else ReplayRequest.from_mapping(e) for e in entries]
    target: _WriteTarget | None = None
    if include_writes:
        target = check_staging(agentos_url, ours_url, staging_db or "", agentos_key, ours_key, timeout)
    choose = options or default_compare_options
    report = Report()
    for done, request in enumerate(requests, 1):
        route = route_of(request.path)
        reason = _skip_reason(request, route, target)
        if reason:
            report.skipped.append((request, reason))
        else:
            opts = dict(choose(request, route))
            opts["ignore_paths"] = [*opts.get("ignore_paths", ()), *ignore_paths]
            # a differing GET is asked again, up to `recheck` more times
            attempts = recheck if request.method in READ_METHODS else 0
            asked_again = 0
            while True:
                theirs = send(agentos_url, request, agentos_key, timeout)
                ours = send(ours_url, request, ours_key, timeout)
                diffs = _differences(theirs, ours, opts, max_differences)
                if not diffs or asked_again >= attempts:
                    break
                asked_again += 1
            rechecked = asked_again > 0 and not diffs
            matching = (row.divergence.id for row in divergences if row.matches(request, route, theirs, ours))
            documented = next(matching, None) if diffs else None
            report.add(Outcome(request, route, theirs, ours, diffs, rechecked, documented))
        if progress is not None:
            progress(done, len(requests), report)
    return report


def _skip_reason(request: ReplayRequest, route: str, target: _WriteTarget | None) -> str | None:
    if route in NOT_AGENTOS_ROUTES:
        return "not an AgentOS route (probes, metrics, docs)"
    if request.method in READ_METHODS:
        return None
    if target is None:
        return "not a GET (writes need --include-writes --staging-db NAME)"
    if not request.body_known:
        return "write from the access log (it keeps no request bodies; use --requests)"
    if not target.allows(request):
        return f"write not aimed at the staging database {target.staging_db!r}"
    return None
