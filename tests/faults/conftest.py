"""Fault fixtures: private Redis, PostgreSQL and SMTP servers, and the site's
real processes (gunicorn, Celery worker, Celery beat) started against them.

Nothing here touches the machine's shared servers or pytest-django's test
database (so these tests never request the `db` fixtures):

- one PostgreSQL cluster per session, made with Debian's `initdb`/`pg_ctl` in
  a temporary directory (trust auth, 127.0.0.1 on a free port), holding a
  template database that is migrated and has the demo letter loaded; each test
  clones its own database from that template;
- one `redis-server` per test on a free port (no persistence), which a test
  may stop and start again on the same port;
- an aiosmtpd SMTP sink per test (started when the test says so, on a port
  reserved up front, so a test can run for a while with no SMTP server);
- a unique Celery queue and cache prefix per test;
- one set of signer keys per session, handed out as production does: web
  processes and beat get SIGNER_HASH_KEY and SIGNER_SEAL_PUBLIC_KEY, only the
  Celery workers (the email senders) also SIGNER_SEAL_PRIVATE_KEYS.  The
  tests find a signer's row by the keyed hash of the address and open its
  sealed address with the same keys (the database holds no address in clear).

The processes and private servers are the benchmark's own
(`bench/processes.py`, `bench/postgres.py`, `bench/smtp.py`), and so is the
plain HTTP client the site is driven with (`bench/client.py`); the database
is read with psycopg.  Settings are shortened through the environment (visibility
timeout, sweep interval, grace, retry backoff) so faults heal in seconds.

They run with the rest of `make test` (tests/ is in testpaths).  On their own:
`make test PYTEST_ARGS=tests/faults`, or without make and without any shared
server: `DEBUG=1 .venv/bin/python -m pytest tests/faults` (needs only
`redis-server`, Debian's PostgreSQL server binaries and root, for `runuser`).
On failure, the tail of every process log is printed with the report.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
import time
import uuid
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from celery import Celery

from bench.client import Answer, get_status, post_form
from bench.commands import celery_argv, gunicorn_argv, run_python
from bench.postgres import PostgresCluster
from bench.processes import (
    BASE_DIR,
    Proc,
    Processes,
    RedisServer,
    child_env,
    free_port,
    signer_keys,
)
from bench.processes import wait_until as wait_until  # the fault tests import it from here
from bench.smtp import SmtpServer
from conftest import ReceivedMail, SmtpSink
from letters.emailaddr import canonical_email
from letters.sealing import new_keys, signer_hash, unseal

DEMO_SLUG = "northwind-ice"
TEMPLATE_DB = "faults_template"
VISIBILITY_TIMEOUT = 8
SECRET_KEY = "faults-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-faults"

# Production-like values, shortened so that faults heal within seconds.
COMMON_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": SECRET_KEY,
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "EMAIL_URL": "smtp://127.0.0.1:1",
    "SITE_URL": "http://127.0.0.1:8000",
    "COUNT_INTERVAL": "1",
    "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
    "SIGNATURE_SWEEP_INTERVAL": "2",
    "EMAIL_RETRY_BACKOFF_MAX": "2",
    "EMAIL_TIMEOUT": "15",
    "LOG_LEVEL": "INFO",
    "PYTHONUNBUFFERED": "1",
}


# The session's signer keys (config/signer_keys.py): every process the
# fault tests start uses them (child_env drops any inherited SIGNER_*).
SIGNER_KEYS = new_keys()


def subprocess_env(*, mail: bool = False, **values: str) -> dict[str, str]:
    """A process's environment; the private signer keys only if it sends
    `mail` (a Celery worker), as production runs."""
    env = child_env(COMMON_ENV, signer_keys(SIGNER_KEYS, mail=mail), values)
    env.setdefault("VAR_DIR", str(BASE_DIR / "var" / "test"))
    return env


def address_hash(address: str) -> str:
    """The keyed hash the site stores for `address` (letters/signer_address.py)."""
    return signer_hash(canonical_email(address), SIGNER_KEYS["SIGNER_HASH_KEY"])


def open_sealed(sealed: bytes) -> str:
    """The address a signature's `email_sealed` holds, as an email worker opens it."""
    return unseal(bytes(sealed), [SIGNER_KEYS["SIGNER_SEAL_PRIVATE_KEYS"]])


def manage(*args: str, env: dict[str, str], timeout: float = 120) -> str:
    return run_python(
        ["manage.py", *args], env=env, timeout=timeout, what=f"manage.py {' '.join(args)}"
    )


# --- PostgreSQL -------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    """The private cluster, with a template database: migrated, demo letter loaded."""
    cluster = PostgresCluster(
        prefix="undersigned-faults-pg-",
        settings={"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"},
    )
    try:
        cluster.init()
        cluster.start()
        cluster.execute(f"CREATE DATABASE {TEMPLATE_DB}")
        env = subprocess_env(DATABASE_URL=cluster.url(TEMPLATE_DB))
        manage("migrate", "--noinput", "-v", "0", env=env)
        manage("load_demo", env=env)
        yield cluster
    finally:
        cluster.destroy()


# --- SMTP ---------------------------------------------------------------------------


@dataclass
class FaultSink(SmtpSink):
    """SmtpSink that also counts RCPT attempts per address and can be slow in
    DATA the first time.  A message whose client vanished while we were slow
    (the sender never saw it accepted) is kept apart in `orphaned`."""

    slow_first_data: float = 0.0
    rcpt_attempts: dict[str, int] = field(default_factory=dict)
    orphaned: list[ReceivedMail] = field(default_factory=list)
    data_started: threading.Event = field(default_factory=threading.Event)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        with self.lock:
            key = address.lower()
            self.rcpt_attempts[key] = self.rcpt_attempts.get(key, 0) + 1
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        first = not self.data_started.is_set()
        self.data_started.set()
        if first and self.slow_first_data:
            try:
                await asyncio.sleep(self.slow_first_data)
            except asyncio.CancelledError:  # the client went away before our answer
                msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
                with self.lock:
                    self.orphaned.append(
                        ReceivedMail(msg, list(envelope.rcpt_tos), time.monotonic())
                    )
                raise
        return await super().handle_DATA(server, session, envelope)

    def copies(self, address: str) -> int:
        """Every copy the server got, whether or not the sender saw it accepted."""
        with self.lock:
            orphans = [m for m in self.orphaned if address in m.envelope_to]
        return len(self.to(address)) + len(orphans)

    def attempts(self, address: str) -> int:
        with self.lock:
            return self.rcpt_attempts.get(address.lower(), 0)


# --- The stack ------------------------------------------------------------------------


class FaultStack:
    """One test's private world: its database, Redis, SMTP port, queue, and
    the processes it starts (all stopped at teardown)."""

    def __init__(self, *, cluster: PostgresCluster, workdir: Path) -> None:
        self.cluster = cluster
        self.workdir = workdir
        self.uid = uuid.uuid4().hex[:10]
        self.queue = f"faults-{self.uid}"
        self.database = f"faults_{self.uid}"
        self.redis = RedisServer(workdir, port=free_port())
        self.web_port = free_port()
        self.smtp_port = free_port()
        self.processes = Processes(workdir)
        self.smtp_servers: list[SmtpServer[FaultSink]] = []
        self._client: Celery | None = None
        self._counter = 0

    # set-up and teardown

    def open(self) -> None:
        self.cluster.execute(f"CREATE DATABASE {self.database} TEMPLATE {TEMPLATE_DB}")
        self.redis.start()

    def close(self, *, show_logs: bool) -> None:
        if show_logs:
            for proc in self.processes:
                print(f"\n----- {proc.name} ({proc.log_path}) -----\n{proc.tail(60)}")
        problems = self.processes.stop_all(timeout=5)
        for server in self.smtp_servers:
            server.stop()
        if self._client is not None:
            self._client.close()
        self.redis.stop()
        self.cluster.execute(f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)")
        if problems:
            raise RuntimeError("processes not stopped: " + "; ".join(problems))

    # addresses

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def database_url(self) -> str:
        return self.cluster.url(self.database)

    def env(self, *, mail: bool = False, **extra: str) -> dict[str, str]:
        return subprocess_env(
            mail=mail,
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis.url,
            EMAIL_URL=f"smtp://127.0.0.1:{self.smtp_port}",
            SITE_URL=self.base_url,
            CELERY_QUEUE=self.queue,
            CACHE_KEY_PREFIX=self.queue,
            **extra,
        )

    # servers and processes

    def start_smtp(self, sink: FaultSink | None = None) -> FaultSink:
        """The SMTP sink on the port EMAIL_URL names (reserved at set-up)."""
        sink = sink or FaultSink()
        sink.port = self.smtp_port
        server = SmtpServer(sink)
        server.start()
        self.smtp_servers.append(server)
        return sink

    def start(self, name: str, argv: list[str], *, mail: bool = False) -> Proc:
        """`argv` as the test's `n`th process, named `<name>-<n>` (with the
        private signer keys if it sends `mail`)."""
        self._counter += 1
        return self.processes.start(f"{name}-{self._counter}", argv, env=self.env(mail=mail))

    def start_web(self) -> Proc:
        """gunicorn (two sync workers, each with its own connection pool)."""
        proc = self.start(
            "web",
            gunicorn_argv(
                "config.wsgi", self.web_port, 2,
                "--timeout", "60", "--graceful-timeout", "2", "--access-logfile", "-",
            ),
        )  # fmt: skip
        proc.wait_ready(lambda: self.get("/api/letters/") == 200, timeout=30, tail=60)
        return proc

    def start_worker(self, concurrency: int = 1) -> Proc:
        node = f"w{self._counter + 1}-{self.uid}@faults"
        proc = self.start(
            "worker",
            celery_argv(
                "worker", "--concurrency", str(concurrency), "--pool", "prefork", "-Q", self.queue,
                "-n", node, "--without-heartbeat", "--without-gossip", "--without-mingle",
            ),
            mail=True,
        )  # fmt: skip
        proc.wait_ready(
            lambda: bool(self.client().control.ping(destination=[node], timeout=0.5)),
            timeout=30,
            tail=60,
        )
        return proc

    def start_beat(self) -> Proc:
        proc = self.start(
            "beat", celery_argv("beat", "--schedule", str(self.workdir / "beat-schedule"))
        )
        proc.wait_ready(lambda: "beat: Starting" in proc.log(), timeout=30, tail=60)
        return proc

    def client(self) -> Celery:
        """A Celery app of our own on the private broker (never the shared one)."""
        if self._client is None:
            app = Celery(f"faults-{self.uid}", broker=self.redis.url, set_as_current=False)
            app.conf.update(
                broker_transport_options={
                    "visibility_timeout": VISIBILITY_TIMEOUT,
                    "socket_timeout": 5,
                    "socket_connect_timeout": 5,
                },
                task_serializer="json",
                accept_content=["json"],
                task_default_queue=self.queue,
                broker_connection_retry_on_startup=True,
            )
            self._client = app
        return self._client

    def send_task(self, name: str, args: list[Any]) -> str:
        return str(self.client().send_task(name, args=args, queue=self.queue).id)

    def task_result(self, worker: Proc, task_id: str) -> str | None:
        """What the worker logged as the task's return value, once it finished."""
        for line in worker.log().splitlines():
            if f"[{task_id}] succeeded" in line:
                return line.rsplit(":", 1)[-1].strip().strip("'\"")
        return None

    # HTTP and the database

    def get(self, path: str) -> int:
        return get_status(self.base_url, path, timeout=10)

    def sign(self, address: str, name: str = "Faye Fault") -> Answer:
        return post_form(
            self.base_url,
            f"/letters/{DEMO_SLUG}/sign/",
            {"name": name, "email": address, "display": "public", "consent": "on"},
            timeout=30,
        )

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        with psycopg.connect(self.database_url, autocommit=True, connect_timeout=5) as conn:
            cursor = conn.execute(sql.encode(), params)
            names = [column.name for column in cursor.description or []]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def signatures(self, *addresses: str) -> list[dict[str, Any]]:
        """The signature rows of `addresses` (found by their keyed hash), each
        with the address its sealed value opens to as "email", ordered by it."""
        rows = self.rows(
            "SELECT id, email_sealed, status, emails_requested, emails_sent, email_failed"
            " FROM letters_signature WHERE email_hash = ANY(%s)",
            ([address_hash(address) for address in addresses],),
        )
        for row in rows:
            row["email"] = open_sealed(row.pop("email_sealed"))
        return sorted(rows, key=lambda row: row["email"])

    def signature(self, address: str) -> dict[str, Any]:
        (row,) = self.signatures(address)
        return row


_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


@pytest.fixture
def stack(pg_cluster: PostgresCluster, tmp_path: Path, request: Any) -> Iterator[FaultStack]:
    world = FaultStack(cluster=pg_cluster, workdir=tmp_path)
    world.open()
    try:
        yield world
    finally:
        world.close(show_logs=request.node.stash.get(_FAILED, True))
