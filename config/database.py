"""The database settings, read from the environment (config/settings.py).

- `DATABASE_URL`: the primary (unset: a SQLite file, the embedded default).
  PostgreSQL goes through psycopg 3 with Django's connection pool.
- `DATABASE_REPLICA_URL` (optional, PostgreSQL only): a streaming replica
  for public reads, the alias "replica" (letters/replica.py says which
  reads go there and how stale they may be).  It is configured like the
  primary (the same pool and OPTIONS; what its own URL says wins), except
  that a request waits at most DATABASE_REPLICA_TIMEOUT seconds (default 1)
  for one of its connections: a stopped replica costs one public build per
  process that long every REPLICA_RETRY seconds (it is given up in
  between), never the primary's pool timeout.  For tests it mirrors
  "default".
- `DATABASE_PGBOUNCER=1`: the databases are reached through PgBouncer in
  transaction mode (before 1.21: no protocol-level prepared statements), so
  a server connection belongs to a client for one transaction only.  Then
  no statement is prepared (psycopg's `prepare_threshold=None`; the speed
  trick DATABASE_PREPARED_STATEMENTS is forced off, so `speed.prepared`
  uses Django's own cursor) and no server-side cursor is opened
  (`DISABLE_SERVER_SIDE_CURSORS`: `.iterator()` outside a transaction
  would declare a WITH HOLD cursor that a later FETCH, on another server
  connection, would not find; a JSON signatory export then holds its rows
  in memory, the CSV one streams through COPY as before).

What else transaction pooling could break, and why it does not here:
- session-level advisory locks, LISTEN/NOTIFY, temporary tables: none are
  used (periodic work is made single by Redis, not by the database);
- `SET` outside a transaction: only Django's `SET TIME ZONE 'UTC'` on a new
  connection, and only when the server's TimeZone is not UTC; PgBouncer
  tracks TimeZone (a reported parameter) per client and sets it again on
  every server connection it lends, so it holds (a UTC server makes none);
- `SELECT ... FOR UPDATE SKIP LOCKED` claims, the count fold's
  `DELETE ... RETURNING`, moderation's `select_for_update().iterator()`:
  each inside `transaction.atomic()`, one server connection throughout;
- the signatory CSV export's COPY: one statement in autocommit is one
  transaction, and PgBouncer lends the server connection until the server
  is idle again (ReadyForQuery after the COPY), so the COPY streams whole;
- the pool's health check is an empty query; psycopg's BEGIN carries any
  isolation level with it.
"""

from __future__ import annotations

import copy
from math import ceil
from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured
from psycopg_pool import ConnectionPool

from speed.dbpool import check_unless_recent, retry_connections_every_second

POSTGRES_ENGINES = {"django.db.backends.postgresql", "django.db.backends.postgresql_psycopg2"}
REPLICA = "replica"
# The router that sends public reads to the replica (set only with one).
REPLICA_ROUTER = "config.db_router.ReplicaRouter"


def databases(
    env: environ.Env, *, var_dir: Path, speed: dict[str, bool], pgbouncer: bool
) -> dict[str, dict[str, Any]]:
    """DATABASES: "default", and "replica" when DATABASE_REPLICA_URL is set."""
    default: dict[str, Any] = env.db("DATABASE_URL", default=f"sqlite:///{var_dir / 'db.sqlite3'}")
    replica_url: str = env.str("DATABASE_REPLICA_URL", default="")
    if default["ENGINE"] not in POSTGRES_ENGINES:
        if replica_url:
            raise ImproperlyConfigured("DATABASE_REPLICA_URL needs a PostgreSQL DATABASE_URL.")
        _sqlite(default, var_dir)
        return {"default": default}
    url_options = copy.deepcopy(default.get("OPTIONS", {}))
    _postgres(default, env, speed=speed, pgbouncer=pgbouncer)
    default.setdefault("TEST", {})["NAME"] = env.str("TEST_DATABASE_NAME", default=None)
    result = {"default": default}
    if replica_url:
        replica: dict[str, Any] = env.db_url_config(replica_url)
        if replica["ENGINE"] not in POSTGRES_ENGINES:
            raise ImproperlyConfigured("DATABASE_REPLICA_URL must name a PostgreSQL server.")
        replica["OPTIONS"] = {**url_options, **replica.get("OPTIONS", {})}
        _postgres(replica, env, speed=speed, pgbouncer=pgbouncer)
        wait = env.float("DATABASE_REPLICA_TIMEOUT", default=1.0)
        if "pool" in replica["OPTIONS"]:
            replica["OPTIONS"]["pool"]["timeout"] = wait
        # libpq counts whole seconds and takes 2 as its least.
        replica["OPTIONS"].setdefault("connect_timeout", max(2, ceil(wait)))
        replica["TEST"] = {"MIRROR": "default"}
        result[REPLICA] = replica
    return result


def _postgres(
    db: dict[str, Any], env: environ.Env, *, speed: dict[str, bool], pgbouncer: bool
) -> None:
    db["ENGINE"] = "django.db.backends.postgresql"
    options: dict[str, Any] = db.setdefault("OPTIONS", {})
    # Server-side prepared statements, used only by the sign INSERT and the
    # "sent" UPDATE (Django's own cursors bind on the client and never
    # prepare).  Never behind a pooler that cannot keep them.
    if pgbouncer:
        options["prepare_threshold"] = None
        db["DISABLE_SERVER_SIDE_CURSORS"] = True
    elif speed["DATABASE_PREPARED_STATEMENTS"]:
        options.setdefault("prepare_threshold", 5)
    if env.bool("DATABASE_POOL", default=True):
        # After an outage, reconnect within a second, not after a doubling
        # backoff (speed/dbpool.py, tests/cluster/test_pgbouncer_restart.py).
        retry_connections_every_second()
        options["pool"] = {
            # Check a pooled connection before handing it out, so a database
            # restart costs no failed request; not one handed out within the
            # last second (speed/dbpool.py: a round trip per request saved).
            "check": check_unless_recent
            if speed["DATABASE_POOL_SKIP_RECENT_CHECK"]
            else ConnectionPool.check_connection,
            "min_size": env.int("DATABASE_POOL_MIN", default=1),
            "max_size": env.int("DATABASE_POOL_MAX", default=8),
            "timeout": env.int("DATABASE_POOL_TIMEOUT", default=10),
        }
    else:
        db["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
        db["CONN_HEALTH_CHECKS"] = True


def _sqlite(db: dict[str, Any], var_dir: Path) -> None:
    var_dir.mkdir(parents=True, exist_ok=True)
    options: dict[str, Any] = db.setdefault("OPTIONS", {})
    # WAL and a busy timeout let the dev server and in-process tasks share the file.
    options.setdefault("timeout", 20)
    options.setdefault("init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
    options.setdefault("transaction_mode", "IMMEDIATE")
