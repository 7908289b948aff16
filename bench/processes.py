"""Processes and private servers, shared by the benchmark (`bench/stack.py`)
and the fault tests (`tests/faults/conftest.py`).

- `Proc`: a subprocess in its own session, so that its whole process group
  (a gunicorn master and its workers, a Celery worker and its pool) is
  signalled on stop, logging to a file;
- `RedisServer`: a private `redis-server` without persistence, on a free
  port or a given one, which can be stopped and started again;
- `PostgresCluster`: a private PostgreSQL cluster made with Debian's
  `initdb`/`pg_ctl` in a temporary directory, run by the `postgres` OS user,
  trust auth on 127.0.0.1;
- `child_env`: the environment for such a subprocess, without the inherited
  variables that would point it at other servers or change its behaviour.

Nothing here touches the machine's shared servers.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import psycopg

BASE_DIR = Path(__file__).resolve().parent.parent

# Inherited variables that would point a subprocess at other servers or
# change the behaviour measured or tested.
DROPPED_PREFIXES = ("DATABASE_", "REDIS_", "EMAIL_", "CELERY_", "SIGNATURE_", "SIGN_RATE_")
DROPPED = frozenset(
    {"CACHE_KEY_PREFIX", "TEST_DATABASE_NAME", "DJANGO_ALLOW_ASYNC_UNSAFE", "COUNT_INTERVAL"}
)


def child_env(*layers: Mapping[str, str], drop: Iterable[str] = ()) -> dict[str, str]:
    """This process's environment without the variables in DROPPED (and
    `drop`) or starting with DROPPED_PREFIXES, then `layers` on top."""
    dropped = DROPPED | set(drop)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in dropped and not key.startswith(DROPPED_PREFIXES)
    }
    for layer in layers:
        env.update(layer)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class NotInTime(RuntimeError):
    """What `wait_until` raises, saying what was waited for."""


def wait_until[T](check: Callable[[], T], *, timeout: float, what: str, interval: float = 0.1) -> T:
    """Call `check` until it returns something truthy; raise NotInTime after
    `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise NotInTime(f"{what}: not within {timeout} s")
        time.sleep(interval)


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

    def kill(self) -> None:
        """SIGKILL the whole process group (a worker and its pool children)."""
        self.signal_group(signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM the group, wait, then SIGKILL whatever of the group is left."""
        if self.alive():
            self.signal_group(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=timeout)
        self.signal_group(signal.SIGKILL)  # stragglers of the group, if any
        try:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=10)
        finally:
            self.log_file.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])


# --- Redis ------------------------------------------------------------------------


class RedisServer:
    """A private `redis-server` without persistence, on `port` (a free one by
    default), which can be stopped and started again on the same port."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.workdir = workdir
        self.proc: Proc | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self, *words: str) -> bytes | None:
        """One inline command over a raw socket; None if nothing answers."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(" ".join(words).encode() + b"\r\n")
                return sock.recv(1024)
        except OSError:
            return None

    def ping(self) -> bool:
        return self.command("PING") == b"+PONG\r\n"

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
        wait_until(self.ping, timeout=10, what=f"redis-server on port {self.port} answering")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()
            self.proc = None
        wait_until(lambda: not self.ping(), timeout=10, what="redis-server stopped")


# --- PostgreSQL -------------------------------------------------------------------


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


# --- CPU accounting ---------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def proc_stats() -> Iterator[tuple[int, str, list[str]]]:
    """(pid, command name, the fields after it) of every process, from
    /proc/<pid>/stat: fields[1] is the parent pid, fields[2] the process
    group, fields[11] and fields[12] user and system ticks."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        # pid (comm) state ppid ...: comm may hold spaces and parentheses.
        close = stat.rfind(")")
        yield int(entry.name), stat[stat.find("(") + 1 : close], stat[close + 2 :].split()


def _machine_busy_s() -> float:
    """CPU seconds spent on anything but idle and iowait, all cores."""
    with open("/proc/stat") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / _TICK


def cpu_seconds(groups: Mapping[str, int]) -> dict[str, float]:
    """CPU seconds used so far by each named process group (`Proc.pid` is its
    group id), by the PostgreSQL server processes, by this process (the
    runner, and the SMTP sink in its threads), by its waited-for children
    (wrk), and by the whole machine.  Processes that have exited are not
    counted (PostgreSQL backends of pooled connections live on)."""
    by_group = dict.fromkeys(groups.values(), 0)
    postgres = 0
    for _pid, comm, fields in proc_stats():
        ticks = int(fields[11]) + int(fields[12])  # utime, stime
        group = int(fields[2])
        if group in by_group:
            by_group[group] += ticks
        elif comm.startswith("postgres"):
            postgres += ticks
    own = os.times()
    seconds = {name: by_group[pgid] / _TICK for name, pgid in groups.items()}
    seconds["postgres"] = postgres / _TICK
    seconds["runner"] = own.user + own.system
    seconds["children"] = own.children_user + own.children_system
    seconds["machine"] = _machine_busy_s()
    return seconds
