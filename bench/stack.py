"""The stack the benchmark runs against, started and stopped by it.

- PostgreSQL: a fresh database on the local server (`--pg-admin-url`, the
  machine's 127.0.0.1:5432 by default), dropped at the end; if that server
  does not answer, a private cluster made with Debian's `initdb` in a
  temporary directory (as tests/faults does), removed at the end.
- Redis: a private `redis-server` on a free port, no persistence (the cache
  and the Celery broker; nothing shared with other users of the machine).
- an SMTP sink (aiosmtpd, in this process) that timestamps every message;
- gunicorn, a Celery worker and Celery beat, each in its own process group,
  with the production settings (DEBUG off) pointed at the above.

Every process is stopped (its whole group) when the stack closes, also on
Ctrl-C or an error.
"""

from __future__ import annotations

import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from aiosmtpd.controller import Controller

from bench.processes import (
    BASE_DIR,
    PostgresCluster,
    Proc,
    RedisServer,
    child_env,
    free_port,
    pg_bin,
    proc_stats,
    wait_until,
)

SECRET_KEY = "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-bench"  # noqa: S105

# The Celery worker runs at a lower CPU priority, as bin/serve starts it: on
# a host it shares with the web server, pages and sign POSTs go first and
# emails (work that can wait) catch up.
WORKER_NICE = 10  # as bin/serve runs the worker

# Besides those dropped for every child (bench.processes.DROPPED...): what
# would change how the site is served.
_DROPPED = {
    "DJANGO_SETTINGS_MODULE",
    "COUNT_RECOUNT_INTERVAL",
    "TRUSTED_PROXY_COUNT",
    "WEB_CONCURRENCY",
    "GUNICORN_CMD_ARGS",
}


def http_status(url: str, timeout: float = 5) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, OSError):
        return 0


# --- Processes --------------------------------------------------------------------


def children(pid: int) -> list[int]:
    """Direct children of `pid` (gunicorn's workers), from /proc."""
    return sorted(child for child, _comm, fields in proc_stats() if int(fields[1]) == pid)


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak resident set) of a process, in kB."""
    values: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _sep, rest = line.partition(":")
            if key in {"VmRSS", "VmHWM"}:
                values[key] = int(rest.split()[0])
    except OSError:
        pass
    return values


# --- PostgreSQL -------------------------------------------------------------------


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


# --- SMTP ---------------------------------------------------------------------------


@dataclass
class Sink:
    """An aiosmtpd handler that accepts everything and records, per message,
    the recipients and the arrival time (time.monotonic, this process)."""

    host: str = "127.0.0.1"
    port: int = 0
    arrivals: list[tuple[float, tuple[str, ...]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        now = time.monotonic()
        with self.lock:
            self.arrivals.append((now, tuple(a.lower() for a in envelope.rcpt_tos)))
        return "250 Message accepted"

    def count(self) -> int:
        with self.lock:
            return len(self.arrivals)

    def matching(self, prefix: str) -> list[tuple[float, str]]:
        """(arrival, address) of every message to an address starting with `prefix`."""
        with self.lock:
            return [(t, a) for t, rcpts in self.arrivals for a in rcpts if a.startswith(prefix)]


class SmtpServer:
    def __init__(self) -> None:
        self.sink = Sink(port=free_port())
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://{self.sink.host}:{self.sink.port}"

    def start(self) -> None:
        self.controller = Controller(self.sink, hostname=self.sink.host, port=self.sink.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


# --- The stack ----------------------------------------------------------------------


@dataclass
class StackOptions:
    workers: int
    celery_concurrency: int
    admin_url: str
    private_pg: bool
    access_log: bool


class Stack:
    """Servers and processes of one run; `close()` stops everything it started."""

    def __init__(self, *, run_id: str, workdir: Path, options: StackOptions) -> None:
        self.run_id = run_id
        self.workdir = workdir
        self.options = options
        self.queue = f"bench-{run_id}"
        self.redis = RedisServer(workdir)
        self.database = Database(
            admin_url=options.admin_url,
            name=f"undersigned_bench_{run_id}",
            workdir=workdir,
            private=options.private_pg,
        )
        self.smtp = SmtpServer()
        self.web_port = free_port()
        self.processes: list[Proc] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def env(self, **extra: str) -> dict[str, str]:
        return child_env(
            {
                "DEBUG": "0",
                "SECRET_KEY": SECRET_KEY,
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
                "SITE_URL": self.base_url,
                "DATABASE_URL": self.database.url,
                "REDIS_URL": self.redis.url,
                "EMAIL_URL": self.smtp.url,
                "CELERY_QUEUE": self.queue,
                "CACHE_KEY_PREFIX": self.queue,
                "VAR_DIR": str(BASE_DIR / "var" / "bench"),
                # The load comes from one address standing in for many clients:
                # each request names its own client in X-Forwarded-For, as a
                # proxy in front of the site would, so per-client rate limits
                # are checked (in Redis) but not hit.
                "TRUSTED_PROXY_COUNT": "1",
                "PYTHONUNBUFFERED": "1",
                "LOG_LEVEL": "INFO",
            },
            extra,
            drop=_DROPPED,
        )

    def open(self) -> None:
        (BASE_DIR / "var" / "bench").mkdir(parents=True, exist_ok=True)
        self.redis.start()
        self.database.create()
        self.smtp.start()

    def close(self) -> list[str]:
        """Stop everything; return what could not be cleaned up."""
        problems: list[str] = []
        for proc in reversed(self.processes):
            try:
                proc.stop()
            except Exception as exc:
                problems.append(f"{proc.name}: {exc}")
        self.processes.clear()
        for what, stop in (
            ("smtp", self.smtp.stop),
            ("redis", self.redis.stop),
            ("database", self.database.drop),
        ):
            try:
                stop()
            except Exception as exc:
                problems.append(f"{what}: {exc}")
        return problems

    def start(
        self, name: str, argv: list[str], env: dict[str, str] | None = None, nice: int = 0
    ) -> Proc:
        proc = Proc.start(
            name, argv, env=env or self.env(), log_path=self.workdir / f"{name}.log", nice=nice
        )
        self.processes.append(proc)
        return proc

    def process_groups(self) -> dict[str, int]:
        """Name -> process group id of everything running (for CPU accounting)."""
        groups = {proc.name: proc.pid for proc in self.processes if proc.alive()}
        if self.redis.proc is not None:
            groups["redis"] = self.redis.proc.pid
        return groups

    def stop(self, proc: Proc) -> None:
        proc.stop()
        if proc in self.processes:
            self.processes.remove(proc)

    def _until_ready(self, proc: Proc, check: Callable[[], bool], timeout: float = 60) -> None:
        def ready() -> bool:
            if not proc.alive():
                raise RuntimeError(f"{proc.name} exited:\n{proc.tail()}")
            return check()

        wait_until(ready, timeout=timeout, what=f"{proc.name} ready", interval=0.2)

    def gunicorn_argv(self, app: str, port: int) -> list[str]:
        """The same settings as bin/serve (workers = 2 * cores + 1 unless told)."""
        argv = [
            sys.executable, "-m", "gunicorn", app, "--bind", f"127.0.0.1:{port}",
            "--workers", str(self.options.workers),
            # Not a tuning knob: without this, every gunicorn on the machine
            # shares one control socket path (~/.gunicorn/gunicorn.ctl).
            "--no-control-socket",
        ]  # fmt: skip
        if self.options.access_log:
            argv += ["--access-logfile", "-"]
        return argv

    def start_site(self) -> tuple[Proc, Proc, Proc]:
        """gunicorn, a Celery worker and beat, started together, then awaited."""
        web = self.start("gunicorn", self.gunicorn_argv("config.wsgi", self.web_port))
        worker = self.start(
            "celery-worker",
            [
                sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel", "INFO",
                "--concurrency", str(self.options.celery_concurrency),
                "-n", f"bench-{self.run_id}@%h",
            ],
            nice=WORKER_NICE,
        )  # fmt: skip
        beat = self.start(
            "celery-beat",
            [
                sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO",
                "--schedule", str(self.workdir / "celerybeat-schedule"),
            ],
        )  # fmt: skip
        self._until_ready(web, lambda: http_status(self.base_url + "/api/letters/") == 200)
        self._until_workers(web)
        self._until_ready(worker, lambda: " ready." in worker.log())
        self._until_ready(beat, lambda: "beat: Starting" in beat.log())
        return web, worker, beat

    def start_baseline(self, port: int) -> Proc:
        proc = self.start("gunicorn-baseline", self.gunicorn_argv("bench.baseline_wsgi", port))
        self._until_ready(proc, lambda: http_status(f"http://127.0.0.1:{port}/") == 200)
        self._until_workers(proc)
        return proc

    def _until_workers(self, proc: Proc) -> None:
        wait_until(
            lambda: len(children(proc.pid)) >= self.options.workers,
            timeout=30,
            what=f"{proc.name}: {self.options.workers} workers",
        )

    def owed_emails(self, prefix: str) -> int:
        """Signature emails still owed (the outbox: rows, not queue messages)
        to addresses starting with `prefix`."""
        with psycopg.connect(self.database.url, autocommit=True, connect_timeout=5) as conn:
            row = conn.execute(
                "SELECT count(*) FROM letters_signature WHERE email LIKE %s "
                "AND emails_sent < emails_requested AND NOT email_failed "
                "AND status IN ('pending', 'confirmed')",
                (f"{prefix}%",),
            ).fetchone()
            return int(row[0]) if row else 0

    def drop_owed_emails(self, prefix: str) -> int:
        """Give up the emails still owed to `prefix` addresses (so the next
        measurement starts with an empty outbox) and drop queued messages."""
        import redis

        with psycopg.connect(self.database.url, autocommit=True, connect_timeout=5) as conn:
            dropped = conn.execute(
                "UPDATE letters_signature SET email_failed = true WHERE email LIKE %s "
                "AND emails_sent < emails_requested AND NOT email_failed",
                (f"{prefix}%",),
            ).rowcount
        client = redis.Redis.from_url(self.redis.url)
        try:
            keys = list(client.scan_iter(match=f"{self.queue}*"))
            if keys:
                client.delete(*keys)
        finally:
            client.close()
        return int(dropped)
