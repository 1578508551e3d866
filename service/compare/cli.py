"""`agno-session compare`: replay recorded requests against AgentOS and this service, compare the answers.

    agno-session compare --agentos URL [--agentos-key K] --ours URL [--key K]
                         (--log FILE | --requests FILE)
                         [--include-writes --staging-db NAME] [--progress-every N] [--recheck N]
                         [--timeout S] [--max-requests N] [--max-diffs N] [--ignore PATTERN ...]
                         [--divergences FILE | --no-divergences]

Every request is sent to AgentOS first, then to this service, and the two answers are compared with
`service.compare.diff` (status code, JSON values, key order). The report lists, per endpoint (method and
route template), how many answers were JSON-equal, a short diff for each mismatch, and ends with
`N/M requests JSON-equal` (followed by the documented divergences and mismatches when there are
documented ones). Exit status: 0 when every replayed answer matched or is a documented divergence, 1
when anything else differed (or nothing could be replayed), 2 on usage errors and refused write replays.

Inputs
- `--log FILE`: this service's JSON access log (its stdout): the lines whose `logger` is
  `agno_session.access` (`method`, `path` with query, `db_id`, `status`, ...); other lines are skipped.
  The log keeps no request bodies, so only its GET lines are replayed, even with --include-writes.
- `--requests FILE`: JSON lines `{"method": "GET", "path": "/sessions?type=agent", "body": {...}?,
  "db_id": "..."?}`; blank lines and lines starting with `#` are skipped.

Only GET requests are replayed unless --include-writes is given. Probe, metrics and docs routes
(/healthz, /readyz, /metrics, /docs, /openapi.json) are not part of AgentOS's API and are skipped.

Writes (--include-writes) change data, so they need --staging-db NAME and are refused unless both
servers list NAME among their databases (AgentOS: `databases` of GET /config; this service:
`databases` of GET /readyz). Each write is then replayed only when it targets NAME: its `db_id`
query parameter (or the entry's `db_id`) equals NAME, or it names no db_id and NAME is the only
database of both servers; other writes are skipped and reported. Give each server its own copy of
the staging data under the same db_id: a create replayed on AgentOS and then on this service against
one shared database would collide (409).

Values that legitimately differ between two answers are compared by kind (see
`default_compare_options`): top-level `created_at`/`updated_at` that are "now", generated session ids
of POST /sessions, `instantiated_at` of /health, and rows of GET /sessions that tie on the sort key.
A GET that differs is asked again (`--recheck`, default once) before it counts as a mismatch, so a
row changed by live traffic between the two requests is not reported.

Keys can come from the environment instead of the command line (which `ps` shows):
AGNO_COMPARE_AGENTOS_KEY and AGNO_COMPARE_KEY.

Documented divergences: an answer pair that differs exactly as a row of the divergence table of
docs/compatibility.md says (AgentOS's status and, where the cell gives one, body; ours likewise; on a
route the row's `request` cell names, if it names any) is reported as that divergence, counted apart
and not a failure. Rows whose two statuses are equal and that document no body cannot be told apart
from a mismatch and are never applied. `--divergences FILE` reads another table, `--no-divergences`
none.

The replay itself is service/compare/replay.py; the contract suite calls its
`replay(entries, agentos_url, ours_url, ...) -> Report` directly.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from service.compare.replay import (
    DocumentedDivergence,
    Report,
    StagingCheckError,
    UsageError,
    default_divergences_file,
    load_access_log,
    load_divergences,
    load_requests,
    replay,
)


# --------------------------------------------------------------------------------------------------------
# command line
# --------------------------------------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agno-session compare",
        description="Replay recorded requests against AgentOS and agno-session and compare the JSON answers.",
    )
    parser.add_argument("--agentos", required=True, metavar="URL", help="AgentOS base URL")
    parser.add_argument(
        "--agentos-key",
        default=os.environ.get("AGNO_COMPARE_AGENTOS_KEY"),
        metavar="K",
        help="AgentOS OS_SECURITY_KEY (default: $AGNO_COMPARE_AGENTOS_KEY)",
    )
    parser.add_argument("--ours", required=True, metavar="URL", help="agno-session base URL")
    parser.add_argument(
        "--key",
        default=os.environ.get("AGNO_COMPARE_KEY"),
        metavar="K",
        help="agno-session OS_SECURITY_KEY (default: $AGNO_COMPARE_KEY)",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--log", type=Path, metavar="FILE", help="agno-session JSON access log")
    source.add_argument("--requests", type=Path, metavar="FILE", help='JSON lines {"method","path","body"?}')
    parser.add_argument(
        "--include-writes", action="store_true", help="also replay POST/PATCH/DELETE (needs --staging-db)"
    )
    parser.add_argument("--staging-db", metavar="NAME", help="db_id of the staging copy both servers must report")
    parser.add_argument("--progress-every", type=int, default=100, metavar="N", help="progress on stderr every N")
    parser.add_argument("--recheck", type=int, default=1, metavar="N", help="ask a differing GET again N times")
    parser.add_argument("--timeout", type=float, default=30.0, metavar="S", help="per-request timeout (s)")
    parser.add_argument("--max-requests", type=int, metavar="N", help="replay only the first N entries")
    parser.add_argument("--max-diffs", type=int, default=10, metavar="N", help="differences shown per mismatch")
    parser.add_argument(
        "--ignore", action="append", default=[], metavar="PATTERN", help="JSON path not compared, e.g. '**.metrics'"
    )
    parser.add_argument(
        "--divergences",
        type=Path,
        metavar="FILE",
        help="the divergence table (default: docs/compatibility.md of this checkout); answers matching a row "
        "count as documented divergences, not mismatches",
    )
    parser.add_argument(
        "--no-divergences", action="store_true", help="count every difference as a mismatch, documented or not"
    )
    return parser


def main(argv: list[str]) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help exits 0, usage errors 2
        return int(exc.code or 0)
    if args.staging_db and not args.include_writes:
        parser.print_usage(sys.stderr)
        print("agno-session compare: --staging-db only makes sense with --include-writes", file=sys.stderr)
        return 2
    if args.progress_every < 1 or args.recheck < 0 or args.timeout <= 0:
        print("agno-session compare: --progress-every >= 1, --recheck >= 0, --timeout > 0", file=sys.stderr)
        return 2
    try:
        entries = load_access_log(args.log) if args.log else load_requests(args.requests)
    except OSError as exc:
        print(f"agno-session compare: cannot read input: {exc}", file=sys.stderr)
        return 2
    except UsageError as exc:
        print(f"agno-session compare: {exc}", file=sys.stderr)
        return 2
    if args.max_requests is not None:
        entries = entries[: max(args.max_requests, 0)]
    divergences: list[DocumentedDivergence] = []
    table = None if args.no_divergences else (args.divergences or default_divergences_file())
    if table is not None:
        try:
            divergences = load_divergences(table)
        except OSError as exc:
            print(f"agno-session compare: cannot read the divergence table: {exc}", file=sys.stderr)
            return 2
    elif not args.no_divergences:
        print(
            "agno-session compare: no divergence table (docs/compatibility.md) found; give --divergences FILE "
            "to tell documented divergences from mismatches",
            file=sys.stderr,
        )
    started = time.monotonic()

    def progress(done: int, total: int, report: Report) -> None:
        if done % args.progress_every == 0 and done < total:
            elapsed = time.monotonic() - started
            print(
                f"compare: {done}/{total} entries, {report.equal}/{report.total} equal, "
                f"{len(report.documented)} documented, "
                f"{len(report.skipped)} skipped, {elapsed:.1f}s",
                file=sys.stderr,
                flush=True,
            )

    try:
        report = replay(
            entries,
            args.agentos,
            args.ours,
            agentos_key=args.agentos_key,
            ours_key=args.key,
            include_writes=args.include_writes,
            staging_db=args.staging_db,
            timeout=args.timeout,
            recheck=args.recheck,
            ignore_paths=args.ignore,
            progress=progress,
            max_differences=max(args.max_diffs, 1) * 5,
            divergences=divergences,
        )
    except StagingCheckError as exc:
        print(f"agno-session compare: {exc}", file=sys.stderr)
        return 2
    print(report.format(max_diffs=args.max_diffs))
    if report.total == 0:
        print("agno-session compare: no request was replayed", file=sys.stderr)
    return 0 if report.ok else 1
