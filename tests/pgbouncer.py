"""PgBouncer (Debian's package) in front of a test cluster, configured as docs/rollout.md §6 says.

`TEST_VIA_PGBOUNCER=1` makes tests/conftest.py's `pg_cluster` hand out DSNs through such an
instance, so the API tests run a second time through PgBouncer in transaction pooling mode
(`make test` does: see the Makefile). `start_pgbouncer` is also used by the fault tests.

The settings: `pool_mode = transaction`, `ignore_startup_parameters = options` (PgBouncer rejects
the service's `-c ...` startup options otherwise), a small `default_pool_size`, and the timeouts
the service would send as options set on the database role instead (`role_settings`).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg2

from service.dev.pg import free_port

PGBOUNCER = "/usr/sbin/pgbouncer"
ROLE_SETTINGS = (
    "statement_timeout = '55s'",
    "idle_in_transaction_session_timeout = '60s'",
    "client_connection_check_interval = '100ms'",
)
"""docs/rollout.md §6: what the service sends as `options`, set on the role behind PgBouncer."""


def available() -> bool:
    return Path(PGBOUNCER).exists() or shutil.which("pgbouncer") is not None


def role_settings(admin_dsn: str, role: str = "postgres") -> None:
    conn = psycopg2.connect(admin_dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        for setting in ROLE_SETTINGS:
            cur.execute(f'ALTER ROLE "{role}" SET {setting}')
    conn.close()


@dataclass
class PgBouncer:
    root: Path
    port: int
    server_port: int

    @property
    def ini(self) -> Path:
        return self.root / "pgbouncer.ini"

    def dsn(self, dbname: str = "postgres", user: str = "postgres") -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{dbname}"

    def admin_dsn(self) -> str:
        return self.dsn("pgbouncer")

    def pid(self) -> int | None:
        pidfile = self.root / "pgbouncer.pid"
        try:
            return int(pidfile.read_text().strip())
        except (OSError, ValueError):
            return None

    def start(self) -> None:
        command = [PGBOUNCER if Path(PGBOUNCER).exists() else "pgbouncer", "-d", str(self.ini)]
        if os.geteuid() == 0:  # PgBouncer refuses to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, timeout=30)
        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg2.connect(self.admin_dsn()).close()
                return
            except psycopg2.OperationalError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"pgbouncer did not start; see {self.root / 'pgbouncer.log'}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        """SIGTERM (immediate shutdown) to the instance this helper started, by its pid."""
        pid = self.pid()
        if pid is None:
            return
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        raise RuntimeError(f"pgbouncer {pid} did not stop")

    def remove(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def start_pgbouncer(server_port: int, default_pool_size: int = 5) -> PgBouncer:
    """A PgBouncer on a free loopback port in front of the server on `server_port` (every database,
    user `postgres`, trust auth: loopback tests only)."""
    root = Path(tempfile.mkdtemp(prefix="agno-session-pgbouncer-"))
    bouncer = PgBouncer(root, free_port(), server_port)
    (root / "userlist.txt").write_text('"postgres" ""\n')
    bouncer.ini.write_text(
        "\n".join(
            [
                "[databases]",
                f"* = host=127.0.0.1 port={server_port}",
                "[pgbouncer]",
                "listen_addr = 127.0.0.1",
                f"listen_port = {bouncer.port}",
                "unix_socket_dir =",
                "auth_type = trust",
                f"auth_file = {root / 'userlist.txt'}",
                "admin_users = postgres",
                "pool_mode = transaction",
                f"default_pool_size = {default_pool_size}",
                "max_client_conn = 200",
                "ignore_startup_parameters = options",
                f"logfile = {root / 'pgbouncer.log'}",
                f"pidfile = {root / 'pgbouncer.pid'}",
                "",
            ]
        )
    )
    if os.geteuid() == 0:
        for path in (root, *root.iterdir()):
            shutil.chown(path, "postgres", "postgres")
    bouncer.start()
    return bouncer
