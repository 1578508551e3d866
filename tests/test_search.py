"""search.py: which part of a name search the trigram index looks up (pure, no database)."""

from __future__ import annotations

import pytest

from service.search import NameSample, index_pattern

STATS = {
    "common_values": ["Bulk chat session 1"],
    "common_freqs": [0.2],
    "histogram_values": ["bulk chat session 2", "bulk chat session 3", "bulk team session 4", "Other name"],
    "null_frac": 0.0,
}


def test_sample_weights_common_values_by_frequency_and_spreads_the_rest_over_the_histogram() -> None:
    sample = NameSample.from_stats(STATS)
    assert sample is not None
    assert sample.names[0] == ("bulk chat session 1", 0.2)
    assert [share for _, share in sample.names[1:]] == pytest.approx([0.2] * 4)
    assert sample.frequency("SESSION") == pytest.approx(0.8)
    assert sample.frequency("chat") == pytest.approx(0.6)
    assert sample.frequency("team") == pytest.approx(0.2)
    assert sample.frequency("nowhere") == 0.0


def test_null_names_and_missing_statistics() -> None:
    half_null = NameSample.from_stats({**STATS, "common_values": None, "common_freqs": None, "null_frac": 0.5})
    assert half_null is not None
    assert half_null.frequency("bulk") == pytest.approx(0.375)
    assert NameSample.from_stats(None) is None
    assert NameSample.from_stats({"common_values": None, "common_freqs": None, "histogram_values": None}) is None


COMMON = NameSample(tuple((f"bulk agent session {n}", 0.01) for n in range(100)))


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        # common words are left out of the lookup; rare ones are kept in their order
        ("agent session 50000", "%50000%"),
        ("12345 agent session 777", "%12345%777%"),
        ("Agent SESSION xyz", "%xyz%"),
        # wildcards, escapes and punctuation separate words
        ("agent%session_12345", "%12345%"),
        ("session\\%999", "%999%"),
        # nothing to gain: a single word, only common or only rare words, words too short to index
        ("50000", "%50000%"),
        ("agent session", "%agent session%"),
        ("xyz 50000", "%xyz 50000%"),
        ("agent session 42", "%agent session 42%"),
        ("", "%%"),
    ],
)
def test_index_pattern_keeps_the_rare_words_only(term: str, expected: str) -> None:
    assert index_pattern(term, COMMON) == expected


def test_without_statistics_the_full_pattern_is_looked_up() -> None:
    assert index_pattern("agent session 50000", None) == "%agent session 50000%"
