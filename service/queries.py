"""Named SQL queries from `sql/*.sql`, in aiosql's file format, loaded once at start-up.

A block starts with `-- name: <name><suffix>` (suffix as in aiosql: `^` one row, `$` one value,
`!` no result, `<!` returning, `*!` many parameter sets, none: many rows), then optional `--`
docstring lines, then SQL. The suffix decides which `db.Cursor` method may run the query.
Parameters are `:name` and become psycopg2's `%(name)s` (quoted strings and `::casts` untouched).
`{{placeholder}}` marks an SQL identifier or whitelisted fragment filled per database from the
configuration (`Queries.render`), never from request input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path

_NAME_LINE = re.compile(r"^--\s*name:\s*([A-Za-z_][A-Za-z0-9_]*)(<!|\*!|\^|\$|!)?\s*$")
_PLACEHOLDER = re.compile(r"\{\{([a-z_]+)\}\}")
# A :name parameter outside quotes: not part of a `::cast` and not preceded by a word character.
_TOKENS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|::|(?<![\w:]):([A-Za-z_][A-Za-z0-9_]*)")


class QueryError(RuntimeError):
    """A malformed SQL file or an unknown/duplicate query name (fails start-up)."""


@dataclass(frozen=True)
class Query:
    name: str
    kind: str
    """aiosql suffix: '^' one row, '$' one value, '!' no result, '<!' returning, '*!' many parameter
    sets (no Cursor method runs it), '' many rows or a fragment."""
    doc: str
    sql: str
    """psycopg2 pyformat SQL, placeholders still in `{{...}}` form."""
    source: str

    @cached_property
    def placeholders(self) -> frozenset[str]:
        return frozenset(_PLACEHOLDER.findall(self.sql))


def to_pyformat(sql: str) -> str:
    """`:name` -> `%(name)s`, leaving quoted text and `::` casts alone; literal `%` is doubled."""
    out: list[str] = []
    pos = 0
    for match in _TOKENS.finditer(sql):
        out.append(sql[pos : match.start()].replace("%", "%%"))
        token = match.group(0)
        if match.group(1):
            out.append(f"%({match.group(1)})s")
        else:
            out.append(token.replace("%", "%%"))
        pos = match.end()
    out.append(sql[pos:].replace("%", "%%"))
    return "".join(out)


def parse_sql_file(text: str, source: str) -> list[Query]:
    queries: list[Query] = []
    name: str | None = None
    kind = ""
    doc: list[str] = []
    body: list[str] = []

    def flush() -> None:
        if name is None:
            return
        sql = "\n".join(body).strip()
        if not sql:
            raise QueryError(f"{source}: query {name!r} has no SQL")
        queries.append(Query(name, kind, " ".join(doc).strip(), to_pyformat(sql), source))

    for line in text.splitlines():
        match = _NAME_LINE.match(line.strip())
        if match:
            flush()
            name, kind, doc, body = match.group(1), match.group(2) or "", [], []
            continue
        if name is None:
            continue
        stripped = line.strip()
        if stripped.startswith("--") and not body:
            doc.append(stripped[2:].strip())
        elif stripped and not stripped.startswith("--"):
            body.append(line.rstrip())
    flush()
    return queries


def sql_dir() -> Path:
    """`sql/` next to the package in a checkout, `service/sql/` in an installed wheel."""
    checkout = Path(__file__).resolve().parent.parent / "sql"
    if checkout.is_dir():
        return checkout
    return Path(str(resources.files("service.sql")))


class Queries:
    """All named queries; `render` fills `{{placeholders}}` and caches the result."""

    def __init__(self, queries: list[Query]) -> None:
        self._by_name: dict[str, Query] = {}
        for query in queries:
            if query.name in self._by_name:
                other = self._by_name[query.name].source
                raise QueryError(f"duplicate query name {query.name!r} in {query.source} and {other}")
            self._by_name[query.name] = query

    @classmethod
    def load(cls, directory: Path | None = None) -> Queries:
        directory = directory or sql_dir()
        files = sorted(directory.glob("*.sql"))
        if not files:
            raise QueryError(f"no .sql files in {directory}")
        found: list[Query] = []
        for path in files:
            found.extend(parse_sql_file(path.read_text(encoding="utf-8"), path.name))
        return cls(found)

    def __contains__(self, name: str) -> bool:
        return name in self._by_name

    def names(self) -> list[str]:
        return sorted(self._by_name)

    def get(self, name: str) -> Query:
        try:
            return self._by_name[name]
        except KeyError:
            raise QueryError(f"unknown query {name!r}") from None

    def fragment(self, name: str, **values: str) -> str:
        """A named block that is not run on its own but put into another query's `{{placeholder}}`:
        no parameters; its own placeholders, if any, are filled from `values` (whitelisted names or
        other fragments, never request input)."""
        query = self.get(name)
        if "%(" in query.sql or query.placeholders != values.keys():
            raise QueryError(f"query {name!r} is not a fragment taking {sorted(values)}")
        # `render` doubles `%` in fragment values again
        return self.render(name, tuple(sorted(values.items()))).replace("%%", "%")

    @lru_cache(maxsize=512)  # noqa: B019 - one Queries object lives for the whole process
    def render(self, name: str, fragments: tuple[tuple[str, str], ...]) -> str:
        query = self.get(name)
        values = dict(fragments)
        missing = query.placeholders - values.keys()
        if missing:
            raise QueryError(f"query {name!r} needs placeholders {sorted(missing)}")
        return _PLACEHOLDER.sub(lambda m: values[m.group(1)].replace("%", "%%"), query.sql)
