"""`agno-session compare`: replay recorded requests against AgentOS and this service, compare the answers.

Inputs (`--log` access log or `--requests` JSON lines), the write-replay rules (`--include-writes`,
`--staging-db`), what is compared by kind, documented divergences and the exit status (0 all equal or
documented, 1 a mismatch or nothing replayed, 2 usage errors and refused writes): docs/rollout.md §2.
The replay itself is service/compare/replay.py; the contract suite calls its `replay()` directly.
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

_SERVERS = (("AgentOS", "--agentos", "--agentos-key", "AGENTOS_KEY"), ("agno-session", "--ours", "--key", "KEY"))


def _usage_error(message: str) -> int:
    print(f"agno-session compare: {message}", file=sys.stderr)
    return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agno-session compare",
        description="Replay recorded requests against AgentOS and agno-session and compare the JSON answers.",
    )
    for server, url, key, env in _SERVERS:
        parser.add_argument(url, required=True, metavar="URL", help=f"{server} base URL")
        help_ = f"{server} OS_SECURITY_KEY (default: $AGNO_COMPARE_{env})"
        parser.add_argument(key, default=os.environ.get(f"AGNO_COMPARE_{env}"), metavar="K", help=help_)
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
        return _usage_error("--staging-db only makes sense with --include-writes")
    if args.progress_every < 1 or args.recheck < 0 or args.timeout <= 0:
        return _usage_error("--progress-every >= 1, --recheck >= 0, --timeout > 0")
    try:
        entries = load_access_log(args.log) if args.log else load_requests(args.requests)
    except OSError as exc:
        return _usage_error(f"cannot read input: {exc}")
    except UsageError as exc:
        return _usage_error(str(exc))
    if args.max_requests is not None:
        entries = entries[: max(args.max_requests, 0)]
    divergences: list[DocumentedDivergence] = []
    table = None if args.no_divergences else (args.divergences or default_divergences_file())
    if table is not None:
        try:
            divergences = load_divergences(table)
        except OSError as exc:
            return _usage_error(f"cannot read the divergence table: {exc}")
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
        return _usage_error(str(exc))
    print(report.format(max_diffs=args.max_diffs))
    if report.total == 0:
        print("agno-session compare: no request was replayed", file=sys.stderr)
    return 0 if report.ok else 1
