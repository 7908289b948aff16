"""Processes and a private Redis, shared by the benchmark (`bench/stack.py`)
and the fault tests (`tests/faults/conftest.py`).

- `Proc`: a subprocess in its own session, so that its whole process group
  (a gunicorn master and its workers, a Celery worker and its pool) is
  signalled on stop, logging to a file; `Processes`: the ones a stack
  started, stopped together;
- `RedisServer`: a private `redis-server` without persistence, on a free
  port or a given one, which can be stopped and started again;
- `child_env`: the environment for such a subprocess, without the inherited
  variables that would point it at other servers or change its behaviour;
  `signer_keys`: the signer keys it is given (the private one only to the
  processes that send email).

What they run is `bench/commands.py`'s; the private PostgreSQL cluster is
`bench/postgres.py`'s.  Nothing here touches the machine's shared servers.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

BASE_DIR = Path(__file__).resolve().parent.parent

# Inherited variables that would point a subprocess at other servers or
# change the behaviour measured or tested.  SIGNER_ too (the signer keys,
# SIGNER_KEYS_FILE): each stack gives its processes their own keys, and a
# web process must not inherit the private one.
DROPPED_PREFIXES = (
    "DATABASE_", "REDIS_", "EMAIL_", "CELERY_", "SIGNATURE_", "SIGN_RATE_", "SIGNER_",
)  # fmt: skip
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


# The signer keys (config/signer_keys.py) by role, as production runs them:
# every process hashes and seals; only the email senders open sealed addresses.
WEB_KEYS = ("SIGNER_HASH_KEY", "SIGNER_SEAL_PUBLIC_KEY")
MAIL_KEYS = (*WEB_KEYS, "SIGNER_SEAL_PRIVATE_KEYS")


def signer_keys(keys: Mapping[str, str], *, mail: bool) -> dict[str, str]:
    """The variables of `keys` (a full set, `letters.sealing.new_keys()`) a
    process is given: without the private keys unless it sends `mail`."""
    return {name: keys[name] for name in (MAIL_KEYS if mail else WEB_KEYS)}


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

    def wait_ready(self, check: Callable[[], bool], *, timeout: float, tail: int = 40) -> None:
        """Wait until `check()` is true; if the process exits first, raise
        with the end of its log."""

        def ready() -> bool:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited:\n{self.tail(tail)}")
            return check()

        wait_until(ready, timeout=timeout, what=f"{self.name} ready", interval=0.2)


class Processes:
    """The processes one stack started, each logging to `<workdir>/<name>.log`."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.running: list[Proc] = []

    def __iter__(self) -> Iterator[Proc]:
        return iter(list(self.running))

    def start(self, name: str, argv: list[str], *, env: dict[str, str], nice: int = 0) -> Proc:
        proc = Proc.start(name, argv, env=env, log_path=self.workdir / f"{name}.log", nice=nice)
        self.running.append(proc)
        return proc

    def stop(self, proc: Proc) -> None:
        proc.stop()
        if proc in self.running:
            self.running.remove(proc)

    def stop_all(self, timeout: float = 10) -> list[str]:
        """Stop every process, the last started first; return what could not
        be stopped."""
        problems: list[str] = []
        for proc in reversed(self.running):
            try:
                proc.stop(timeout=timeout)
            except Exception as exc:
                problems.append(f"{proc.name}: {exc}")
        self.running.clear()
        return problems


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
