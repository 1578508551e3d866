"""A throwaway PostgreSQL cluster from the system binaries, for `make run`, tests and benchmarks.

`initdb` and `postgres` refuse to run as root, so as root every server binary runs as the
`postgres` OS user (`runuser -u postgres --`) in a directory that user owns. When that user cannot
reach DIR (a clone under /root or in a mode-0700 directory), the server's files live in
/var/tmp/agno-session-devpg/<hash of DIR> instead, and DIR/server-dir says where.

    python -m service.dev.pg start DIR [--port N]   # prints the DSN; idempotent
    python -m service.dev.pg stop DIR [--purge]     # --purge: also delete the cluster's files
"""

from __future__ import annotations

import argparse
import functools
import glob
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


class DevPgError(RuntimeError):
    pass


def pg_bindir() -> Path:
    """The newest `/usr/lib/postgresql/*/bin` that has `initdb` (or the one on PATH)."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0,
    )
    if candidates:
        return Path(candidates[-1]).parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    raise DevPgError(
        "PostgreSQL server binaries not found (no /usr/lib/postgresql/*/bin/initdb); "
        "install them with: apt-get install -y postgresql"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_server_user(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def _chown_to_server_user(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")


SERVER_DIRS = Path("/var/tmp/agno-session-devpg")


def _server_user_can_reach(path: Path) -> bool:
    """Whether the `postgres` OS user may search every directory down to `path` (root only)."""
    result = subprocess.run(
        ["runuser", "-u", "postgres", "--", "test", "-x", str(path)], stdin=subprocess.DEVNULL, check=False
    )
    return result.returncode == 0


@dataclass(frozen=True)
class Cluster:
    root: Path
    port: int

    @functools.cached_property
    def home(self) -> Path:
        """Where the server's files are: `root`, or the directory named in root/server-dir (module doc)."""
        pointer = self.root / "server-dir"
        return Path(pointer.read_text().strip()) if pointer.exists() else self.root

    @property
    def data(self) -> Path:
        return self.home / "data"

    @property
    def log(self) -> Path:
        return self.home / "postgres.log"

    def dsn(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def pg_ctl(self, *args: str) -> None:
        cmd = _as_server_user([str(pg_bindir() / "pg_ctl"), "-D", str(self.data), *args])
        subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)

    def is_running(self) -> bool:
        return (self.data / "postmaster.pid").exists() and _accepts(self.port)

    def start(self) -> None:
        if self.is_running():
            return
        self.pg_ctl(
            "-w",
            "-t",
            "60",
            "-l",
            str(self.log),
            "-o",
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.home} -c max_connections=300 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            self.pg_ctl("-m", mode, "-w", "stop")

    def create_database(self, name: str) -> str:
        import psycopg2

        conn = psycopg2.connect(self.dsn())
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{name}"')
        conn.close()
        return self.dsn(name)


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def init_cluster(root: Path, port: int | None = None) -> Cluster:
    """Create (if needed) and start a cluster under `root`; the port is remembered in `root/port`."""
    root = root.resolve()
    root.mkdir(parents=True, exist_ok=True)
    port_file = root / "port"
    if port is None:
        port = int(port_file.read_text()) if port_file.exists() else free_port()
    port_file.write_text(str(port))
    _chown_to_server_user(root)
    os.chmod(root, 0o700 if os.geteuid() != 0 else 0o711)
    if os.geteuid() == 0 and not (root / "server-dir").exists() and not _server_user_can_reach(root):
        home = SERVER_DIRS / hashlib.sha256(str(root).encode()).hexdigest()[:16]
        (root / "server-dir").write_text(str(home))
    cluster = Cluster(root, port)
    if not cluster.home.exists():
        SERVER_DIRS.mkdir(mode=0o755, parents=True, exist_ok=True)
        cluster.home.mkdir(mode=0o700)
        _chown_to_server_user(cluster.home)
    if not (cluster.data / "PG_VERSION").exists():
        cmd = _as_server_user(
            [
                str(pg_bindir() / "initdb"),
                "-D",
                str(cluster.data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ]
        )
        subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    cluster.start()
    deadline = time.monotonic() + 30
    while not _accepts(port):
        if time.monotonic() > deadline:
            raise DevPgError(f"PostgreSQL did not start on port {port}; see {cluster.log}")
        time.sleep(0.1)
    return cluster


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m service.dev.pg")
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("dir")
    parser.add_argument("--port", type=int)
    parser.add_argument("--database", default="agno")
    parser.add_argument("--purge", action="store_true", help="stop: also delete the cluster's files")
    args = parser.parse_args(argv)
    root = Path(args.dir)
    try:
        if args.action == "start":
            cluster = init_cluster(root, args.port)
            print(cluster.create_database(args.database))
        else:
            port_file = root / "port"
            if port_file.exists():
                cluster = Cluster(root.resolve(), int(port_file.read_text()))
                cluster.stop()
                if args.purge:
                    shutil.rmtree(cluster.home, ignore_errors=True)
                    shutil.rmtree(root, ignore_errors=True)
    except (DevPgError, subprocess.CalledProcessError) as exc:
        print(f"devpg: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
