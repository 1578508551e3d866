"""The shadow-compare tool (docs/rollout.md §2): `diff` compares two answers (pure), `divergences`
reads docs/compatibility.md's divergence table, `replay` replays requests against both servers, `cli`
is `agno-session compare`. Not on the serving path: only that command (service/__main__.py) imports it.
"""
