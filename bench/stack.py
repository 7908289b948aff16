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

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import psycopg
from aiosmtpd.controller import Controller

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-bench"  # noqa: S105

# The Celery worker runs at a lower CPU priority, as bin/serve starts it: on
# a host it shares with the web server, pages and sign POSTs go first and
# emails (work that can wait) catch up.
WORKER_NICE = 10  # as bin/serve runs the worker

# Inherited variables that would point a subprocess at other servers or
# change the behaviour measured.
_DROPPED_PREFIXES = ("DATABASE_", "REDIS_", "EMAIL_", "CELERY_", "SIGNATURE_", "SIGN_RATE_")
_DROPPED = {
    "CACHE_KEY_PREFIX",
    "TEST_DATABASE_NAME",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "DJANGO_SETTINGS_MODULE",
    "COUNT_INTERVAL",
    "COUNT_RECOUNT_INTERVAL",
    "TRUSTED_PROXY_COUNT",
    "WEB_CONCURRENCY",
    "GUNICORN_CMD_ARGS",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until[T](check: Callable[[], T], *, timeout: float, what: str, interval: float = 0.1) -> T:
    """Call `check` until it returns something truthy; raise after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise RuntimeError(f"{what}: not within {timeout} s")
        time.sleep(interval)


def http_status(url: str, timeout: float = 5) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, OSError):
        return 0


# --- Processes --------------------------------------------------------------------


def lower_autogroup(pid: int, nice: int) -> None:
    """Give a process started in its own session a lower CPU share for real.

    With the kernel's autogroup scheduling (sched_autogroup_enabled, on in
    most distributions and on this machine), each session is its own
    scheduling group and groups share the CPU equally: a process's nice
    value only ranks it inside its own session.  `nice -n 10` on a Celery
    worker in its own session therefore took about a third of the CPU from
    gunicorn during the sign measurement (measured here: 15.6 of 49.7 CPU
    seconds).  The group's own nice value is what ranks sessions; set it.
    (bin/serve starts everything in one session, where plain nice works.)"""
    path = Path(f"/proc/{pid}/autogroup")
    if path.exists():
        with contextlib.suppress(OSError):
            path.write_text(str(nice))


@dataclass
class Proc:
    """A subprocess in its own session (its whole group is signalled on stop),
    logging to a file."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes]

    @classmethod
    def start(
        cls,
        name: str,
        argv: list[str],
        *,
        env: dict[str, str],
        log_path: Path,
        cwd: Path = BASE_DIR,
        nice: int = 0,
    ) -> Proc:
        log_file = open(log_path, "ab")  # noqa: SIM115 -- closed in stop()
        popen = subprocess.Popen(
            ["nice", "-n", str(nice), *argv] if nice else argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if nice:
            lower_autogroup(popen.pid, nice)
        return cls(name=name, popen=popen, log_path=log_path, log_file=log_file)

    @property
    def pid(self) -> int:
        return int(self.popen.pid)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def signal_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, sig)

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM the group, wait, then SIGKILL whatever of the group is left."""
        if self.alive():
            self.signal_group(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=timeout)
        self.signal_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=10)
        self.log_file.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])


def children(pid: int) -> list[int]:
    """Direct children of `pid` (gunicorn's workers), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses.
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 1 and int(fields[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


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


# --- Redis ------------------------------------------------------------------------


class RedisServer:
    """A private `redis-server` on a free port, without persistence."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.proc: Proc | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64) == b"+PONG\r\n"
        except OSError:
            return False

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is missing. Debian: apt-get install redis-server")
        self.proc = Proc.start(
            "redis",
            [
                binary, "--save", "", "--appendonly", "no", "--port", str(self.port),
                "--bind", "127.0.0.1", "--daemonize", "no", "--dir", str(self.workdir),
            ],
            env=dict(os.environ),
            log_path=self.workdir / "redis.log",
        )  # fmt: skip
        wait_until(self.ping, timeout=10, what=f"redis-server on port {self.port}")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()
            self.proc = None


# --- PostgreSQL -------------------------------------------------------------------


def _pg_bin() -> Path | None:
    found = [p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/initdb")]
    if not found:
        return None
    return max(found, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)


class Database:
    """A fresh database for this run: on the local server if it answers,
    else in a private cluster.  `url` is what the site uses."""

    def __init__(self, *, admin_url: str, name: str, workdir: Path, private: bool) -> None:
        self.admin_url = admin_url
        self.name = name
        self.workdir = workdir
        self.private = private
        self.cluster_root: Path | None = None
        self.cluster_port = 0
        self.created = False
        self.where = ""

    def _reachable(self) -> bool:
        try:
            with psycopg.connect(self.admin_url, connect_timeout=3) as conn:
                conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            return False

    def _pg(self, tool: Path, *args: str, timeout: float = 60) -> None:
        assert self.cluster_root is not None
        result = subprocess.run(
            ["runuser", "-u", "postgres", "--", str(tool), *args],
            cwd=self.cluster_root,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{tool.name} failed:\n{result.stdout}{result.stderr}")

    def _start_private(self) -> None:
        pg_bin = _pg_bin()
        if pg_bin is None:
            raise RuntimeError(
                "No PostgreSQL answers at the admin URL and no server binaries are under "
                "/usr/lib/postgresql/*/bin. Debian: apt-get install postgresql"
            )
        self.cluster_root = Path(tempfile.mkdtemp(prefix="undersigned-bench-pg-"))
        shutil.chown(self.cluster_root, "postgres", "postgres")
        self.cluster_port = free_port()
        data = self.cluster_root / "data"
        self._pg(
            pg_bin / "initdb", "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
            "--locale=C",
        )  # fmt: skip
        options = (
            f"-p {self.cluster_port} -k {self.cluster_root} -c listen_addresses=127.0.0.1 "
            "-c shared_buffers=256MB -c max_connections=200"
        )
        self._pg(
            pg_bin / "pg_ctl", "-D", str(data), "-l", str(self.cluster_root / "postgres.log"),
            "-w", "-t", "60", "-o", options, "start",
        )  # fmt: skip
        self.admin_url = f"postgres://postgres@127.0.0.1:{self.cluster_port}/postgres"

    def create(self) -> None:
        if self.private or not self._reachable():
            self._start_private()
            self.where = f"private cluster on port {self.cluster_port}"
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
            if self.cluster_root is not None:
                pg_bin = _pg_bin()
                data = self.cluster_root / "data"
                if pg_bin is not None and (data / "postmaster.pid").exists():
                    with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                        self._pg(pg_bin / "pg_ctl", "-D", str(data), "-m", "fast", "-w", "stop")
                shutil.rmtree(self.cluster_root, ignore_errors=True)
                self.cluster_root = None


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
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in _DROPPED and not key.startswith(_DROPPED_PREFIXES)
        }
        env.update(
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
            }
        )
        env.update(extra)
        return env

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
