"""Reliability tests (issue #6): database faults, overload, bad input and hostile callers.

Each test starts `python -m service` as a subprocess against a real PostgreSQL and checks one
guarantee of docs/reliability.md; figures (requests sent, failures seen, recovery times) are
written to `tests/reliability/.figures/<test>.json` for that document.
"""
