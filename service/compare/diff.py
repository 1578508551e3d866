"""JSON comparison of two HTTP answers: the reference (AgentOS) against the one under test.

Pure functions, no I/O, used by the contract suite, the bench and `agno-session compare`. What counts
as equal (types, values, key order), tie groups and the "now"/uuid4 formats: docs/contract-testing.md.

    diffs = compare(200, expected, 200, actual, ignore_paths=["meta.search_time_ms"],
                    unordered={"data": ["created_at"]}, formats={"**.created_at": "now"})

A path shows as ``$.data[3].session_name``; patterns are dotted strings matched segment by segment: a
key, an index, ``*`` (one segment) or ``**`` (any number, none included); ``""`` or ``"$"`` is the root.
A tie-key spec ``"updated_at|created_at"`` takes the first key present; no tie keys make the whole list
one tie group. Format ``"twin-time"``: the expected value is a "now" timestamp if and only if the
actual one is (for twin rows created a second apart).
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

PathT = tuple[str | int, ...]

_MISSING: Any = object()

FORMAT_KINDS = ("now", "uuid4", "twin-time")


@dataclass(frozen=True)
class Difference:
    """One difference between the expected and the actual answer."""

    path: str
    kind: str  # status | type | value | missing | extra | key-order | length | order | format
    expected: Any = None
    actual: Any = None
    note: str = ""

    def __str__(self) -> str:
        if self.kind == "missing":
            return f"{self.path}: missing (expected {_short(self.expected)})"
        if self.kind == "extra":
            return f"{self.path}: unexpected key (got {_short(self.actual)})"
        if self.kind == "key-order":
            return f"{self.path}: key order differs\n    expected {self.expected}\n    got      {self.actual}"
        text = f"{self.path}: {self.kind}: expected {_short(self.expected)}, got {_short(self.actual)}"
        return f"{text} ({self.note})" if self.note else text


# --------------------------------------------------------------------------------------------------------
# patterns
# --------------------------------------------------------------------------------------------------------
def _split_pattern(pattern: str) -> tuple[str, ...]:
    pattern = pattern.strip()
    if pattern in ("", "$"):
        return ()
    if pattern.startswith("$."):
        pattern = pattern[2:]
    return tuple(p for p in pattern.split(".") if p != "")


def _match(pattern: tuple[str, ...], path: PathT) -> bool:
    if not pattern:
        return not path
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(_match(rest, path[i:]) for i in range(len(path) + 1))
    if not path:
        return False
    seg = path[0]
    if head != "*" and head != str(seg):
        return False
    return _match(rest, path[1:])


def format_path(path: PathT) -> str:
    out = "$"
    for seg in path:
        out += f"[{seg}]" if isinstance(seg, int) else f".{seg}"
    return out


def _short(value: Any, limit: int = 160) -> str:
    if value is _MISSING:
        return "<absent>"
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --------------------------------------------------------------------------------------------------------
# formats
# --------------------------------------------------------------------------------------------------------
_ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|\+00:00)$")


def parse_utc_timestamp(value: Any) -> datetime | None:
    """An ISO-8601 UTC timestamp string (``Z`` or ``+00:00`` suffix) as an aware datetime, else None."""
    if not isinstance(value, str) or not _ISO_RE.match(value):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def is_now(value: Any, now: datetime, tolerance: float) -> bool:
    ts = parse_utc_timestamp(value)
    return ts is not None and abs((ts - now).total_seconds()) <= tolerance


def is_uuid4(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        return False
    return parsed.version == 4 and str(parsed) == value


# --------------------------------------------------------------------------------------------------------
# comparison
# --------------------------------------------------------------------------------------------------------
@dataclass
class _Ctx:
    ignore: list[tuple[str, ...]]
    unordered: list[tuple[tuple[str, ...], tuple[str, ...]]]
    formats: list[tuple[tuple[str, ...], str]]
    now: datetime
    tolerance: float
    diffs: list[Difference]
    limit: int

    def add(self, diff: Difference) -> None:
        if len(self.diffs) < self.limit:
            self.diffs.append(diff)

    def ignored(self, path: PathT) -> bool:
        return any(_match(p, path) for p in self.ignore)

    def format_of(self, path: PathT) -> str | None:
        return next((kind for pattern, kind in self.formats if _match(pattern, path)), None)

    def tie_keys_of(self, path: PathT) -> tuple[str, ...] | None:
        return next((keys for pattern, keys in self.unordered if _match(pattern, path)), None)


_TYPE_NAMES = (
    (type(None), "null"),
    (bool, "boolean"),
    (int, "integer"),
    (float, "float"),
    (str, "string"),
    (list, "array"),
    (dict, "object"),
)
_JSON_TYPES = frozenset(name for _, name in _TYPE_NAMES)


def _type_name(v: Any) -> str:
    return next((name for cls, name in _TYPE_NAMES if isinstance(v, cls)), type(v).__name__)


def _same_type(a: Any, b: Any) -> bool:
    """The same JSON type (`1` is not `1.0`, `true` is not `1`); other types never match."""
    name = _type_name(a)
    return name == _type_name(b) and name in _JSON_TYPES


def _walk(ctx: _Ctx, path: PathT, exp: Any, act: Any) -> None:
    if ctx.ignored(path):
        return
    kind = ctx.format_of(path)
    if kind is not None and _check_format(ctx, path, kind, exp, act):
        return
    if not _same_type(exp, act):
        ctx.add(Difference(format_path(path), "type", exp, act, f"{_type_name(exp)} vs {_type_name(act)}"))
        return
    if isinstance(exp, dict):
        _walk_dict(ctx, path, exp, act)
    elif isinstance(exp, list):
        keys = ctx.tie_keys_of(path)
        if keys is None:
            _walk_list(ctx, path, exp, act)
        else:
            _walk_unordered(ctx, path, exp, act, keys)
    elif isinstance(exp, float) and math.isnan(exp):
        if not (isinstance(act, float) and math.isnan(act)):
            ctx.add(Difference(format_path(path), "value", exp, act))
    elif exp != act:
        ctx.add(Difference(format_path(path), "value", exp, act))


def _check_format(ctx: _Ctx, path: PathT, kind: str, exp: Any, act: Any) -> bool:
    """True when the format rule decided the comparison (a difference may have been added)."""
    if kind == "now":
        if is_now(exp, ctx.now, ctx.tolerance):
            if not is_now(act, ctx.now, ctx.tolerance):
                ctx.add(Difference(format_path(path), "format", exp, act, "expected a current UTC timestamp"))
            return True
        return False
    if kind == "uuid4":
        if is_uuid4(exp):
            if not is_uuid4(act):
                ctx.add(Difference(format_path(path), "format", exp, act, "expected a uuid4"))
            return True
        return False
    if kind == "twin-time":
        e_now, a_now = is_now(exp, ctx.now, ctx.tolerance), is_now(act, ctx.now, ctx.tolerance)
        if e_now != a_now or (exp is _MISSING) != (act is _MISSING):
            ctx.add(Difference(format_path(path), "format", exp, act, "one is a current timestamp, the other not"))
        return True
    raise ValueError(f"unknown format kind {kind!r}; expected one of {FORMAT_KINDS}")


def _walk_dict(ctx: _Ctx, path: PathT, exp: dict[str, Any], act: dict[str, Any]) -> None:
    exp_keys = [k for k in exp if not ctx.ignored((*path, k))]
    act_keys = [k for k in act if not ctx.ignored((*path, k))]
    act_set, exp_set = set(act_keys), set(exp_keys)
    for k in exp_keys:
        if k not in act_set:
            kind = ctx.format_of((*path, k))
            if kind == "twin-time":
                _check_format(ctx, (*path, k), kind, exp[k], _MISSING)
            else:
                ctx.add(Difference(format_path((*path, k)), "missing", exp[k], _MISSING))
    for k in act_keys:
        if k not in exp_set:
            ctx.add(Difference(format_path((*path, k)), "extra", _MISSING, act[k]))
    common_exp = [k for k in exp_keys if k in act_set]
    common_act = [k for k in act_keys if k in exp_set]
    if common_exp != common_act:
        ctx.add(Difference(format_path(path), "key-order", common_exp, common_act))
    for k in common_exp:
        _walk(ctx, (*path, k), exp[k], act[k])


def _walk_list(ctx: _Ctx, path: PathT, exp: list[Any], act: list[Any]) -> None:
    if len(exp) != len(act):
        ctx.add(Difference(format_path(path), "length", len(exp), len(act), "list lengths differ"))
    for i, (e, a) in enumerate(zip(exp, act, strict=False)):
        _walk(ctx, (*path, i), e, a)
    if len(act) > len(exp):
        for i in range(len(exp), len(act)):
            ctx.add(Difference(format_path((*path, i)), "extra", _MISSING, act[i]))
    elif len(exp) > len(act):
        for i in range(len(act), len(exp)):
            ctx.add(Difference(format_path((*path, i)), "missing", exp[i], _MISSING))


def tie_key(item: Any, specs: Sequence[str]) -> str:
    """The tie key of a list element, as canonical JSON (hashable, comparable)."""
    values: list[Any] = []
    for spec in specs:
        value: Any = None
        if isinstance(item, dict):
            for alt in spec.split("|"):
                if alt in item:
                    value = item[alt]
                    break
        values.append(value)
    return json.dumps(values, sort_keys=True, ensure_ascii=False)


def _walk_unordered(ctx: _Ctx, path: PathT, exp: list[Any], act: list[Any], specs: tuple[str, ...]) -> None:
    if len(exp) != len(act):
        ctx.add(Difference(format_path(path), "length", len(exp), len(act), "list lengths differ"))
    exp_keys = [tie_key(e, specs) for e in exp]
    act_keys = [tie_key(a, specs) for a in act]
    for i, (ek, ak) in enumerate(zip(exp_keys, act_keys, strict=False)):
        if ek != ak:
            ctx.add(
                Difference(
                    format_path((*path, i)),
                    "order",
                    json.loads(ek),
                    json.loads(ak),
                    f"sort key {list(specs) or 'none'} differs at this position",
                )
            )
            break
    # group consecutive equal keys of the expected list; match within each group regardless of order
    start = 0
    while start < len(exp):
        end = start
        while end < len(exp) and exp_keys[end] == exp_keys[start]:
            end += 1
        group_exp = list(range(start, end))
        group_act = [i for i in range(start, min(end, len(act))) if act_keys[i] == exp_keys[start]]
        _match_group(ctx, path, exp, act, group_exp, group_act)
        start = end
    if len(act) > len(exp):
        for i in range(len(exp), len(act)):
            ctx.add(Difference(format_path((*path, i)), "extra", _MISSING, act[i]))


def _match_group(ctx: _Ctx, path: PathT, exp: list[Any], act: list[Any], ge: list[int], ga: list[int]) -> None:
    remaining = list(ga)
    unmatched: list[int] = []
    for i in ge:
        found = None
        for j in remaining:
            probe = replace(ctx, diffs=[], limit=1)
            _walk(probe, (*path, j), exp[i], act[j])
            if not probe.diffs:
                found = j
                break
        if found is None:
            unmatched.append(i)
        else:
            remaining.remove(found)
    # report the leftovers pairwise, in order (the closest we can get to a useful diff)
    for i, j in zip(unmatched, remaining, strict=False):
        _walk(ctx, (*path, j), exp[i], act[j])
    for i in unmatched[len(remaining) :]:
        ctx.add(Difference(format_path((*path, i)), "missing", exp[i], _MISSING, "no matching element"))


def compare(
    expected_status: int | None,
    expected_json: Any,
    actual_status: int | None,
    actual_json: Any,
    *,
    ignore_paths: Iterable[str] = (),
    unordered: Mapping[str, Sequence[str] | None] | None = None,
    formats: Mapping[str, str] | None = None,
    now: datetime | None = None,
    now_tolerance: float = 60.0,
    max_differences: int = 50,
) -> list[Difference]:
    """Every difference (up to ``max_differences``) between the expected and the actual answer.

    A status of None is not compared. See the module docstring for the options.
    """
    for kind in (formats or {}).values():
        if kind not in FORMAT_KINDS:
            raise ValueError(f"unknown format kind {kind!r}; expected one of {FORMAT_KINDS}")
    ctx = _Ctx(
        ignore=[_split_pattern(p) for p in ignore_paths],
        unordered=[(_split_pattern(p), tuple(k or ())) for p, k in (unordered or {}).items()],
        formats=[(_split_pattern(p), k) for p, k in (formats or {}).items()],
        now=now or datetime.now(UTC),
        tolerance=now_tolerance,
        diffs=[],
        limit=max_differences,
    )
    if expected_status is not None and actual_status is not None and expected_status != actual_status:
        ctx.add(Difference("status", "status", expected_status, actual_status))
    _walk(ctx, (), expected_json, actual_json)
    return ctx.diffs


def format_differences(diffs: Sequence[Difference], limit: int = 20) -> str:
    """A short human diff: one line (or three, for key order) per difference."""
    if not diffs:
        return "no differences"
    lines = [f"  - {d}" for d in diffs[:limit]]
    if len(diffs) > limit:
        lines.append(f"  ... and {len(diffs) - limit} more")
    return "\n".join(lines)


def format_body(status: int | None, body: Any, limit: int = 3000) -> str:
    """An answer as `<status> <compact JSON>`, cut at ``limit`` characters."""
    text = _short(body, limit) if body is not None else "<empty body>"
    return f"{status} {text}"


# --------------------------------------------------------------------------------------------------------
# parsing
# --------------------------------------------------------------------------------------------------------
def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r} in JSON object")
        out[k] = v
    return out


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(body: bytes | str) -> Any:
    """Strict JSON: order kept, duplicate keys and NaN/Infinity rejected. Empty body -> None."""
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    if body == "":
        return None
    return json.loads(body, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
