"""PostgreSQL for the benchmark and the fault tests.

- `PostgresCluster`: a private cluster made with Debian's `initdb`/`pg_ctl`
  in a temporary directory, run by the `postgres` OS user, trust auth on
  127.0.0.1 (the fault tests' server, and the benchmark's when the local
  server does not answer);
- `Database`: the benchmark's fresh database for one run, on the local
  server or in a private cluster, dropped at the end.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import psycopg

from bench.processes import free_port


def pg_bin() -> Path | None:
    """The newest PostgreSQL server binaries Debian installed, if any."""
    found = [p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/initdb")]
    if not found:
        return None
    return max(found, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)


class PostgresCluster:
    """A private PostgreSQL cluster in a temporary directory, run by the
    `postgres` OS user (we run as root), trust auth on 127.0.0.1:<free port>.
    `settings` are server options (`-c name=value`)."""

    def __init__(self, *, prefix: str, settings: Mapping[str, str] | None = None) -> None:
        binaries = pg_bin()
        if binaries is None:
            raise RuntimeError(
                "PostgreSQL server binaries are missing under /usr/lib/postgresql/*/bin "
                "(needed for a private cluster). Debian: apt-get install postgresql"
            )
        self.bin = binaries
        self.settings = dict(settings or {})
        # Not under pytest's tmp_path: its parents are private to root.
        self.root = Path(tempfile.mkdtemp(prefix=prefix))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.port = free_port()
        shutil.chown(self.root, "postgres", "postgres")

    def _run(self, tool: str, *args: str, timeout: float = 60) -> None:
        result = subprocess.run(
            ["runuser", "-u", "postgres", "--", str(self.bin / tool), *args],
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            raise RuntimeError(f"{tool} {args} failed:\n{result.stdout}{result.stderr}\n{log}")

    def init(self) -> None:
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
            "--locale=C", "--no-sync",
        )  # fmt: skip

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1" + "".join(
            f" -c {name}={value}" for name, value in self.settings.items()
        )
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
            "-o", options, "start",
        )  # fmt: skip

    def restart(self) -> None:
        """`pg_ctl restart -m fast`: every connection is cut; the options of the
        last start are kept (postmaster.opts).  Returns once it accepts again."""
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-m", "fast", "-w", "-t", "30",
            "restart",
        )  # fmt: skip

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "30", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def execute(self, sql: str) -> None:
        with psycopg.connect(self.url(), autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.encode())

    def destroy(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                    self.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


class Database:
    """A fresh database for this run: on the local server if it answers,
    else in a private cluster.  `url` is what the site uses."""

    def __init__(self, *, admin_url: str, name: str, workdir: Path, private: bool) -> None:
        self.admin_url = admin_url
        self.name = name
        self.workdir = workdir
        self.private = private
        self.cluster: PostgresCluster | None = None
        self.created = False
        self.where = ""

    def _reachable(self) -> bool:
        try:
            with psycopg.connect(self.admin_url, connect_timeout=3) as conn:
                conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            return False

    def _start_private(self) -> None:
        if pg_bin() is None:
            raise RuntimeError(
                "No PostgreSQL answers at the admin URL and no server binaries are under "
                "/usr/lib/postgresql/*/bin. Debian: apt-get install postgresql"
            )
        self.cluster = PostgresCluster(
            prefix="undersigned-bench-pg-",
            settings={"shared_buffers": "256MB", "max_connections": "200"},
        )
        self.cluster.init()
        self.cluster.start()
        self.admin_url = self.cluster.url()

    def create(self) -> None:
        if self.private or not self._reachable():
            self._start_private()
            assert self.cluster is not None
            self.where = f"private cluster on port {self.cluster.port}"
        else:
            self.where = "local server"
        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"'.encode())
        self.created = True

    @property
    def url(self) -> str:
        base, _sep, _db = self.admin_url.rpartition("/")
        return f"{base}/{self.name}"

    def value(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        """The first column of the first row of one query on this database."""
        with psycopg.connect(self.url, autocommit=True, connect_timeout=5) as conn:
            row = conn.execute(sql.encode(), params).fetchone()
            return row[0] if row else None

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        """Every row of one query on this database (tuples)."""
        with psycopg.connect(self.url, autocommit=True, connect_timeout=5) as conn:
            return conn.execute(sql.encode(), params).fetchall()

    def drop(self) -> None:
        try:
            if self.created:
                with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'.encode())
                self.created = False
        finally:
            if self.cluster is not None:
                self.cluster.destroy()
                self.cluster = None
