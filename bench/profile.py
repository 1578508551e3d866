"""Sample a server under load with py-spy and summarise where its CPU time goes.

    .venv/bin/python -m bench.profile summarise FILE.raw     # tables of an existing py-spy raw profile

py-spy (`.venv/bin/pip install py-spy`; bench-only, not a project dependency) records collapsed stacks
(`--format raw`: `frame;frame;... count`, frames `function (file:line)`); idle samples are dropped, so
the sample total over the run time is the share of one core the process used.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

_REPO = str(Path(__file__).resolve().parent.parent) + "/"
_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
_AREAS = (
    ("service/", "service"),
    ("tornado/", "tornado"),
    ("aiopg/", "aiopg"),
    ("psycopg2/", "psycopg2"),
    ("asyncio/", "asyncio"),
    ("prometheus_client/", "prometheus_client"),
    ("logging/", "logging"),
)


def py_spy() -> str | None:
    local = Path(sys.executable).parent / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


def record(pid: int, seconds: float, out: Path, rate: int = 200, fmt: str = "raw") -> subprocess.Popen[bytes]:
    """Start py-spy in the background; the caller waits for it (it ends after `seconds`). `fmt` "raw"
    (collapsed stacks for `summarise`) or "flamegraph" (an SVG)."""
    exe = py_spy()
    if exe is None:
        raise RuntimeError("py-spy not found: make bench installs the project's `bench` extra")
    cmd = [exe, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", str(rate)]
    cmd += ["--format", fmt, "--output", str(out)]
    return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@dataclass
class Frame:
    func: str
    file: str

    @property
    def short(self) -> str:
        path = self.file
        for marker in ("site-packages/", "lib/python3.11/", _REPO):
            if marker in path:
                path = path.split(marker, 1)[1]
        return f"{self.func} ({path})"

    @property
    def area(self) -> str:
        for needle, name in _AREAS:
            if needle in self.file:
                return name
        if self.file.startswith("<"):
            return "builtin"
        return Path(self.file).name


def _parse_frame(text: str) -> Frame:
    match = _FRAME.match(text.strip())
    if match is None:
        return Frame(text.strip(), "?")
    return Frame(match.group("func"), match.group("file"))


@dataclass
class ProfileSummary:
    samples: int
    self_time: list[tuple[str, int]]
    inclusive: list[tuple[str, int]]
    areas: list[tuple[str, int]]

    def table(self, top: int = 15, seconds: float | None = None, rate: int = 200) -> str:
        lines = []
        if seconds:
            busy = self.samples / (seconds * rate)
            lines.append(f"{self.samples} on-CPU samples, about {busy:.0%} of one core\n")
        lines.append("| self % | function (file) |")
        lines.append("| ---: | --- |")
        for name, count in self.self_time[:top]:
            lines.append(f"| {100 * count / self.samples:.1f} | `{name}` |")
        lines.append("")
        lines.append("| inclusive % | function (file) |")
        lines.append("| ---: | --- |")
        for name, count in self.inclusive[:top]:
            lines.append(f"| {100 * count / self.samples:.1f} | `{name}` |")
        lines.append("")
        lines.append("| self % by area | area |")
        lines.append("| ---: | --- |")
        for name, count in self.areas:
            lines.append(f"| {100 * count / self.samples:.1f} | {name} |")
        return "\n".join(lines)


def summarise(raw: Path) -> ProfileSummary:
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    areas: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_parse_frame(f) for f in stack.split(";") if f and not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        total += count
        leaf = frames[-1]
        self_time[leaf.short] += count
        areas[leaf.area] += count
        for name in {f.short for f in frames}:
            inclusive[name] += count
    return ProfileSummary(total, self_time.most_common(), inclusive.most_common(), areas.most_common())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument("action", choices=["summarise"])
    parser.add_argument("raw", type=Path)
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args(argv)
    print(summarise(args.raw).table(args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
