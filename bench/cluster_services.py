"""The shared services of the multi-node topology (`bench/cluster.py`),
each private to one cluster (own ports, own directory):

- `ReplicaCluster`: a streaming replica of a `PostgresCluster`, made with
  `pg_basebackup -R` through a replication slot (the primary keeps the WAL
  a stopped replica needs to catch up);
- `PgBouncer`: Debian's PgBouncer 1.18 in transaction mode in front of the
  primary, which can be restarted on the same port;
- `HAProxy`: Debian's HAProxy 2.6 round-robin over the web nodes, health
  checked on `/healthz`, with a stats page and an admin socket that says
  each server's state.

Processes run in their own process groups (`bench.processes.Proc`);
PostgreSQL and PgBouncer as the `postgres` OS user (we run as root).
"""

from __future__ import annotations

import csv
import shutil
import socket
import subprocess
import textwrap
import time
from collections.abc import Mapping
from pathlib import Path

import psycopg

from bench.postgres import PostgresCluster
from bench.processes import Proc, free_port, wait_until

PGBOUNCER = Path("/usr/sbin/pgbouncer")
HAPROXY = Path("/usr/sbin/haproxy")


def require(binary: Path, package: str) -> Path:
    """`binary`, or a RuntimeError naming the Debian package that has it."""
    found = binary if binary.exists() else None
    found = found or (Path(p) if (p := shutil.which(binary.name)) else None)
    if found is None:
        raise RuntimeError(f"{binary} is missing. Debian: apt-get install {package}")
    return found


# --- The replica ---------------------------------------------------------------------

# The primary's settings a streaming replica needs (PostgreSQL 15's defaults
# already, written out so that the cluster does not depend on them).
PRIMARY_SETTINGS = {
    "wal_level": "replica",
    "max_wal_senders": "5",
    "max_replication_slots": "5",
    "hot_standby": "on",
}
SLOT = "cluster_replica"


class ReplicaCluster(PostgresCluster):
    """A hot standby of `primary`, on its own port: `init()` copies the
    primary with `pg_basebackup -R` (which writes `standby.signal` and the
    `primary_conninfo`) through the replication slot SLOT; `start()`,
    `stop()` as for any cluster.  Read-only: `execute` of a write fails."""

    def __init__(
        self,
        *,
        primary: PostgresCluster,
        prefix: str,
        settings: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(prefix=prefix, settings={"hot_standby": "on", **(settings or {})})
        self.primary = primary

    def init(self) -> None:
        self._run(
            "pg_basebackup", "-D", str(self.data), "-h", "127.0.0.1", "-p", str(self.primary.port),
            "-U", "postgres", "-R", "-X", "stream", "-c", "fast", "-C", "-S", SLOT, "--no-sync",
            timeout=120,
        )  # fmt: skip

    def replaying(self, database: str) -> bool:
        """Whether the replica accepts read-only connections to `database`
        and is in recovery (a standby, not a promoted copy)."""
        try:
            with psycopg.connect(self.url(database), autocommit=True, connect_timeout=2) as conn:
                row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
                return bool(row and row[0])
        except psycopg.Error:
            return False

    def caught_up(self, database: str) -> bool:
        """Whether the replica has replayed everything the primary has
        committed so far: its replay position at or past the primary's WAL
        insert position (not the write position, which an asynchronous
        commit, synchronous_commit=off, may not have reached yet)."""
        with psycopg.connect(self.primary.url(database), autocommit=True) as conn:
            row = conn.execute("SELECT pg_current_wal_insert_lsn()::text").fetchone()
        assert row is not None
        try:
            with psycopg.connect(self.url(database), autocommit=True, connect_timeout=2) as conn:
                done = conn.execute(
                    "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (row[0],)
                ).fetchone()
        except psycopg.Error:
            return False
        return bool(done and done[0])


# --- PgBouncer ---------------------------------------------------------------------


class PgBouncer:
    """PgBouncer in transaction mode in front of `server` (one database,
    `database`), on 127.0.0.1:<free port>, trust auth, run as the postgres
    OS user (`-u`: PgBouncer refuses to run as root).

    `pool_size` is the number of server connections per database and user
    (PgBouncer's `default_pool_size`): in transaction mode one is busy only
    during a transaction, so the number of processes that can run a
    transaction at once is enough.  `max_clients` bounds the client
    connections (every process's own pool, up to DATABASE_POOL_MAX each)."""

    def __init__(
        self,
        *,
        server: PostgresCluster,
        database: str,
        workdir: Path,
        pool_size: int,
        max_clients: int,
    ) -> None:
        self.binary = require(PGBOUNCER, "pgbouncer")
        self.server = server
        self.database = database
        self.dir = workdir / "pgbouncer"
        self.dir.mkdir()
        shutil.chown(self.dir, "postgres", "postgres")
        self.port = free_port()
        self.ini = self.dir / "pgbouncer.ini"
        self.pool_size = pool_size
        self.max_clients = max_clients
        self.log_path = workdir / "pgbouncer.log"
        self.proc: Proc | None = None
        self.starts = 0

    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{self.database}"

    def write_config(self) -> None:
        (self.dir / "userlist.txt").write_text('"postgres" ""\n')
        self.ini.write_text(
            textwrap.dedent(
                f"""\
                [databases]
                {self.database} = host=127.0.0.1 port={self.server.port} dbname={self.database}

                [pgbouncer]
                listen_addr = 127.0.0.1
                listen_port = {self.port}
                unix_socket_dir = {self.dir}
                pidfile = {self.dir}/pgbouncer.pid
                auth_type = trust
                auth_file = {self.dir}/userlist.txt
                admin_users = postgres
                pool_mode = transaction
                default_pool_size = {self.pool_size}
                reserve_pool_size = 5
                reserve_pool_timeout = 1
                max_client_conn = {self.max_clients}
                ; A server connection that failed is tried again after 1 s, not
                ; 15 s (the default): the primary restarting heals in seconds.
                server_login_retry = 1
                server_connect_timeout = 5
                ; A client waiting for a server connection gives up after this
                ; (the site's own pool timeout is 10 s).
                query_wait_timeout = 15
                ignore_startup_parameters = extra_float_digits
                log_connections = 0
                log_disconnections = 0
                """
            )
        )
        for path in self.dir.iterdir():
            shutil.chown(path, "postgres", "postgres")

    def start(self) -> None:
        if not self.ini.exists():
            self.write_config()
        self.starts += 1
        self.proc = Proc.start(
            "pgbouncer",
            [str(self.binary), "-u", "postgres", str(self.ini)],
            env={"PATH": "/usr/sbin:/usr/bin:/bin"},
            log_path=self.log_path,
        )
        self.proc.wait_ready(self.answers, timeout=15)

    def answers(self) -> bool:
        """Whether a query through PgBouncer reaches the primary."""
        try:
            with psycopg.connect(self.url(), autocommit=True, connect_timeout=2) as conn:
                conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            return False

    def stop(self) -> None:
        """SIGTERM (PgBouncer 1.18: immediate shutdown, every client and
        server connection cut), then wait for the port to be free."""
        if self.proc is not None:
            self.proc.stop(timeout=5)
            self.proc = None

    def restart(self) -> None:
        """A hard restart: stopped (every connection cut), started again on
        the same port; returns once it answers."""
        self.stop()
        self.start()


# --- HAProxy -----------------------------------------------------------------------


class HAProxy:
    """HAProxy in front of the web nodes (`ports`: node number -> port),
    in the foreground (`-db`) in its own process group.

    - `balance roundrobin` over `node1`..`nodeN`, each health checked with
      `GET /healthz` every second, taken out after 2 failed checks and back
      after 2 good ones (`inter 1s fall 2 rise 2`);
    - `maxconn <workers>` per server: a node gets as many requests at once as
      it has sync workers; the rest wait in HAProxy's queue, from where any
      node may take them (so a killed node loses only the requests it was
      handling, never a backlog);
    - `retry-on conn-failure`, `retries 3`, `option redispatch 1`: a request
      whose connection was refused (a killed node, before the checks took it
      out) is tried again on another node.  Only connection failures: such
      a request was never sent, so retrying it is safe even for a POST; a
      request a node received is never sent twice;
    - fail-open: the same nodes again as `backup` servers without checks
      (`node1-open`...; `option allbackups`), used only when every checked
      server is DOWN: if `/healthz` fails on every node at once (a shared
      service blips: PgBouncer restarting, Redis), HAProxy keeps routing to
      the nodes rather than answering 503 to everyone;
    - `option forwardfor`: X-Forwarded-For names the client (the site reads
      it with TRUSTED_PROXY_COUNT=1);
    - a stats page (`stats_url`) and an admin socket (`state`)."""

    BACKEND = "nodes"

    def __init__(
        self,
        *,
        workdir: Path,
        ports: Mapping[int, int],
        node_maxconn: int,
        health_path: str = "/healthz",
        access_log: bool = False,
    ) -> None:
        self.binary = require(HAPROXY, "haproxy")
        # Off by default, as gunicorn's: a request line holds the tokens of
        # emailed links (/s/<token>/), which no log should keep; and one
        # log line per request costs HAProxy more CPU than its routing.
        self.access_log = access_log
        self.workdir = workdir
        self.ports = dict(ports)
        self.node_maxconn = node_maxconn
        self.health_path = health_path
        self.port = free_port()
        self.stats_port = free_port()
        self.socket_path = workdir / "haproxy.sock"
        self.config = workdir / "haproxy.cfg"
        self.log_path = workdir / "haproxy.log"
        self.proc: Proc | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def stats_url(self) -> str:
        return f"http://127.0.0.1:{self.stats_port}/"

    def write_config(self) -> None:
        checked = "\n".join(
            f"    server node{n} 127.0.0.1:{port} check" for n, port in self.ports.items()
        )
        fail_open = "\n".join(
            f"    server node{n}-open 127.0.0.1:{port} backup" for n, port in self.ports.items()
        )
        self.config.write_text(
            textwrap.dedent(
                f"""\
                global
                    maxconn 4096
                    stats socket {self.socket_path} mode 600 level admin
                    log stdout format raw local0 info

                defaults
                    mode http
                    {"log global" if self.access_log else "no log"}
                    {"option httplog" if self.access_log else ""}
                    option dontlognull
                    timeout connect 2s
                    timeout client 30s
                    timeout server 30s
                    timeout http-request 10s
                    timeout queue 15s
                    timeout check 2s
                    retries 3
                    retry-on conn-failure
                    option redispatch 1

                frontend site
                    bind 127.0.0.1:{self.port}
                    option forwardfor
                    default_backend {self.BACKEND}

                backend {self.BACKEND}
                    balance roundrobin
                    option httpchk
                    http-check send meth GET uri {self.health_path} ver HTTP/1.1 hdr Host 127.0.0.1
                    http-check expect status 200
                    option allbackups
                    default-server inter 1s fall 2 rise 2 maxconn {self.node_maxconn}
                """
            )
            + checked
            + "\n"
            + fail_open
            + "\n\n"
            + textwrap.dedent(
                f"""\
                listen stats
                    bind 127.0.0.1:{self.stats_port}
                    stats enable
                    stats uri /
                    stats refresh 2s
                """
            )
        )

    def start(self) -> None:
        self.write_config()
        check = self._run_check()
        if check:
            raise RuntimeError(f"haproxy refused its configuration:\n{check}")
        self.proc = Proc.start(
            "haproxy",
            [str(self.binary), "-f", str(self.config), "-db"],
            env={"PATH": "/usr/sbin:/usr/bin:/bin"},
            log_path=self.log_path,
        )
        self.proc.wait_ready(lambda: bool(self.stats()), timeout=15)

    def _run_check(self) -> str:
        """haproxy -c: the configuration's errors, if any."""
        done = subprocess.run(
            [str(self.binary), "-c", "-q", "-f", str(self.config)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        return "" if done.returncode == 0 else done.stdout + done.stderr

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop(timeout=5)
            self.proc = None

    def command(self, line: str) -> str:
        """One command on the admin socket; its answer ("" if none)."""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(2)
                sock.connect(str(self.socket_path))
                sock.sendall(line.encode() + b"\n")
                chunks = []
                while chunk := sock.recv(65536):
                    chunks.append(chunk)
            return b"".join(chunks).decode()
        except OSError:
            return ""

    def stats(self) -> list[dict[str, str]]:
        """`show stat`: one row per proxy and server, by column name."""
        text = self.command("show stat")
        if not text.startswith("# "):
            return []
        return list(csv.DictReader(text[2:].splitlines()))

    def state(self, server: str) -> str:
        """The state of `server` in the nodes backend as HAProxy shows it:
        "UP", "DOWN", "MAINT", "no check" (the fail-open backups)...; a
        transition in progress ("UP 1/2", "DOWN 1/2") is given by its first
        word only ("" if the server is unknown or HAProxy does not answer)."""
        for row in self.stats():
            if row.get("pxname") == self.BACKEND and row.get("svname") == server:
                status = row.get("status", "")
                return status if status == "no check" else status.split(" ")[0]
        return ""

    def wait_state(self, server: str, state: str, *, timeout: float) -> float:
        """Wait until `server` is in `state`; the seconds it took."""
        started = time.monotonic()
        wait_until(
            lambda: self.state(server) == state,
            timeout=timeout,
            what=f"HAProxy shows {server} {state} (now {self.state(server)!r})",
            interval=0.1,
        )
        return time.monotonic() - started
