"""Helpers shared by every suite: the HTTP client (http.py), the process launcher (processes.py) and
the divergence table of docs/compatibility.md as the tests read it (compat.py)."""
