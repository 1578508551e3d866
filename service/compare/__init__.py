"""The shadow-compare tool: is this service's answer JSON-equal to AgentOS's?

- `diff`: the comparison of two answers (status, JSON values, key order), pure;
- `divergences`: the divergence table of docs/compatibility.md and the check of an answer pair against it;
- `replay`: recorded requests replayed against both servers, answers tallied per endpoint;
- `cli`: `agno-session compare` (docs/rollout.md).

Not on the serving path: only `agno-session compare` (service/__main__.py) imports it.
"""
