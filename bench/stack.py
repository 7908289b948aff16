"""The stack the benchmark runs against, started and stopped by it.

- PostgreSQL: a fresh database on the local server (`--pg-admin-url`, the
  machine's 127.0.0.1:5432 by default), dropped at the end; if that server
  does not answer, a private cluster made with Debian's `initdb` in a
  temporary directory (as tests/faults does), removed at the end
  (bench.postgres).
- Redis: a private `redis-server` on a free port, no persistence (the cache
  and the Celery broker; nothing shared with other users of the machine).
- an SMTP sink (aiosmtpd, in this process) that timestamps every message
  (bench.smtp);
- gunicorn, a Celery worker and Celery beat, each in its own process group,
  with the production settings (DEBUG off) pointed at the above, and the
  run's own signer keys as production hands them out: every process gets
  SIGNER_HASH_KEY and SIGNER_SEAL_PUBLIC_KEY, only the Celery worker (which
  sends the email) SIGNER_SEAL_PRIVATE_KEYS.

Every process is stopped (its whole group) when the stack closes, also on
Ctrl-C or an error.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from bench.client import get_status
from bench.commands import celery_argv, gunicorn_argv
from bench.postgres import Database
from bench.processes import (
    BASE_DIR,
    Proc,
    Processes,
    RedisServer,
    child_env,
    free_port,
    signer_keys,
    wait_until,
)
from bench.procfs import children
from bench.smtp import Sink, SmtpServer
from letters.sealing import new_keys

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


@dataclass
class StackOptions:
    """How the stack runs: the runner's options of the same names."""

    workers: int
    celery_concurrency: int
    pg_admin_url: str
    private_pg: bool
    access_log: bool

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> StackOptions:
        return cls(**{field.name: getattr(args, field.name) for field in dataclasses.fields(cls)})


class Stack:
    """Servers and processes of one run; `close()` stops everything it started."""

    def __init__(self, *, run_id: str, workdir: Path, options: StackOptions) -> None:
        self.run_id = run_id
        self.workdir = workdir
        self.options = options
        self.queue = f"bench-{run_id}"
        self.redis = RedisServer(workdir)
        self.database = Database(
            admin_url=options.pg_admin_url,
            name=f"undersigned_bench_{run_id}",
            workdir=workdir,
            private=options.private_pg,
        )
        self.smtp = SmtpServer(Sink(port=free_port()))
        self.web_port = free_port()
        self.processes = Processes(workdir)
        # The run's own signer keys (production refuses to start without
        # them), in memory only: handed out by `env` according to the role.
        self.signer_keys = new_keys()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def env(self, *, mail: bool = False, **extra: str) -> dict[str, str]:
        """A child's environment; with the private signer keys only if it
        sends `mail` (the Celery worker), as production runs."""
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
                **signer_keys(self.signer_keys, mail=mail),
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
        problems = self.processes.stop_all()
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

    def start(self, name: str, argv: list[str], nice: int = 0, *, mail: bool = False) -> Proc:
        return self.processes.start(name, argv, env=self.env(mail=mail), nice=nice)

    def process_groups(self) -> dict[str, int]:
        """Name -> process group id of everything running (for CPU accounting)."""
        groups = {proc.name: proc.pid for proc in self.processes if proc.alive()}
        if self.redis.proc is not None:
            groups["redis"] = self.redis.proc.pid
        return groups

    def gunicorn_argv(self, app: str, port: int) -> list[str]:
        """The same settings as bin/serve (workers = 2 * cores + 1 unless told)."""
        # --no-control-socket is not a tuning knob: without it, every gunicorn
        # on the machine shares one control socket path (~/.gunicorn/gunicorn.ctl).
        options = ["--no-control-socket"]
        if self.options.access_log:
            options += ["--access-logfile", "-"]
        return gunicorn_argv(app, port, self.options.workers, *options)

    def start_site(self) -> tuple[Proc, Proc, Proc]:
        """gunicorn, a Celery worker and beat, started together, then awaited."""
        web = self.start("gunicorn", self.gunicorn_argv("config.wsgi", self.web_port))
        worker = self.start(
            "celery-worker",
            celery_argv(
                "worker", "--concurrency", str(self.options.celery_concurrency),
                "-n", f"bench-{self.run_id}@%h",
            ),
            nice=WORKER_NICE,
            mail=True,
        )  # fmt: skip
        beat = self.start(
            "celery-beat",
            celery_argv("beat", "--schedule", str(self.workdir / "celerybeat-schedule")),
        )
        web.wait_ready(lambda: get_status(self.base_url, "/api/letters/") == 200, timeout=60)
        self._until_workers(web)
        worker.wait_ready(lambda: " ready." in worker.log(), timeout=60)
        beat.wait_ready(lambda: "beat: Starting" in beat.log(), timeout=60)
        return web, worker, beat

    def start_baseline(self, port: int) -> Proc:
        proc = self.start("gunicorn-baseline", self.gunicorn_argv("bench.baseline_wsgi", port))
        proc.wait_ready(lambda: get_status(f"http://127.0.0.1:{port}", "/") == 200, timeout=60)
        self._until_workers(proc)
        return proc

    def _until_workers(self, proc: Proc) -> None:
        wait_until(
            lambda: len(children(proc.pid)) >= self.options.workers,
            timeout=30,
            what=f"{proc.name}: {self.options.workers} workers",
        )

    # A measurement's rows are those made after it started: the database
    # holds no address in clear to find them by, and the measurements run
    # one after another (each waits for its rows to land before the next).

    def last_signature_id(self) -> int:
        """The newest signature's id: the rows a measurement makes from now
        on are those with a greater one (ids only grow; one index lookup)."""
        return int(self.database.value("SELECT coalesce(max(id), 0) FROM letters_signature"))

    def signatures_after(self, after_id: int) -> int:
        """Signatures made since `last_signature_id()` was `after_id`."""
        rows = self.database.value(
            "SELECT count(*) FROM letters_signature WHERE id > %s", (after_id,)
        )
        return int(rows or 0)

    def owed_emails(self, after_id: int) -> int:
        """Signature emails still owed (the outbox: rows, not queue messages)
        by the signatures made after `after_id`."""
        owed = self.database.value(
            "SELECT count(*) FROM letters_signature WHERE id > %s "
            "AND emails_sent < emails_requested AND NOT email_failed "
            "AND status IN ('pending', 'confirmed')",
            (after_id,),
        )
        return int(owed or 0)

    def wait_for_emails(
        self, prefix: str, expected: int, timeout: float
    ) -> list[tuple[float, str]]:
        """(arrival, address) of the messages to `prefix` addresses, once
        `expected` addresses have one or after `timeout` s."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.smtp.sink.matching(prefix)
            if len({a for _t, a in found}) >= expected or time.monotonic() >= deadline:
                return found
            time.sleep(0.1)

    def drop_owed_emails(self, after_id: int) -> int:
        """Give up the emails still owed by the signatures made after
        `after_id` (so the next measurement starts with an empty outbox)
        and drop queued messages."""
        import redis

        with psycopg.connect(self.database.url, autocommit=True, connect_timeout=5) as conn:
            dropped = conn.execute(
                "UPDATE letters_signature SET email_failed = true WHERE id > %s "
                "AND emails_sent < emails_requested AND NOT email_failed",
                (after_id,),
            ).rowcount
        client = redis.Redis.from_url(self.redis.url)
        try:
            keys = list(client.scan_iter(match=f"{self.queue}*"))
            if keys:
                client.delete(*keys)
        finally:
            client.close()
        return int(dropped)
