"""Every case of the matrix (cases.py), sent to AgentOS 3.1.10 and to agno-session, compared.

The cases run in definition order (reads, mutations, reads after the mutations); see
docs/contract-testing.md.
"""

from __future__ import annotations

import pytest

from .cases import Case, build_cases
from .harness import ContractEnv, run_case

CASES = build_cases()


@pytest.mark.contract
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_contract_case(case: Case, contract_env: ContractEnv) -> None:
    run_case(contract_env, case)
