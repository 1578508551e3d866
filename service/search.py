"""Which part of a `session_name` search the trigram index should look up.

The search is AgentOS's `session_name ILIKE '%<term>%'`. A trigram GIN lookup costs about the sum of
the posting lists of the pattern's trigrams, and the trigrams of a word that nearly every name
contains (`session`, `agent`, `chat`) list nearly every row: looking up `%agent session 50000%` reads
every posting list of the index, while `%50000%` alone reads a few pages and finds the same
candidates. So the index is asked for the term's rare words only (`%<rare>%<rare>%`, in their
order), and the full pattern is applied to the candidates as a filter, which keeps the result exact:
any name matching the full pattern contains each of its literal words in that order.

How common a word is comes from PostgreSQL's own statistics of the index expression (`pg_stats`:
most common values with their frequencies, and the histogram's sample of the rest), read now and
then; without statistics the full pattern is looked up, as before.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

RARE_FREQUENCY = 0.05
"""A word in at most this share of the names is worth looking up in the index."""
MIN_WORD_LENGTH = 3
"""Shorter words give the index no trigram of their own within a `%...%` pattern."""
_WORDS = re.compile(r"[^\W_]+")  # letters and digits: what pg_trgm makes trigrams of


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: a cheap key of index_pattern's cache
class NameSample:
    """Lower-cased sample names, each with the share of the table's rows it stands for."""

    names: tuple[tuple[str, float], ...]

    @classmethod
    def from_stats(cls, row: dict[str, Any] | None) -> NameSample | None:
        """From the `pg_stats` row of the index expression; None when there is none (never analyzed)."""
        if row is None:
            return None
        common = list(row.get("common_values") or [])
        common_freqs = [float(f) for f in row.get("common_freqs") or []]
        histogram = list(row.get("histogram_values") or [])
        if not common and not histogram:
            return None
        rest = max(0.0, 1.0 - float(row.get("null_frac") or 0.0) - sum(common_freqs))
        names = [(str(v).lower(), f) for v, f in zip(common, common_freqs, strict=False)]
        names += [(str(v).lower(), rest / len(histogram)) for v in histogram]
        return cls(tuple(names))

    def frequency(self, word: str) -> float:
        """Estimated share of names containing `word` (case-insensitively)."""
        needle = word.lower()
        return sum(share for name, share in self.names if needle in name)


@functools.lru_cache(maxsize=1024)  # per request otherwise: each word is looked for in every sampled name
def index_pattern(term: str, sample: NameSample | None) -> str:
    """The ILIKE pattern the trigram index looks up for `session_name=<term>`: the full pattern, or
    only the term's rare words when the term also has common ones."""
    full = f"%{term}%"
    if sample is None:
        return full
    words = [w for w in _WORDS.findall(term) if len(w) >= MIN_WORD_LENGTH]
    if len(words) < 2:
        return full
    rare = [w for w in words if sample.frequency(w) <= RARE_FREQUENCY]
    if not rare or len(rare) == len(words):
        return full
    return "%" + "%".join(rare) + "%"
