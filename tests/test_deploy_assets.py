"""The monitoring assets against the live service's /metrics.

Every metric name that monitoring/prometheus/alerts.yml and monitoring/grafana/agno-session.json
query must be exposed by the running service (a histogram `x` also provides `x_bucket`, `x_sum`
and `x_count`), every exact label matcher of the alerts must name a label (and value) the service
really exposes, and the dashboard must show every metric of service/metrics.py. The file-level
validation of these assets (promtool, JSON, PromQL syntax, Helm copy of the alerts) is
scripts/lint-deploy.sh.
"""

from __future__ import annotations

import json
import re
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.http import call
from tests.support.processes import Server

REPO = Path(__file__).resolve().parent.parent
ALERTS = REPO / "monitoring/prometheus/alerts.yml"
DASHBOARD = REPO / "monitoring/grafana/agno-session.json"

# Series Prometheus makes itself, not the service.
PROMETHEUS_BUILTINS = {"up", "scrape_duration_seconds", "scrape_samples_scraped", "ALERTS", "ALERTS_FOR_STATE"}
# Labels Prometheus attaches to every scraped series.
TARGET_LABELS = {"job", "instance"}
PROMQL_WORDS = {
    "sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk", "bottomk", "quantile", "count_values",
    "group", "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool",
    "offset", "inf", "nan", "atan2",
}  # fmt: skip
SERIES_SUFFIXES = {
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("", "_sum", "_count", "_created"),
}

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"' + r"|'(?:[^'\\]|\\.)*'")
_SELECTOR = re.compile(r"(?<![\w:])([A-Za-z_:][A-Za-z0-9_:]*)\s*\{([^}]*)\}")
_MATCHER = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')


def promql_metric_names(expr: str) -> set[str]:
    """Metric names an expression selects: identifiers that are not functions, keywords,
    label names (inside {...} or by/without/on/ignoring lists), numbers or durations."""
    text = _STRING.sub('""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    text = re.sub(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?", " ", text)
    text = re.sub(r"\boffset\s+-?[0-9a-z]+", " ", text)
    names = set()
    for match in re.finditer(r"(?<![\w.:])([A-Za-z_:][A-Za-z0-9_:]*)", text):
        word = match.group(1)
        if text[match.end() :].lstrip().startswith("(") or word.lower() in PROMQL_WORDS:
            continue
        names.add(word)
    return names


def promql_matchers(expr: str) -> list[tuple[str, str, str, str]]:
    """(metric, label, operator, value) for every label matcher written as metric{...}.
    Only `=` values are compared with the exposition: regex values such as status=~"5.." describe
    traffic a healthy test service does not have."""
    out = []
    for selector in _SELECTOR.finditer(expr):
        for label, op, value in _MATCHER.findall(selector.group(2)):
            out.append((selector.group(1), label, op, value))
    return out


def alert_exprs() -> list[str]:
    rules = yaml.safe_load(ALERTS.read_text())
    return [rule["expr"] for group in rules["groups"] for rule in group["rules"]]


def dashboard_exprs() -> list[str]:
    found: list[str] = []

    def walk(panels: list[dict[str, Any]]) -> None:
        for panel in panels:
            walk(panel.get("panels", []))
            for target in panel.get("targets", []):
                found.append(target["expr"])

    walk(json.loads(DASHBOARD.read_text())["panels"])
    return found


class Exposition:
    """The text format, reduced to what the checks need."""

    def __init__(self, text: str) -> None:
        self.types: dict[str, str] = {}
        self.labels: dict[str, dict[str, set[str]]] = {}
        for line in text.splitlines():
            if line.startswith("# TYPE "):
                _, _, family, kind = line.split(None, 3)
                self.types[family] = kind.strip()
            elif line and not line.startswith("#"):
                name, _, rest = line.partition("{")
                name = name.split()[0]
                series = self.labels.setdefault(name, {})
                if rest:
                    for label, value in re.findall(
                        r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"', rest.rsplit("}", 1)[0]
                    ):
                        series.setdefault(label, set()).add(value)
        self.names: dict[str, str] = {}
        """series name -> family name, from the TYPE lines (so label children not yet observed count)."""
        for family, kind in self.types.items():
            for suffix in SERIES_SUFFIXES.get(kind, ("",)):
                self.names[family + suffix] = family

    def family(self, series: str) -> str | None:
        return self.names.get(series)


def scrape(service: Server) -> str:
    reply = call(service.base_url, "GET", "/metrics", timeout=10)
    assert reply.status == 200
    return reply.text


def get(url: str) -> int:
    parts = urllib.parse.urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    return call(f"{parts.scheme}://{parts.netloc}", "GET", target, timeout=10).status


@pytest.fixture
def exposition(live_service: Callable[..., Server], dsn: str) -> Exposition:
    """The live service's /metrics after some traffic (so labelled series have children)."""
    service = live_service(env={"AGNO_PG_DSN": dsn})
    deadline = time.monotonic() + 30
    while get(service.base_url + "/readyz") != 200:
        assert time.monotonic() < deadline, f"/readyz never answered 200:\n{service.log_text()[-2000:]}"
        time.sleep(0.2)
    for path in ("/healthz", "/health", "/sessions", "/sessions?type=agent", "/sessions/missing", "/sessions?type=bad"):
        get(service.base_url + path)
    scrape(service)  # a /metrics request is counted once it has finished: scrape twice
    return Exposition(scrape(service))


def test_promql_metric_name_extraction() -> None:
    assert promql_metric_names(
        'histogram_quantile(0.95, sum by (le, handler) (rate(http_request_duration_seconds_bucket{job="a", '
        'status=~"5.."}[5m]))) > 1e3'
    ) == {"http_request_duration_seconds_bucket"}
    assert promql_metric_names('absent(up{job="agno-session"})') == {"up"}
    assert promql_metric_names(
        'sum(rate(a_total{instance=~"$instance"}[$__rate_interval])) / on (db_id) group_left sum(b) > 0.05'
    ) == {"a_total", "b"}
    assert promql_metric_names("sum(x offset 5m) by (kind) and ignoring(state) y") == {"x", "y"}
    assert promql_matchers('sum(db_pool_connections{job="j", state="in_use"}) / z{reason=~"over.*"}') == [
        ("db_pool_connections", "job", "=", "j"),
        ("db_pool_connections", "state", "=", "in_use"),
        ("z", "reason", "=~", "over.*"),
    ]


def test_monitoring_assets_use_only_exposed_metrics(exposition: Exposition) -> None:
    used = {name: "alerts.yml" for expr in alert_exprs() for name in promql_metric_names(expr)}
    used.update({name: "agno-session.json" for expr in dashboard_exprs() for name in promql_metric_names(expr)})
    assert len(used) >= 10, f"suspiciously few metric names extracted: {sorted(used)}"
    missing = sorted(
        f"{name} (in {where})"
        for name, where in used.items()
        if name not in PROMETHEUS_BUILTINS and exposition.family(name) is None
    )
    assert not missing, f"not exposed by the service's /metrics: {missing}"

    # The dashboard shows every metric the service defines (service/metrics.py).
    # (prometheus_client also exposes each counter's and histogram's creation time as `*_created`.)
    own = {
        family
        for family in exposition.types
        if not family.startswith(("python_", "process_")) and not family.endswith("_created")
    }
    shown = {exposition.family(name) for expr in dashboard_exprs() for name in promql_metric_names(expr)}
    assert not own - shown, f"service metrics missing from the dashboard: {sorted(own - shown)}"


def test_alert_label_matchers_name_real_labels(exposition: Exposition) -> None:
    problems = []
    checked = set()
    for expr in alert_exprs():
        for metric, label, op, value in promql_matchers(expr):
            if metric in PROMETHEUS_BUILTINS or label in TARGET_LABELS:
                continue
            series = exposition.labels.get(metric)
            if not series:
                continue  # no child observed yet (e.g. no timeout happened): the name check covers it
            checked.add((exposition.family(metric), label))
            if label not in series:
                problems.append(f"{metric} has no label {label!r} (labels: {sorted(series)})")
            elif op == "=" and value not in series[label]:
                problems.append(f"{metric}{{{label}={value!r}}} never appears (values: {sorted(series[label])})")
    assert not problems, "\n".join(problems)
    assert ("db_pool_connections", "state") in checked, f"matchers checked: {sorted(checked)}"
