"""Render bench/RESULTS.md from the harness's results dict (also kept as bench/out/<stamp>/results.json).

.venv/bin/python -m bench.report bench/out/<stamp>/results.json [RESULTS.md]   # re-render (plots beside it)
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any

from bench import plots

ENDPOINT_TITLES = {
    "list": "list `GET /sessions?type=agent&limit=20`",
    "get": "detail `GET /sessions/{id}?type=agent`",
    "runs": "runs `GET /sessions/{id}/runs?type=agent`",
    "previews": "run-previews `GET /sessions/{id}/run-previews?type=agent`",
    "search": "search `GET /sessions?session_name=...`",
}
TARGET_RATIO = {"list": 10.0, "get": 5.0, "runs": 5.0, "previews": 5.0, "search": 5.0}  # issue #5, simple data
TARGET_RATIO_17 = {"list": 10.0, "get": 8.0, "runs": 8.0, "previews": 8.0, "search": 8.0}  # issue #17, production
CEILING_SHARE = 0.8  # issue #17: list throughput >= 80 % of pgbench replaying our statements
CONDITIONS = (
    ("ours", "default"),
    ("noreuse", "reuse off"),
    ("writes", "20 commits/s"),
)
SCALE_LIMIT = 1.5
RSS_LIMIT_MIB = 100.0


def _med(rounds: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(r[key] for r in rounds)) if rounds else float("nan")


def _ms(value: float) -> str:
    if value != value:  # nan
        return "-"
    return f"{value:.2f} ms" if value < 100 else f"{value:.0f} ms"


def _per_round(rounds: list[dict[str, Any]], key: str, fmt: str = ".1f") -> str:
    return " / ".join(format(r[key], fmt) for r in rounds)


def _errors(r: dict[str, Any]) -> int:
    return int(r["non_2xx"]) + int(sum(r["socket_errors"].values()))


def _error_note(groups: dict[str, list[dict[str, Any]]], unreliable: str) -> tuple[str, int]:
    """("; **N errors/timeouts** at 100k, p50 unreliable", N) for the groups of rounds that had errors
    (non-2xx responses or socket errors, e.g. wrk's 2 s timeouts), ("", 0) when none had any."""
    counts = {where: sum(_errors(r) for r in rounds) for where, rounds in groups.items()}
    parts = [f"**{count} errors/timeouts** {where}" for where, count in counts.items() if count]
    return (f"; {', '.join(parts)}, {unreliable} unreliable" if parts else ""), sum(counts.values())


def _scale_row(
    add: Any,
    label: str,
    small: str,
    big: str,
    small_rounds: list[dict[str, Any]],
    big_rounds: list[dict[str, Any]],
    connections: int,
    c1: list[float] | None = None,
    detail: str = "",
) -> None:
    """One "p50 at <big> <= SCALE_LIMIT x p50 at <small>" target row; errors in the rounds of either size fail it."""
    a, b = _med(small_rounds, "p50_ms"), _med(big_rounds, "p50_ms")
    measured = f"{b / a:.2f}x at c{connections} ({_ms(a)} -> {_ms(b)}{detail})"
    if c1 is not None:
        c1a, c1b = c1
        measured += f"; {c1b / c1a:.2f}x at c1 ({_ms(c1a)} -> {_ms(c1b)})"
    note, errors = _error_note({f"at {_short_n(small)}": small_rounds, f"at {_short_n(big)}": big_rounds}, "p50")
    add(
        f"| {label}: p50 at {_short_n(big)} <= {SCALE_LIMIT}x p50 at {_short_n(small)} | {measured}{note} | "
        f"{_ok(b / a <= SCALE_LIMIT and not errors)} |"
    )


def _cores(rounds: list[dict[str, Any]]) -> str:
    """Median CPU (cores) that processes outside the bench used during the rounds."""
    values = [float(v) for r in rounds if isinstance(v := r.get("foreign_cores"), int | float) and v == v]
    return f"{statistics.median(values):.2f}" if values else "-"


AUTH_RATIO = 0.9
"""Authenticated throughput must stay within 10 % of unauthenticated (docs/security.md)."""


def _ok(flag: bool) -> str:
    return "**yes**" if flag else "**NO**"


def _short_n(n: str) -> str:
    value = int(n)
    return f"{value // 1000}k" if value >= 1000 and value % 1000 == 0 else n


def _size_label(n: str) -> str:
    return f"{int(n):,} sessions"


def _errors_in(rounds: list[dict[str, Any]]) -> int:
    return sum(_errors(r) for r in rounds)


def _timeouts_in(rounds: list[dict[str, Any]]) -> int:
    return sum(int(r["socket_errors"].get("timeout", 0)) for r in rounds)


def _agentos_rps_bound(rounds: list[dict[str, Any]]) -> float:
    """AgentOS's median req/s with the requests wrk stopped waiting for (its timeout) counted as answered:
    an upper bound of its rate, so a ratio against it is never flattering. Its latency percentiles are
    of the answered requests only, a lower bound: the timed-out ones were the slowest."""
    rates = [r["rps"] * (r["requests"] + r["socket_errors"].get("timeout", 0)) / r["requests"] for r in rounds]
    return float(statistics.median(rates)) if rates else float("nan")


def _targets_17(add: Any, res: dict[str, Any]) -> None:
    """Issue #17 on the production-shaped dataset: one table per size, every endpoint under each condition."""
    prod = res.get("datasets", {}).get("production")
    if not prod:
        return
    o = res["options"]
    workers = o.get("agentos_workers", 4)
    add("## Issue #17 targets (production-shaped data)")
    add("")
    add(
        f"Per endpoint and condition: our median req/s against AgentOS with 1 uvicorn worker (the target: list "
        f">= {TARGET_RATIO_17['list']:g}x, the others >= {TARGET_RATIO_17['get']:g}x) and with {workers} workers "
        f"(what its users run; reported), our p99 against AgentOS's p50 (1 worker), and our req/s as a share of "
        f"pgbench replaying our own statements (target for list: >= {100 * CEILING_SHARE:.0f} %; reported for "
        "the others). Conditions: *default*; *reuse off* (a process with "
        + ", ".join(f"`{k}={v}`" for k, v in o.get("reuse_off", {}).items())
        + ": what every request costs when something commits between any two of them); *20 commits/s* (the "
        "default process while another client commits 20 times a second). AgentOS is measured once per size "
        "(no reuse of its own), so every condition is compared with the same AgentOS figures."
    )
    add("")
    met_total, rows_total, misses = 0, 0, []
    for n, size in prod["sizes"].items():
        add(f"### {_size_label(n)}")
        add("")
        add(
            f"| endpoint | condition | our req/s | vs AgentOS | met | vs AgentOS x{workers} | "
            "our p99 / AgentOS p50 | met | / pgbench ceiling | met |"
        )
        add("| --- | --- | ---: | ---: | --- | ---: | --- | --- | ---: | --- |")
        for key in ENDPOINT_TITLES:
            agentos = plots.rounds(size, key, "agentos")
            agentos_w = plots.rounds(size, key, f"agentos-w{workers}")
            for series, condition in CONDITIONS:
                ceiling = plots.ceiling(size, key, series)
                ours = plots.rounds(size, key, series)
                if not ours:
                    continue
                ours_rps = _med(ours, "rps")
                timeouts = _timeouts_in(agentos)
                errors = _errors_in(ours) + _errors_in(agentos) - timeouts
                note = f" ({errors} errors)" if errors else ""
                if timeouts:
                    note += f" (AgentOS: {timeouts} timeouts counted as answered)"
                if agentos:
                    bound = _agentos_rps_bound(agentos)
                    ratio = ours_rps / bound if bound else float("inf")
                    ok_ratio = ratio >= TARGET_RATIO_17[key] and not errors
                    ratio_cell, ratio_met = f"{ratio:.1f}x{note}", _ok(ok_ratio)
                    p99, p50 = _med(ours, "p99_ms"), _med(agentos, "p50_ms")
                    ok_p = p99 < p50 and not errors
                    lat_cell, lat_met = f"{_ms(p99)} / {_ms(p50)}", _ok(ok_p)
                    rows_total += 2
                    met_total += int(ok_ratio) + int(ok_p)
                    if not ok_ratio:
                        misses.append(f"{key} {condition} at {_short_n(n)}: {ratio:.1f}x < {TARGET_RATIO_17[key]:g}x")
                    if not ok_p:
                        misses.append(f"{key} {condition} at {_short_n(n)}: p99 {_ms(p99)} >= AgentOS p50 {_ms(p50)}")
                else:
                    ratio_cell, ratio_met, lat_cell, lat_met = "not run", "-", "-", "-"
                ratio_w = f"{ours_rps / _med(agentos_w, 'rps'):.1f}x" if agentos_w else "-"
                if ceiling == ceiling:
                    share = ours_rps / ceiling
                    ceiling_cell = f"{100 * share:.0f} %"
                    if key == "list":  # a share of our own rate: only our errors count
                        ceiling_met = _ok(share >= CEILING_SHARE and not _errors_in(ours))
                        rows_total += 1
                        met_total += int(share >= CEILING_SHARE and not _errors_in(ours))
                        if share < CEILING_SHARE:
                            misses.append(f"list {condition} at {_short_n(n)}: {100 * share:.0f} % of the ceiling")
                    else:
                        ceiling_met = "reported"
                else:
                    ceiling_cell, ceiling_met = "-", "-"
                add(
                    f"| {key} | {condition} | {ours_rps:.0f} | {ratio_cell} | {ratio_met} | {ratio_w} | {lat_cell} | "
                    f"{lat_met} | {ceiling_cell} | {ceiling_met} |"
                )
        add("")
    rows = _memory_rows(res)
    for label, measured, ok in rows:
        rows_total += 1
        met_total += int(ok)
        if not ok:
            misses.append(f"{label}: {measured}")
    add("| memory target | measured | met |")
    add("| --- | --- | --- |")
    for label, measured, ok in rows:
        add(f"| {label} | {measured} | {_ok(ok)} |")
    if not rows:
        add("| RSS <= 100 MB per process on the large dataset | not run | - |")
    add("")
    add(f"**{met_total} of {rows_total} issue #17 targets met.**" + (" Not met:" if misses else ""))
    add("")
    for miss in misses:
        add(f"- {miss}")
    if misses:
        add("")


def _memory_rows(res: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(label, measured, met) for RSS <= RSS_LIMIT_MIB per process on the largest production size under load
    and over the long run."""
    out: list[tuple[str, str, bool]] = []
    prod = res.get("datasets", {}).get("production")
    if not prod:
        return out
    big = list(prod["sizes"])[-1]
    tag = f"production-{big}"
    mine = [s for s in res.get("rss", []) if s["server"].startswith("ours") and tag in s["phase"]]
    if mine:
        peak = max(s["rss_kib"] for s in mine) / 1024
        out.append(
            (
                f"RSS of each of our processes under load, {_short_n(big)} production sessions <= {RSS_LIMIT_MIB:g} MB",
                f"peak {peak:.1f} MiB over {len(mine)} samples ({len({s['pid'] for s in mine})} processes)",
                peak <= RSS_LIMIT_MIB,
            )
        )
    long = res.get("long")
    if long:
        samples = long["samples"]
        first, last = samples[0][1] / 1024, samples[-1][1] / 1024
        peak = max(s[1] for s in samples) / 1024
        out.append(
            (
                f"RSS over the {long['seconds']:.0f} s mixed run ({_short_n(str(long['size']))}) <= "
                f"{RSS_LIMIT_MIB:g} MB and flat",
                f"{first:.1f} -> {last:.1f} MiB (peak {peak:.1f}; slope of the last 80 %: "
                f"{_slope(samples):+.2f} MiB/min)",
                peak <= RSS_LIMIT_MIB and abs(last - first) < 5,
            )
        )
    return out


def _targets_5(add: Any, res: dict[str, Any]) -> None:
    """The issue #5 targets on the simple dataset (3 short runs per session)."""
    simple = res.get("datasets", {}).get("simple")
    if not simple:
        return
    o = res["options"]
    sizes = list(simple["sizes"])
    small = sizes[0]
    add("## Issue #5 targets (simple data: 3 short runs per session)")
    add("")
    add("| target | measured | met |")
    add("| --- | --- | --- |")
    load = simple["sizes"][small].get("load", {})
    for key in ENDPOINT_TITLES:
        got = load.get(key, {})
        if not got.get("agentos"):
            continue
        ratio = _med(got["ours"], "rps") / _med(got["agentos"], "rps")
        note, errors = _error_note({"from agno-session": got["ours"], "from AgentOS": got["agentos"]}, "ratio")
        add(
            f"| {key}: >= {TARGET_RATIO[key]:g}x AgentOS req/s ({_short_n(small)}) | {ratio:.1f}x "
            f"({_med(got['ours'], 'rps'):.0f} vs {_med(got['agentos'], 'rps'):.0f} req/s){note} | "
            f"{_ok(ratio >= TARGET_RATIO[key] and not errors)} |"
        )
    for key in ENDPOINT_TITLES:
        got = load.get(key, {})
        if not got.get("agentos"):
            continue
        p99, p50 = _med(got["ours"], "p99_ms"), _med(got["agentos"], "p50_ms")
        note, errors = _error_note({"from agno-session": got["ours"], "from AgentOS": got["agentos"]}, "percentiles")
        add(
            f"| {key}: our p99 < AgentOS p50 at {o['connections']} connections | {_ms(p99)} vs {_ms(p50)}{note} | "
            f"{_ok(p99 < p50 and not errors)} |"
        )
    if len(sizes) > 1:
        big = sizes[-1]
        at_small, at_big = simple["sizes"][small], simple["sizes"][big]
        for key in SCALE_KEYS:
            _scale_row(
                add,
                key,
                small,
                big,
                at_small["load"][key]["ours"],
                at_big["load"][key]["ours"],
                o["connections"],
                c1=[size.get("c1", {}).get(key, {}).get("p50_ms", float("nan")) for size in (at_small, at_big)],
            )
    auth = res.get("auth")
    if auth:
        ratios = {key: _med(got["ours-jwt"], "rps") / _med(got["ours"], "rps") for key, got in auth["load"].items()}
        shown = ", ".join(f"{key} {ratio:.2f}x" for key, ratio in ratios.items())
        add(
            f"| JWT auth (scopes, isolation) throughput within 10 % of none | {shown} | "
            f"{_ok(min(ratios.values()) >= AUTH_RATIO)} |"
        )
    w2 = res.get("workers2")
    if w2:
        parts = [
            f"{key} {_med(got['ours-w2'], 'rps') / _med(got['ours'], 'rps'):.2f}x" for key, got in w2["load"].items()
        ]
        add(f"| `AGNO_WORKERS=2` scaling factor measured | {', '.join(parts)} | measured |")
    add("")


SCALE_KEYS = ("list", "search", "get")


def _plots(add: Any, res: dict[str, Any], md_dir: Path) -> None:
    add("## Plots")
    add("")
    if not plots.available():
        add("matplotlib is not installed (`make bench` installs the `bench` extra): no plots in this report.")
        add("")
        return
    where = md_dir / "plots"
    where.mkdir(parents=True, exist_ok=True)
    made: list[tuple[str, str]] = []
    for name, ds in res.get("datasets", {}).items():
        sizes = ds["sizes"]
        plots.throughput(sizes, f"{name} data", where / f"{name}-throughput.svg")
        made.append((f"{name} data: req/s per endpoint (log scale)", f"plots/{name}-throughput.svg"))
        for n, size in sizes.items():
            if any(plots.rounds(size, k, "agentos") for k in ENDPOINT_TITLES):
                path = where / f"{name}-{_short_n(n)}-latency.svg"
                plots.latency(size, f"{name} data, {_size_label(n)}: latency percentiles", path)
                made.append((f"{name} data, {_size_label(n)}: latency percentiles (log scale)", f"plots/{path.name}"))
        if len(sizes) > 1:
            path = where / f"{name}-scale.svg"
            plots.scale(sizes, f"{name} data: agno-session at each size", path)
            made.append((f"{name} data: {' vs '.join(_short_n(n) for n in sizes)}", f"plots/{path.name}"))
    long = res.get("long")
    if long:
        plots.memory(
            long["samples"], f"VmRSS over the {long['seconds']:.0f} s run", where / "memory.svg", RSS_LIMIT_MIB
        )
        made.append(("memory over the long run", "plots/memory.svg"))
    for title, link in made:
        add(f"**{title}**")
        add("")
        add(f"![{title}]({link})")
        add("")


def _size_section(add: Any, res: dict[str, Any], name: str, n: str, size: dict[str, Any]) -> None:
    o = res["options"]
    workers = o.get("agentos_workers", 4)
    facts = size["seed"]
    add(f"### {name} data, {_size_label(n)}")
    add("")
    per = facts.get("runs_per_session")
    shape = f" (top-level runs per session: min {per['min']}, median {per['median']}, max {per['max']})" if per else ""
    add(
        f"{facts['sessions']:,} sessions, {facts['runs']:,} runs{shape}; database {facts.get('database_size', '?')}, "
        f"tables {facts['sizes']}; seeded in {facts['total_seconds']} s; check: {facts['check']}."
    )
    add("")
    add("| key | URL | AgentOS bytes | our bytes | same JSON |")
    add("| --- | --- | ---: | ---: | --- |")
    for key, url in size["urls"].items():
        s = size.get("sanity", {}).get(key, {})
        add(
            f"| {key} | `{url}` | {s.get('agentos_bytes', '-')} | {s.get('ours_bytes', '-')} | "
            f"{'yes' if s.get('equal') else 'NO'} |"
        )
    add("")
    differing = {k: s for k, s in size.get("sanity", {}).items() if not s.get("equal")}
    for key, s in differing.items():
        add(f"<details><summary>{key}: how the answers differ</summary>")
        add("")
        add("```")
        add(s.get("differences", "")[:4000])
        add("```")
        add("</details>")
        add("")
    add(f"#### Throughput and latency (wrk -c{o['connections']})")
    add("")
    add(
        "| endpoint | server | req/s per round | **median req/s** | p50 | p90 | p99 | errors | ours / it | other load |"
    )
    add("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    names = {
        "ours": "agno-session",
        "noreuse": "agno-session, reuse off",
        "writes": "agno-session, 20 commits/s",
        "agentos": "AgentOS",
        f"agentos-w{workers}": f"AgentOS, {workers} workers",
    }
    for key in ENDPOINT_TITLES:
        ours_rps = plots.rps(size, key, "ours")
        for series, label in names.items():
            rounds = plots.rounds(size, key, series)
            if not rounds:
                continue
            ratio = f"**{ours_rps / _med(rounds, 'rps'):.1f}x**" if series.startswith("agentos") else ""
            add(
                f"| {key} | {label} | {_per_round(rounds, 'rps')} | **{_med(rounds, 'rps'):.1f}** | "
                f"{_ms(_med(rounds, 'p50_ms'))} | {_ms(_med(rounds, 'p90_ms'))} | {_ms(_med(rounds, 'p99_ms'))} | "
                f"{_errors_in(rounds)} | {ratio} | {_cores(rounds)} |"
            )
    add("")
    writes = size.get("writes")
    if writes:
        add("Requests that still reused a result while another client committed (the service's outcome counters):")
        add("")
        add("| endpoint | commits/s | outcomes |")
        add("| --- | ---: | --- |")
        for key, w in writes.items():
            outcomes = "; ".join(
                f"`{metric}` " + ", ".join(f"{k} {v:.0f}" for k, v in sorted(got.items()))
                for metric, got in sorted(w.get("outcomes", {}).items())
                if got
            )
            add(f"| {key} | {w['commits_per_second']:.1f} | {outcomes or '-'} |")
        add("")
    c1 = size.get("c1")
    if c1:
        add("Single connection (ours, `wrk -t1 -c1`, one round):")
        add("")
        add("| endpoint | req/s | p50 | p90 | p99 |")
        add("| --- | ---: | ---: | ---: | ---: |")
        for key, r in c1.items():
            add(f"| {key} | {r['rps']:.1f} | {_ms(r['p50_ms'])} | {_ms(r['p90_ms'])} | {_ms(r['p99_ms'])} |")
        nr = size.get("no_reuse", {}).get("c1")
        if nr:
            for key, r in nr.items():
                add(
                    f"| {key}, reuse off | {r['rps']:.1f} | {_ms(r['p50_ms'])} | {_ms(r['p90_ms'])} | "
                    f"{_ms(r['p99_ms'])} |"
                )
        add("")
    if size.get("pgbench"):
        add("#### Database ceiling: pgbench of our own SQL")
        add("")
        add(
            "| endpoint | condition | statements per request | pgbench tps per round | **median tps** | avg latency | "
            "our req/s | ours as % of ceiling | other load |"
        )
        add("| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
        for series, condition in CONDITIONS[:2]:  # 20 commits/s runs the default process's statements
            statements = size.get("no_reuse", {}).get("sql", {}) if series == "noreuse" else size["sql"]
            for key, runs in plots.replayed(size, series).items():
                tps = statistics.median(r["tps"] for r in runs)
                ours_rps = plots.rps(size, key, series)
                nstmt = len([s for s in statements[key] if s.strip().upper() != "SELECT 1"])
                add(
                    f"| {key} | {condition} | {nstmt} | {_per_round(runs, 'tps', '.0f')} | **{tps:.0f}** | "
                    f"{statistics.median(r['latency_ms'] for r in runs):.2f} ms | {ours_rps:.0f} | "
                    f"{100 * ours_rps / tps:.0f} % | {_cores(runs)} |"
                )
        add("")


def render(res: dict[str, Any], out_dir: Path, md_dir: Path | None = None) -> str:
    """RESULTS.md text; plots are written under `md_dir`/plots (default: beside the raw outputs)."""
    md_dir = out_dir if md_dir is None else md_dir
    o = res["options"]
    m = res["machine"]
    datasets = res.get("datasets", {})
    lines: list[str] = []
    add = lines.append
    mode = "quick run (1 round, short)" if o["quick"] else f"{o['rounds']} rounds of {o['duration']:g} s"
    flags = "".join(
        f" {f}" for f, on in (("--quick", o["quick"]), ("--long", o.get("long")), ("--profile", o.get("profile"))) if on
    )
    add("# agno-session vs Agno AgentOS 3.1.10: `/sessions` benchmark")
    add("")
    add(
        f"Generated by `bash bench/run.sh{flags}` ({mode}; datasets: {', '.join(datasets)}) on {m['date']}, "
        f"{res.get('elapsed_seconds', '?')} s wall time (estimated {res.get('estimate_seconds', '?')} s). "
        f"Raw outputs: `{_rel(out_dir)}/` (git-ignored)."
    )
    add(
        "Every number below comes from this one run; all servers ran on the same database and were loaded "
        "alternately (never at the same time), the order flipped every round."
    )
    add("")
    _targets_17(add, res)
    _plots(add, res, md_dir)
    _targets_5(add, res)

    # ------------------------------------------------------------------ machine
    add("## Machine and software")
    add("")
    add("| item | value |")
    add("| --- | --- |")
    for key in ("cpu", "memory", "kernel", "loadavg_before", "loadavg_after", "postgres", "python", "agentos", "ours",
                "wrk"):  # fmt: skip
        add(f"| {key} | {m.get(key, '?')} |")
    add("")
    add(
        "Everything (wrk, the servers, PostgreSQL) shares the same cores; the cluster is a throwaway "
        "`service.dev.pg` cluster under /tmp (fsync off, which does not matter for these read-only loads)."
    )
    add("")

    # ------------------------------------------------------------------ how
    add("## How it was measured")
    add("")
    add("```")
    add("make bench                   # the full run: bash bench/run.sh --long --profile (both datasets, 1k + 100k)")
    add("bash bench/run.sh --quick    # 1k production sessions, 1 round x 5 s; report in bench/out/<stamp>/")
    add("bash bench/run.sh --dataset production|simple   # one dataset only")
    add("```")
    add("")
    add(
        f"- load: `{o['wrk']}` per endpoint and server after a {o['warmup']:g} s warm-up (same command and "
        "connection count for every server), medians of the rounds. At 100k sessions AgentOS runs "
        f"{o['agentos_large_rounds']} round(s) per endpoint; the reuse-off and committing conditions "
        f"{o.get('variant_rounds', '?')} round(s)."
    )
    for name, ds in datasets.items():
        first = next(iter(ds["sizes"].values()))
        for label, command in first.get("commands", {}).items():
            add(f"- {name} data, {label}: `{command}`")
    add(
        "- AgentOS: tests/contract/agno_side/agentos_app.py (PostgresDb id `bench-db`), uvicorn with 1 worker and "
        f"with {o.get('agentos_workers', 4)} workers (`--workers`), `--no-access-log --log-level warning`."
    )
    add(
        "- data: `bench/seed.py` (bench/README.md describes both datasets): agno 3.1.10 writes the template "
        "sessions through `upsert_sessions` + `upsert_run`; SQL `generate_series` replicates them with new ids, "
        "names and timestamps; agno then writes real sessions of the same numbers into a scratch schema and their "
        "rows must equal the replicated ones column by column; `VACUUM ANALYZE`."
    )
    add(
        "- before loading, every URL was fetched from AgentOS and from us: 200 and the same JSON (compared with "
        "`service.compare.diff`, ignoring only `meta.search_time_ms`)."
    )
    add(
        "- ceiling: our exact statements per request, captured with `log_statement=all` from the running service, "
        f"replayed with `pgbench -n -M simple -c 8 -j 2 -T {o['pgbench_seconds']:g}` (simple protocol: psycopg2 "
        "binds client-side)."
    )
    add("- memory: VmRSS from /proc/PID/status of every serving process, every 2 s during all load.")
    add(
        "- other load: CPU (in cores, of " + str(m["cpu"].rsplit(" x ", 1)[-1]) + ") used during a round by processes "
        "outside the bench (other work on this shared machine; from /proc/PID/stat deltas). Rounds with a high value "
        "are disturbed."
    )
    if o.get("ours_env"):
        add(f"- extra environment for agno-session: `{o['ours_env']}`.")
    add("")

    # ------------------------------------------------------------------ per dataset and size
    for name, ds in datasets.items():
        add(f"## {name.capitalize()} data")
        add("")
        for n, size in ds["sizes"].items():
            _size_section(add, res, name, n, size)

    # ------------------------------------------------------------------ workers, auth, access log
    w2 = res.get("workers2")
    if w2:
        add("## Pre-fork scaling: `AGNO_WORKERS=2`")
        add("")
        add(
            f"`{w2['command']}`, {w2.get('tag', w2['size'])}, same wrk command, alternating with the 1-process "
            "server round by round."
        )
        add("")
        _ab_table(add, w2["load"], "ours", "ours-w2", "1 process", "2 workers")
        add(
            "On this 2-core machine wrk and PostgreSQL compete with the workers for the same cores, so the factor "
            "is a lower bound of what a dedicated host gives."
        )
        add("")
    auth = res.get("auth")
    if auth:
        add("## Cost of authentication")
        add("")
        add(
            f"{auth.get('tag', auth['size'])}. A second process with JWT mode as AgentOS runs it with "
            "`authorization=True` and user isolation (`JWT_VERIFICATION_KEY` RS256, `AGNO_AUTHORIZATION=true`, "
            "`AGNO_USER_ISOLATION=true`, an audience), loaded with an admin bearer token, alternates round by "
            "round with the unauthenticated one. Verified tokens are remembered until their `exp` "
            "(docs/security.md), so a token is decoded once, not per request:"
        )
        add("")
        _ab_table(add, auth["load"], "ours", "ours-jwt", "no auth", "JWT")
    acc = res.get("access_log")
    if acc:
        add("## Cost of the JSON access log")
        add("")
        add(
            "All comparisons above run ours with `AGNO_LOG_LEVEL=WARNING` (AgentOS runs `--no-access-log "
            "--log-level warning`). Here the default `INFO` (one JSON line per request to stdout, here a file) "
            "alternates with it round by round:"
        )
        add("")
        _ab_table(add, acc["load"], "ours", "ours-info", "WARNING", "INFO")

    # ------------------------------------------------------------------ memory
    add("## Memory (VmRSS)")
    add("")
    groups: dict[str, list[int]] = {}
    for s in res.get("rss", []):
        if s["phase"] == "idle" and not s["server"].startswith("ours"):
            continue
        groups.setdefault(s["server"], []).append(s["rss_kib"])
    if groups:
        add("| process | samples | min | median | max |")
        add("| --- | ---: | ---: | ---: | ---: |")
        for label, values in groups.items():
            add(
                f"| {label} | {len(values)} | {min(values) / 1024:.1f} MiB | "
                f"{statistics.median(values) / 1024:.1f} MiB | {max(values) / 1024:.1f} MiB |"
            )
        add("")
        add(
            "(`ours`: the single process of the main comparison, across every dataset and size; `ours-noreuse`: the "
            "reuse-off process; `ours-w2`: each of the two workers; `agentos`, `agentos-w4`: each uvicorn process "
            "(with 4 workers also the supervisor).)"
        )
        add("")
    long = res.get("long")
    if long:
        samples = long["samples"]
        add(f"### {long['seconds']:.0f} s run ({long.get('tag', long['size'])}, all five URLs in rotation)")
        add("")
        w = long["wrk"]
        errors = w["non_2xx"] + sum(w["socket_errors"].values())
        add(f"{w['rps']:.1f} req/s, p50 {_ms(w['p50_ms'])}, p99 {_ms(w['p99_ms'])}, errors {errors}.")
        add("")
        step = max(1, len(samples) // 12)
        add("| t (s) | " + " | ".join(f"{t:.0f}" for t, _ in samples[::step]) + " |")
        add("| --- |" + " ---: |" * len(samples[::step]))
        add("| VmRSS MiB | " + " | ".join(f"{v / 1024:.1f}" for _, v in samples[::step]) + " |")
        add("")

    # ------------------------------------------------------------------ profile
    profile = res.get("profile")
    if profile:
        add(
            f"## Profiles of our service ({profile['tag']}; py-spy, {profile['rate']} Hz, {profile['seconds']:g} s "
            "per endpoint under the same wrk load)"
        )
        add("")
        flame_dir = _link(md_dir, profile["dir"])
        add(
            "Flame graphs (SVG, open in a browser for the interactive view): "
            + ", ".join(f"[{key}]({flame_dir}/{p['svg']})" for key, p in profile["endpoints"].items() if p.get("svg"))
            + ". Self % = samples whose innermost Python frame is that function (C code such as ujson, psycopg2 "
            "fetch or socket calls is charged to the Python frame that called it)."
        )
        add("")
        for key, p in profile["endpoints"].items():
            add(f"<details><summary>{ENDPOINT_TITLES.get(key, key)}</summary>")
            add("")
            add(p.get("table") or f"py-spy failed: {p.get('error')}")
            add("")
            add("</details>")
            add("")

    # ------------------------------------------------------------------ SQL
    add("## Our SQL and its plans")
    add("")
    for name, ds in datasets.items():
        for n, size in ds["sizes"].items():
            for key, plans_ in size.get("explain", {}).items():
                add(
                    f"<details><summary>{name} data, {_short_n(n)} sessions, {key}: statements and EXPLAIN (ANALYZE, "
                    "BUFFERS)</summary>"
                )
                add("")
                for statement, plan_ in zip(
                    [s for s in size["sql"][key] if s.strip().upper() != "SELECT 1"], plans_, strict=False
                ):
                    add("```sql")
                    add(statement)
                    add("```")
                    add("```")
                    add(plan_)
                    add("```")
                for plan_ in size.get("explain_counting", {}).get(key, []):
                    add("After a commit the same statement carries no known snapshot (`= NULL::text`) and counts:")
                    add("```")
                    add(plan_)
                    add("```")
                add("</details>")
                add("")

    # ------------------------------------------------------------------ gaps
    add("## Not measured here")
    add("")
    add(
        "- Requests slower than wrk's default 2 s timeout: counted as errors (timeouts) and missing from the "
        "latency percentiles."
    )
    add("- Writes (POST/PATCH/rename/DELETE): the targets are reads only.")
    add(
        "- AgentOS at 100k sessions ran "
        f"{o['agentos_large_rounds']} round(s) per endpoint (1 and {o.get('agentos_workers', 4)} workers); the "
        "simple dataset has no AgentOS-with-workers, reuse-off or committing rows (issue #17 concerns the "
        "production-shaped data)."
    )
    if not long:
        add("- The 5-minute memory run (`--long`).")
    if not profile:
        add("- Profiles and flame graphs (`--profile`).")
    add("")
    return "\n".join(lines)


def _link(md_dir: Path, repo_relative: str) -> str:
    """A link from RESULTS.md in `md_dir` to a repo-relative (or absolute) directory."""
    target = Path(repo_relative)
    if not target.is_absolute():
        target = Path(__file__).resolve().parent.parent / target
    try:
        return str(target.resolve().relative_to(md_dir.resolve()))
    except ValueError:
        return str(target)


def _ab_table(add: Any, load: dict[str, Any], a: str, b: str, a_title: str, b_title: str) -> None:
    add(
        f"| endpoint | {a_title} req/s per round | **median** | {b_title} req/s per round | **median** | "
        f"{b_title} / {a_title} | {b_title} p50 | {b_title} p99 | other load |"
    )
    add("| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    for key, got in load.items():
        ra, rb = got[a], got[b]
        add(
            f"| {key} | {_per_round(ra, 'rps')} | **{_med(ra, 'rps'):.1f}** | {_per_round(rb, 'rps')} | "
            f"**{_med(rb, 'rps'):.1f}** | {_med(rb, 'rps') / _med(ra, 'rps'):.2f}x | {_ms(_med(rb, 'p50_ms'))} | "
            f"{_ms(_med(rb, 'p99_ms'))} | {_cores(ra + rb)} |"
        )
    add("")


def _slope(samples: list[list[float]] | list[tuple[float, int]]) -> float:
    """MiB per minute over the last 80 % of the samples (least squares)."""
    tail = samples[len(samples) // 5 :]
    if len(tail) < 3:
        return float("nan")
    xs = [float(t) / 60 for t, _ in tail]
    ys = [float(v) / 1024 for _, v in tail]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den if den else float("nan")


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path(__file__).resolve().parent.parent))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0])
    target = Path(args[1]) if len(args) > 1 else path.parent / "RESULTS.md"
    target.write_text(render(json.loads(path.read_text()), path.parent, target.parent))
    print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
