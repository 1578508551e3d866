"""The bench's plan (bench/harness.py): what `make bench` runs and whether it fits its 45-minute budget."""

from __future__ import annotations

from bench import seed
from bench.harness import ENDPOINTS, estimate_seconds, parse_args, plan


def test_full_run_fits_the_budget_and_covers_issue_17() -> None:
    opts = parse_args(["--long", "--profile"])  # what `make bench` runs
    plans = plan(opts)
    assert [(p.dataset, p.n) for p in plans] == [
        ("production", 1000),
        ("production", 100000),
        ("simple", 1000),
        ("simple", 100000),
    ]
    production = [p for p in plans if p.dataset == "production"]
    assert all(p.agentos_workers and p.variants and p.endpoints == ENDPOINTS for p in production)
    assert all(p.agentos_rounds >= 1 for p in production)
    assert [p.n for p in plans if p.long] == [100000]
    assert [p.n for p in plans if p.profile] == [100000]
    assert estimate_seconds(opts, plans) <= 45 * 60


def test_quick_run_is_production_1k_only() -> None:
    opts = parse_args(["--quick"])
    assert [(p.dataset, p.n) for p in plan(opts)] == [("production", 1000)]
    assert opts.results_md.parent == opts.out  # a quick run never overwrites bench/RESULTS.md


def test_production_target_session_has_the_median_shape() -> None:
    ds = seed.DATASETS["production"]
    for n in (1000, 100000):
        i = ds.target(n)
        assert i < n
        assert i % 4 == 0
        assert (i // 4) % seed.SHAPES == 5  # the 8-run shape (bench/agno_seed.py RUN_COUNTS)
        assert (i // 48) % 2 == 0
        assert (i // 96) % 3 == 0
