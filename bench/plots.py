"""SVG plots of one bench run for RESULTS.md, drawn from the run's own results (matplotlib, Agg backend).

Needs the project's `bench` extra (`make bench` installs it); without matplotlib the report says so and
carries the tables only.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

ENDPOINTS = ("list", "get", "runs", "previews", "search")
# (label, where in a size's results, colour)
SERIES = (
    ("agno-session", "ours", "#1f6feb"),
    ("agno-session, reuse off", "noreuse", "#7aa7f0"),
    ("agno-session, 20 commits/s", "writes", "#b9d0f6"),
    ("AgentOS, 1 worker", "agentos", "#d1242f"),
    ("AgentOS, 4 workers", "agentos-w4", "#f08a8f"),
    ("pgbench ceiling (our SQL)", "pgbench", "#6e7781"),
)


def available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _med(values: list[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def rounds(size: dict[str, Any], key: str, series: str) -> list[dict[str, Any]]:
    """The wrk rounds of one series at one size ([] when not run)."""
    if series == "noreuse":
        return list(size.get("no_reuse", {}).get("load", {}).get(key, []))
    if series == "writes":
        return list(size.get("writes", {}).get(key, {}).get("load", []))
    return list(size.get("load", {}).get(key, {}).get(series, []))


def rps(size: dict[str, Any], key: str, series: str) -> float:
    if series == "pgbench":
        return ceiling(size, key, "ours")
    return _med([r["rps"] for r in rounds(size, key, series)])


def replayed(size: dict[str, Any], series: str) -> dict[str, list[dict[str, Any]]]:
    """The pgbench rounds per endpoint behind a condition's ceiling: the reuse-off process's own
    statements for `noreuse`, the default process's otherwise."""
    runs = size.get("no_reuse", {}).get("pgbench") if series == "noreuse" else size.get("pgbench")
    return dict(runs or {})


def ceiling(size: dict[str, Any], key: str, series: str) -> float:
    """Median pgbench tps replaying the statements of one render under a condition (nan when not run)."""
    return _med([r["tps"] for r in replayed(size, series).get(key, [])])


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.fonttype": "none", "font.size": 9, "svg.hashsalt": "agno-session-bench"})
    return plt


def _save(fig: Any, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, format="svg", metadata={"Date": None})


def throughput(sizes: dict[str, dict[str, Any]], title: str, path: Path) -> None:
    """req/s per endpoint (log scale): every series beside each other, one panel per size."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(sizes), figsize=(6.5 * len(sizes), 3.8), squeeze=False)
    for ax, (n, size) in zip(axes[0], sizes.items(), strict=True):
        shown = [(label, series, colour) for label, series, colour in SERIES if any(
            rps(size, k, series) == rps(size, k, series) for k in ENDPOINTS)]  # fmt: skip
        width = 0.8 / max(len(shown), 1)
        for idx, (label, series, colour) in enumerate(shown):
            xs = [e + (idx - (len(shown) - 1) / 2) * width for e in range(len(ENDPOINTS))]
            ax.bar(xs, [rps(size, k, series) for k in ENDPOINTS], width, label=label, color=colour)
        ax.set_yscale("log")
        ax.set_xticks(range(len(ENDPOINTS)), ENDPOINTS)
        ax.set_ylabel("req/s (median of rounds; pgbench: tps)")
        ax.set_title(f"{title}, {int(n):,} sessions")
        ax.grid(axis="y", which="both", alpha=0.3)
    axes[0][-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    _save(fig, path)
    plt.close(fig)


def latency(size: dict[str, Any], title: str, path: Path) -> None:
    """p50 / p90 / p99 per endpoint (log scale), ours beside AgentOS with 1 and 4 workers."""
    plt = _pyplot()
    series = [
        s for s in SERIES if s[1] in ("ours", "agentos", "agentos-w4") and any(rounds(size, k, s[1]) for k in ENDPOINTS)
    ]
    fig, axes = plt.subplots(1, len(ENDPOINTS), figsize=(13, 3.4), sharey=True)
    for ax, key in zip(axes, ENDPOINTS, strict=True):
        width = 0.8 / max(len(series), 1)
        for idx, (label, name, colour) in enumerate(series):
            got = rounds(size, key, name)
            values = [_med([r[p] for r in got]) for p in ("p50_ms", "p90_ms", "p99_ms")]
            xs = [x + (idx - (len(series) - 1) / 2) * width for x in range(3)]
            ax.bar(xs, values, width, label=label, color=colour)
        ax.set_yscale("log")
        ax.set_xticks(range(3), ["p50", "p90", "p99"])
        ax.set_title(key)
        ax.grid(axis="y", which="both", alpha=0.3)
    axes[0].set_ylabel("latency, ms (wrk -c32)")
    axes[0].legend(fontsize=7, loc="upper left")
    fig.suptitle(title)
    _save(fig, path)
    plt.close(fig)


def scale(sizes: dict[str, dict[str, Any]], title: str, path: Path) -> None:
    """Ours at each size: p50 and req/s per endpoint, default and with reuse off (1k vs 100k)."""
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 3.6))
    names = list(sizes)
    width = 0.8 / (2 * len(names))
    idx = 0
    for series, suffix in (("ours", ""), ("noreuse", ", reuse off")):
        for n in names:
            size = sizes[n]
            if not any(rounds(size, k, series) for k in ENDPOINTS):
                continue
            offset = (idx - (2 * len(names) - 1) / 2) * width
            xs = [x + offset for x in range(len(ENDPOINTS))]
            label = f"{int(n):,}{suffix}"
            p50 = [_med([r["p50_ms"] for r in rounds(size, k, series)]) for k in ENDPOINTS]
            left.bar(xs, p50, width, label=label)
            right.bar(xs, [rps(size, k, series) for k in ENDPOINTS], width, label=label)
            idx += 1
    for ax, ylabel in ((left, "p50, ms (wrk -c32)"), (right, "req/s")):
        ax.set_xticks(range(len(ENDPOINTS)), ENDPOINTS)
        ax.set_ylabel(ylabel)
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(title)
    _save(fig, path)
    plt.close(fig)


def memory(samples: list[tuple[float, int]], title: str, path: Path, limit_mib: float) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 2.8))
    ax.plot([t for t, _ in samples], [v / 1024 for _, v in samples], marker=".", color="#1f6feb")
    ax.axhline(limit_mib, color="#d1242f", linestyle="--", label=f"{limit_mib:g} MB limit")
    ax.set_ylim(0, limit_mib * 1.2)
    ax.set_xlabel("s")
    ax.set_ylabel("VmRSS, MiB")
    ax.set_title(title)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    _save(fig, path)
    plt.close(fig)
