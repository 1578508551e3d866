"""docs/compatibility.md's divergence table against the contract suite (no AgentOS needed: this runs in
the ordinary test run too): every row documents our answer, and each is checked, by the contract cases
marked with it or by the test named in CHECKED_ELSEWHERE."""

from __future__ import annotations

import json

from service.compare.divergences import compare_documented
from tests.support.compat import divergences

from .cases import build_cases
from .harness import DIVERGENCE_ANSWERS

# rows that no contract case can show (AgentOS cannot be made to fail this way); the test named
# checks our answer against the row with tests.support.compat.assert_documented
CHECKED_ELSEWHERE = {
    "unhandled-error-body": "tests/api/test_auth_health.py::test_unhandled_error_is_a_json_500_that_names_nothing",
    "database-unavailable": "tests/api/test_auth_health.py",
    "timeouts": "tests/reliability/test_timeouts.py::test_request_timeout_answers_504_and_stops_the_query",
    "body-too-large": "tests/reliability/test_overload.py::test_default_body_limit_is_1_mib",
}


def test_every_divergence_row_documents_our_answer_and_is_checked() -> None:
    rows = divergences()
    assert [r.id for r in rows.values() if not r.checks_ours_body] == []
    marked = [c for c in build_cases() if c.divergence]
    used = {c.divergence for c in marked}
    assert used <= set(rows), used - set(rows)
    assert set(rows) - used == set(CHECKED_ELSEWHERE)
    # every marked case has its exact answer recorded, and that answer is what its row documents
    answers = json.loads(DIVERGENCE_ANSWERS.read_text(encoding="utf-8"))
    requests = {c.name: c for c in marked if c.kind != "readback"}
    assert set(answers) == set(requests)
    for name, answer in answers.items():
        row = rows[str(requests[name].divergence)]
        assert answer["status"] == row.ours_status, name
        assert compare_documented(row.ours_body, answer["body"]) == [], name
