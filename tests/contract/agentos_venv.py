"""Build (or reuse) the separate virtualenv that runs the real AgentOS for the contract suite.

    python tests/contract/agentos_venv.py        # prints the venv's python; builds it when needed

The venv (`.venv-agentos` at the repo root, git-ignored; `CONTRACT_AGENTOS_VENV` overrides the path) gets
exactly the pinned versions of `agentos-requirements.txt` beside this file (`agno[os,postgres]==3.1.10`,
openai, fastapi 0.165.0, pydantic 2.14.4, starlette 1.10.0, uvicorn 0.54.0, ... - the versions the
contract was verified with). It is reused when a marker file records the same requirements and Python;
otherwise it is rebuilt from scratch. Only the package index is needed, and only while building.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
REQUIREMENTS = HERE / "agentos-requirements.txt"
MARKER = ".contract-complete"
IMPORT_CHECK = "import agno, fastapi, uvicorn, psycopg, sqlalchemy, openai, pydantic, starlette"


def venv_dir() -> Path:
    return Path(os.environ.get("CONTRACT_AGENTOS_VENV", str(REPO / ".venv-agentos"))).resolve()


def _fingerprint() -> str:
    h = hashlib.sha256(REQUIREMENTS.read_bytes())
    h.update(f"{sys.version_info.major}.{sys.version_info.minor}".encode())
    return h.hexdigest()


def _python(venv: Path) -> Path:
    return venv / "bin" / "python"


def is_complete(venv: Path) -> bool:
    marker = venv / MARKER
    return (
        marker.is_file()
        and marker.read_text().strip() == _fingerprint()
        and _python(venv).exists()
        and subprocess.run([str(_python(venv)), "-c", IMPORT_CHECK], capture_output=True).returncode == 0
    )


def ensure_venv(log=sys.stderr) -> Path:  # type: ignore[no-untyped-def]
    """The path of the venv's python, after building the venv if it is missing or incomplete."""
    venv = venv_dir()
    venv.parent.mkdir(parents=True, exist_ok=True)
    # the lock lives outside the work tree (nothing to git-ignore)
    lock_path = (
        Path(tempfile.gettempdir())
        / f"agentos-venv-{hashlib.sha1(str(venv).encode(), usedforsecurity=False).hexdigest()[:12]}.lock"
    )
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two suites starting at once build it once
        if is_complete(venv):
            return _python(venv)
        print(f"contract: building {venv} (agno 3.1.10 + pinned FastAPI/pydantic) ...", file=log, flush=True)
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(_python(venv)), "-m", "pip", "--disable-pip-version-check"]
        install = subprocess.run(
            [*pip, "install", "--quiet", "--no-input", "-r", str(REQUIREMENTS)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
        )
        if install.returncode != 0:  # pip's own output only when it failed (it warns a lot otherwise)
            raise RuntimeError(f"pip install into {venv} failed:\n{install.stdout}\n{install.stderr}")
        check = subprocess.run(
            [
                str(_python(venv)),
                "-c",
                IMPORT_CHECK + "; from importlib.metadata import version as v; "
                "assert v('agno') == '3.1.10', v('agno'); print(v('agno'), v('fastapi'), v('pydantic'))",
            ],
            capture_output=True,
            text=True,
        )
        if check.returncode != 0:
            raise RuntimeError(f"the AgentOS venv at {venv} is unusable:\n{check.stderr}")
        (venv / MARKER).write_text(_fingerprint() + "\n")
        print(f"contract: AgentOS venv ready (agno, fastapi, pydantic = {check.stdout.strip()})", file=log, flush=True)
        return _python(venv)


if __name__ == "__main__":
    print(ensure_venv())
