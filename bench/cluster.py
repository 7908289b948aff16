"""The multi-node topology on one machine (issue 22), every part private to
one cluster (own ports and temporary directory; nothing on the machine's
shared 5432/6379):

    HAProxy :port  (round robin, GET /healthz checks, fail-open backups)
      ├── node1: gunicorn (own process group, own port)  ┐ DATABASE_URL: PgBouncer
      └── node2: gunicorn ...                             │ DATABASE_REPLICA_URL: replica
    worker1, worker2: Celery workers (distinct -n names)  │ REDIS_URL, EMAIL_URL
    beat1: Celery beat (exactly one)                      ┘
    PgBouncer 1.18 (transaction mode) ── PostgreSQL primary ──WAL──> streaming replica
    Redis (cache and broker), the SMTP sink (in this process)

- The primary is a `bench.postgres.PostgresCluster`; the replica a
  `bench.cluster_services.ReplicaCluster` made from it with
  `pg_basebackup -R` once the primary is migrated and the demo loaded
  (migrations and `load_demo` run on a direct connection, never through
  PgBouncer).
- Every site process reaches the primary through PgBouncer
  (DATABASE_PGBOUNCER=1: no server-side prepared statements or cursors,
  which PgBouncer 1.18 cannot keep in transaction mode), and the replica
  directly: a refused connection is how the site sees at once that the
  replica is down and reads from the primary instead, where a PgBouncer in
  front of it would accept the connection and fail (or wait) only at the
  query.  The site's own per-process pool (DATABASE_POOL_MAX) already
  bounds the replica's connections.
- Signer keys as production hands them out (bench.processes.signer_keys):
  the private key only to the Celery workers.
- Static files are collected into the cluster's own VAR_DIR (about 1 s)
  and served by WhiteNoise with DEBUG=0, as in production.

`Cluster` is a context manager: whatever it started is stopped on exit,
also on an error or Ctrl-C.  Nodes and workers are numbered from 1
(`kill_node(1)`, `node_url(1)`, HAProxy's `node1`).  `python -m
bench.cluster` (`make cluster`) starts one and runs until Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

import psycopg

from bench.client import get_status
from bench.cluster_services import PRIMARY_SETTINGS, HAProxy, PgBouncer, ReplicaCluster
from bench.commands import celery_argv, gunicorn_argv, run_python
from bench.postgres import PostgresCluster
from bench.processes import (
    Proc,
    Processes,
    RedisServer,
    child_env,
    free_port,
    signer_keys,
    wait_until,
)
from bench.procfs import children
from bench.smtp import Handler, Sink, SmtpServer
from letters.sealing import new_keys

DATABASE = "undersigned"
DEMO_SLUG = "northwind-ice"
HEALTH_PATH = "/healthz"
SECRET_KEY = "cluster-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-cluster"  # noqa: S105
WORKER_NICE = 10  # as bin/serve and bench/stack.py run the Celery worker
DATABASE_POOL_MAX = 8  # the site's default per-process pool (config/settings.py)

# Inherited variables that would change how the site is served (besides
# those child_env drops for every child), as bench/stack.py drops them.
DROPPED = {
    "DJANGO_SETTINGS_MODULE",
    "COUNT_RECOUNT_INTERVAL",
    "TRUSTED_PROXY_COUNT",
    "WEB_CONCURRENCY",
    "GUNICORN_CMD_ARGS",
    "REQUIRE_ORGANISER_2FA",
    "SIGNING_LETTER_TTL",
    "VAR_DIR",
    "SITE_URL",
    "ALLOWED_HOSTS",
    "SECRET_KEY",
    "REPLICA_CHECK_INTERVAL",
    "REPLICA_MAX_LAG",
    "REPLICA_RETRY",
}

# The private PostgreSQL servers need no durability (thrown away at the end).
NO_DURABILITY = {"fsync": "off", "synchronous_commit": "off"}


@dataclass
class ClusterOptions:
    """How big the cluster is, and what every site process gets on top of
    the defaults (`env`: e.g. shortened intervals for tests)."""

    nodes: int = 2
    web_workers: int = 2  # gunicorn sync workers per node
    worker_nodes: int = 2
    worker_concurrency: int = 2  # Celery prefork processes per worker node
    access_log: bool = False  # gunicorn's and HAProxy's (paths hold tokens: off, as bin/serve)
    # log_statement=all on the replica: tests read its log to see which
    # requests read from it.
    log_replica_statements: bool = False
    env: dict[str, str] = field(default_factory=dict)


def _log_length(path: Path) -> int:
    """How much a log holds now (a restarted process appends to its log)."""
    return len(path.read_text(errors="replace")) if path.exists() else 0


def _tail(path: Path, lines: int) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


class Cluster:
    """The topology of the module docstring.  `start()` (or `with
    Cluster(...) as cluster:`) starts everything and returns once HAProxy
    shows every node UP; `close()` stops everything and says what could
    not be stopped."""

    def __init__(
        self,
        options: ClusterOptions | None = None,
        *,
        keys: Mapping[str, str] | None = None,
        sink: Handler | None = None,
    ) -> None:
        self.options = options or ClusterOptions()
        self.keys = dict(keys or new_keys())
        self.uid = uuid.uuid4().hex[:8]
        self.queue = f"cluster-{self.uid}"
        self.workdir = Path(tempfile.mkdtemp(prefix="undersigned-cluster-"))
        # PgBouncer runs as the postgres OS user in a directory of its own in here.
        self.workdir.chmod(0o711)
        self.var_dir = self.workdir / "var"
        self.processes = Processes(self.workdir)
        self.redis = RedisServer(self.workdir)
        self.sink: Handler = sink if sink is not None else Sink()
        if not self.sink.port:
            self.sink.port = free_port()
        self.smtp = SmtpServer(self.sink)
        self.node_ports = {n: free_port() for n in range(1, self.options.nodes + 1)}
        self.primary: PostgresCluster | None = None
        self.replica: ReplicaCluster | None = None
        self.pgbouncer: PgBouncer | None = None
        self.haproxy = HAProxy(
            workdir=self.workdir,
            ports=self.node_ports,
            node_maxconn=self.options.web_workers,
            health_path=HEALTH_PATH,
            access_log=self.options.access_log,
        )
        self.nodes: dict[int, Proc] = {}
        self.workers: dict[int, Proc] = {}
        self.beats: list[Proc] = []

    # --- addresses ---------------------------------------------------------------

    @property
    def url(self) -> str:
        """HAProxy's: the site as its visitors reach it."""
        return self.haproxy.url

    def node_url(self, n: int) -> str:
        """Node `n`'s gunicorn, directly (not through HAProxy)."""
        return f"http://127.0.0.1:{self.node_ports[n]}"

    @property
    def stats_url(self) -> str:
        return self.haproxy.stats_url

    @property
    def primary_url(self) -> str:
        """The primary, directly (not through PgBouncer)."""
        assert self.primary is not None
        return self.primary.url(DATABASE)

    @property
    def replica_url(self) -> str:
        assert self.replica is not None
        return self.replica.url(DATABASE)

    @property
    def pgbouncer_url(self) -> str:
        assert self.pgbouncer is not None
        return self.pgbouncer.url()

    def env(self, *, mail: bool = False, direct: bool = False) -> dict[str, str]:
        """A site process's environment: the private signer keys only if it
        sends `mail`; `direct`: the primary without PgBouncer or replica
        (migrations)."""
        assert self.primary is not None
        assert self.replica is not None
        databases = (
            {"DATABASE_URL": self.primary_url}
            if direct
            else {
                "DATABASE_URL": self.pgbouncer_url,
                "DATABASE_PGBOUNCER": "1",
                "DATABASE_REPLICA_URL": self.replica_url,
            }
        )
        return child_env(
            {
                "DEBUG": "0",
                "SECRET_KEY": SECRET_KEY,
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
                "SITE_URL": self.url,
                **databases,
                "REDIS_URL": self.redis.url,
                "EMAIL_URL": self.smtp.url,
                "CELERY_QUEUE": self.queue,
                "CACHE_KEY_PREFIX": self.queue,
                "VAR_DIR": str(self.var_dir),
                # HAProxy appends the client's address to X-Forwarded-For.
                "TRUSTED_PROXY_COUNT": "1",
                "PYTHONUNBUFFERED": "1",
                "LOG_LEVEL": "INFO",
                **signer_keys(self.keys, mail=mail),
            },
            self.options.env,
            drop=DROPPED,
        )

    # --- starting and stopping -----------------------------------------------------

    def __enter__(self) -> Cluster:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        problems = self.close()
        if problems and exc is None:
            raise RuntimeError("cluster not stopped cleanly: " + "; ".join(problems))

    def start(self) -> None:
        self.var_dir.mkdir()
        self.redis.start()
        self.smtp.start()
        self._start_databases()
        self._start_pgbouncer()
        for n in self.node_ports:
            self.nodes[n] = self._spawn_node(n)
        for n in range(1, self.options.worker_nodes + 1):
            self.workers[n] = self._spawn_worker(n)
        beat = self._spawn_beat()
        for n, proc in self.nodes.items():
            self._await_node(n, proc)
        for proc in self.workers.values():
            self._await_worker(proc, 0)
        self._await_beat(beat, 0)
        self.haproxy.start()
        for n in self.node_ports:
            self.haproxy.wait_state(f"node{n}", "UP", timeout=30)

    def _start_databases(self) -> None:
        self.primary = PostgresCluster(
            prefix="undersigned-cluster-pg-",
            settings={**PRIMARY_SETTINGS, **NO_DURABILITY, "max_connections": "150"},
        )
        self.primary.init()
        self.primary.start()
        self.primary.execute(f"CREATE DATABASE {DATABASE}")
        # The replica is made (and its log prepared) now, so that env() works.
        replica_settings = {**NO_DURABILITY, "max_connections": "150"}
        if self.options.log_replica_statements:
            replica_settings |= {"log_statement": "all", "log_line_prefix": "'%m [%p] '"}
        self.replica = ReplicaCluster(
            primary=self.primary, prefix="undersigned-cluster-replica-", settings=replica_settings
        )
        env = self.env(direct=True)
        for args in (
            ("migrate", "--noinput", "-v", "0"),
            ("load_demo",),
            ("collectstatic", "--noinput", "-v", "0"),
        ):
            run_python(
                ["manage.py", *args],
                env=env,
                timeout=300,
                what=f"manage.py {args[0]}",
                log_path=self.workdir / f"manage-{args[0]}.log",
            )
        self.replica.init()
        self.replica.start()
        replica = self.replica
        wait_until(lambda: replica.replaying(DATABASE), timeout=30, what="the replica answering")

    def _start_pgbouncer(self) -> None:
        assert self.primary is not None
        options = self.options
        # Every process that can run a transaction at once (sync gunicorn
        # workers, Celery pool processes, beats, a few spare), and every
        # client connection their pools may open.
        processes = (
            options.nodes * options.web_workers
            + options.worker_nodes * (options.worker_concurrency + 1)
            + 3
        )
        self.pgbouncer = PgBouncer(
            server=self.primary,
            database=DATABASE,
            workdir=self.workdir,
            pool_size=max(20, processes),
            max_clients=processes * DATABASE_POOL_MAX + 100,
        )
        self.pgbouncer.start()

    def close(self) -> list[str]:
        """Stop everything started; return what could not be cleaned up."""
        problems = self.processes.stop_all(timeout=5)
        steps: list[tuple[str, Any]] = [
            ("haproxy", self.haproxy.stop),
            ("pgbouncer", self.pgbouncer.stop if self.pgbouncer else None),
            ("smtp", self.smtp.stop),
            ("redis", self.redis.stop if self.redis.proc else None),
            ("replica", self.replica.destroy if self.replica else None),
            ("primary", self.primary.destroy if self.primary else None),
        ]
        for what, stop in steps:
            if stop is None:
                continue
            try:
                stop()
            except Exception as exc:
                problems.append(f"{what}: {exc}")
        shutil.rmtree(self.workdir, ignore_errors=True)
        return problems

    # --- web nodes -----------------------------------------------------------------

    def _spawn_node(self, n: int) -> Proc:
        options = ["--no-control-socket", "--timeout", "30", "--graceful-timeout", "5"]
        if self.options.access_log:
            options += ["--access-logfile", "-"]
        argv = gunicorn_argv("config.wsgi", self.node_ports[n], self.options.web_workers, *options)
        return self.processes.start(f"node{n}", argv, env=self.env())

    def _await_node(self, n: int, proc: Proc) -> None:
        proc.wait_ready(lambda: get_status(self.node_url(n), HEALTH_PATH) == 200, timeout=60)
        wait_until(
            lambda: len(children(proc.pid)) >= self.options.web_workers,
            timeout=30,
            what=f"node{n}: {self.options.web_workers} workers",
        )

    def kill_node(self, n: int) -> None:
        """SIGKILL node `n`'s whole process group (gunicorn and its workers)."""
        proc = self.nodes.pop(n)
        proc.kill()
        self.processes.stop(proc)

    def start_node(self, n: int) -> Proc:
        """Start node `n` again on its port; returns once it answers /healthz
        (HAProxy takes it back after its own checks: `wait_state`)."""
        assert n not in self.nodes, f"node{n} is running"
        proc = self.nodes[n] = self._spawn_node(n)
        self._await_node(n, proc)
        return proc

    # --- Celery ---------------------------------------------------------------------

    def worker_name(self, n: int) -> str:
        return f"worker{n}-{self.uid}@cluster"

    def _spawn_worker(self, n: int) -> Proc:
        argv = celery_argv(
            "worker", "--concurrency", str(self.options.worker_concurrency), "--pool", "prefork",
            "-Q", self.queue, "-n", self.worker_name(n),
            "--without-heartbeat", "--without-gossip", "--without-mingle",
        )  # fmt: skip
        return self.processes.start(f"worker{n}", argv, env=self.env(mail=True), nice=WORKER_NICE)

    @staticmethod
    def _await_worker(proc: Proc, offset: int) -> None:
        proc.wait_ready(lambda: " ready." in proc.log()[offset:], timeout=60)

    def kill_worker(self, n: int) -> None:
        """SIGKILL worker node `n`'s whole group (the worker and its pool)."""
        proc = self.workers.pop(n)
        proc.kill()
        self.processes.stop(proc)

    def start_worker(self, n: int) -> Proc:
        """Start worker node `n` again (same -n name); returns once it is ready."""
        assert n not in self.workers, f"worker{n} is running"
        offset = _log_length(self.workdir / f"worker{n}.log")
        proc = self.workers[n] = self._spawn_worker(n)
        self._await_worker(proc, offset)
        return proc

    def _spawn_beat(self) -> Proc:
        n = len(self.beats) + 1
        argv = celery_argv("beat", "--schedule", str(self.workdir / f"beat{n}-schedule"))
        proc = self.processes.start(f"beat{n}", argv, env=self.env())
        self.beats.append(proc)
        return proc

    @staticmethod
    def _await_beat(proc: Proc, offset: int) -> None:
        proc.wait_ready(lambda: "beat: Starting" in proc.log()[offset:], timeout=60)

    def start_beat(self) -> Proc:
        """One more Celery beat (`beat2`, `beat3`...; the cluster starts
        exactly one): for tests of what a second beat started by mistake
        does.  Returns once it runs; stop it with `stop(proc)`."""
        proc = self._spawn_beat()
        self._await_beat(proc, 0)
        return proc

    def stop(self, proc: Proc) -> None:
        """Stop one process the cluster started (SIGTERM, then SIGKILL)."""
        self.processes.stop(proc)
        for group in (self.nodes, self.workers):
            for n, running in list(group.items()):
                if running is proc:
                    del group[n]
        if proc in self.beats:
            self.beats.remove(proc)

    # --- shared services -------------------------------------------------------------

    def stop_replica(self) -> None:
        assert self.replica is not None
        self.replica.stop()

    def start_replica(self) -> None:
        assert self.replica is not None
        self.replica.start()

    def wait_for_replica(self, timeout: float = 30) -> float:
        """Wait until the replica has replayed everything the primary wrote
        so far (e.g. a letter a test just made); the seconds it took."""
        replica = self.replica
        assert replica is not None
        started = time.monotonic()
        wait_until(lambda: replica.caught_up(DATABASE), timeout=timeout, what="replica caught up")
        return time.monotonic() - started

    def replica_running(self) -> bool:
        assert self.replica is not None
        return (self.replica.data / "postmaster.pid").exists()

    def restore(self) -> list[str]:
        """Start again whatever of the topology is not running (a node, a
        worker, the replica, PgBouncer), and stop beats beyond the first:
        for a test that left the cluster otherwise.  Returns what it did."""
        done = []
        for proc in self.beats[1:]:
            self.stop(proc)
            done.append(f"stopped {proc.name}")
        if self.replica is not None and not self.replica_running():
            self.start_replica()
            done.append("started the replica")
        if self.pgbouncer is not None and (
            self.pgbouncer.proc is None or not self.pgbouncer.proc.alive()
        ):
            self.pgbouncer.start()
            done.append("started PgBouncer")
        for n in self.node_ports:
            if n in self.nodes and not self.nodes[n].alive():
                self.stop(self.nodes[n])
            if n not in self.nodes:
                self.start_node(n)
                done.append(f"started node{n}")
        for n in range(1, self.options.worker_nodes + 1):
            if n in self.workers and not self.workers[n].alive():
                self.stop(self.workers[n])
            if n not in self.workers:
                self.start_worker(n)
                done.append(f"started worker{n}")
        for n in self.node_ports:
            self.wait_state(f"node{n}", "UP", timeout=30)
        return done

    def stop_pgbouncer(self) -> None:
        """Stop PgBouncer (the primary unreachable for every site process)."""
        assert self.pgbouncer is not None
        self.pgbouncer.stop()

    def start_pgbouncer(self) -> None:
        assert self.pgbouncer is not None
        self.pgbouncer.start()

    def restart_pgbouncer(self) -> None:
        """Stop PgBouncer (every connection through it cut) and start it
        again on the same port; returns once a query goes through it."""
        assert self.pgbouncer is not None
        self.pgbouncer.restart()

    def server_state(self, name: str) -> str:
        """HAProxy's state of server `name` (`node1`...): "UP", "DOWN"..."""
        return self.haproxy.state(name)

    def wait_state(self, name: str, state: str, *, timeout: float) -> float:
        """Wait until HAProxy shows server `name` in `state`; seconds taken."""
        return self.haproxy.wait_state(name, state, timeout=timeout)

    # --- reading -------------------------------------------------------------------------

    def primary_rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        """Rows of one query on the primary, directly, as dicts."""
        with psycopg.connect(self.primary_url, autocommit=True, connect_timeout=5) as conn:
            cursor = conn.execute(sql.encode(), params)
            names = [column.name for column in cursor.description or []]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def logs(self, lines: int = 40) -> str:
        """The end of every log: processes, PgBouncer, HAProxy, both PostgreSQL."""
        paths = sorted(self.workdir.glob("*.log"))
        if self.primary is not None:
            paths.append(self.primary.log)
        if self.replica is not None:
            paths.append(self.replica.log)
        return "\n".join(f"----- {path} -----\n{_tail(path, lines)}" for path in paths)


# --- python -m bench.cluster (make cluster) --------------------------------------------


def _stop_on_sigterm() -> None:
    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.cluster",
        description="Start the multi-node topology (HAProxy, web nodes, Celery workers and "
        "beat, PgBouncer, PostgreSQL primary and replica, Redis, SMTP sink) until Ctrl-C.",
    )
    defaults = ClusterOptions()
    parser.add_argument("--nodes", type=int, default=defaults.nodes)
    parser.add_argument("--web-workers", type=int, default=defaults.web_workers)
    parser.add_argument("--worker-nodes", type=int, default=defaults.worker_nodes)
    parser.add_argument("--worker-concurrency", type=int, default=defaults.worker_concurrency)
    parser.add_argument("--access-log", action="store_true")
    args = parser.parse_args(argv)
    options = ClusterOptions(
        nodes=args.nodes,
        web_workers=args.web_workers,
        worker_nodes=args.worker_nodes,
        worker_concurrency=args.worker_concurrency,
        access_log=args.access_log,
    )
    _stop_on_sigterm()
    sink = Sink()
    started = time.monotonic()
    print("Starting the cluster (about half a minute)...", flush=True)
    with contextlib.suppress(KeyboardInterrupt), Cluster(options, sink=sink) as cluster:
        nodes = "\n".join(
            f"  node{n}:          {cluster.node_url(n)}/  (directly)" for n in cluster.node_ports
        )
        print(
            f"""
  Undersigned cluster, up in {time.monotonic() - started:.0f} s (logs: {cluster.workdir})
  Site (HAProxy):  {cluster.url}/letters/{DEMO_SLUG}/
{nodes}
  HAProxy stats:   {cluster.stats_url}
  PgBouncer:       {cluster.pgbouncer_url}
  Primary:         {cluster.primary_url}
  Replica:         {cluster.replica_url}
  Redis:           {cluster.redis.url}
  SMTP sink:       {cluster.smtp.url} (messages counted below)
  Organiser login: {cluster.url}/accounts/login/  organiser@example.org / undersigned-demo
                   (DEBUG=0: a second factor is asked for, as in production)
  Ctrl-C stops everything.
""",
            flush=True,
        )
        while True:
            time.sleep(30)
            states = ", ".join(
                f"node{n} {cluster.server_state(f'node{n}') or '?'}" for n in cluster.node_ports
            )
            print(f"  {time.strftime('%H:%M:%S')}  {states}; emails: {sink.count()}", flush=True)
    print("Cluster stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
