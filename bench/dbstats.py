"""What the database did during a measurement, from PostgreSQL's own
statistics views: rows inserted, updated and deleted per table, the
database's commits, and the WAL written; and how big the signatures table
is.  For the writes per sign in `make bench` and `make bench-scaling`.

Table and database counters are the run's own database's (its backends
report them when a transaction ends, at most once a second while busy and
10 s after going idle: a snapshot waits `settle` seconds first).  The WAL position is the server's:
on the machine's shared server it counts other databases' writes too
(`wal_shared`), on a private cluster only the run's."""

from __future__ import annotations

import time
from typing import Any

import psycopg

TABLES_SQL = (
    "SELECT relname, n_tup_ins, n_tup_upd, n_tup_del, n_tup_hot_upd FROM pg_stat_user_tables"
)
# A busy backend reports its counters at most once a second, and one gone
# idle within 10 s of its last report only 10 s later (PostgreSQL 15's
# PGSTAT_IDLE_INTERVAL): the snapshot after a measurement waits that long.
IDLE_FLUSH_S = 11.0
DATABASE_SQL = (
    "SELECT xact_commit, xact_rollback, blks_read, blks_hit "
    "FROM pg_stat_database WHERE datname = current_database()"
)


def snapshot(url: str, *, settle: float = 1.5) -> dict[str, Any]:
    """The counters now (after `settle` s, for the backends to report)."""
    time.sleep(settle)
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        tables = {
            name: {"ins": ins, "upd": upd, "del": dele, "hot": hot}
            for name, ins, upd, dele, hot in conn.execute(TABLES_SQL).fetchall()
        }
        commits, rollbacks, read, hit = conn.execute(DATABASE_SQL).fetchone() or (0, 0, 0, 0)
        wal = conn.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn").fetchone()
    return {
        "tables": tables,
        "commits": int(commits),
        "rollbacks": int(rollbacks),
        "blocks_read": int(read),
        "blocks_hit": int(hit),
        "wal_bytes": int(wal[0]) if wal else 0,
    }


def per_operation(
    before: dict[str, Any], after: dict[str, Any], count: int, *, wal_shared: bool
) -> dict[str, Any]:
    """What changed between two snapshots, per operation (`count` of them):
    rows written per table (inserted, updated, deleted; the tables that
    changed), their sum, commits, WAL bytes."""
    n = max(1, count)
    tables: dict[str, dict[str, float]] = {}
    for name, now in after["tables"].items():
        then = before["tables"].get(name, {})
        delta = {key: now[key] - then.get(key, 0) for key in ("ins", "upd", "del", "hot")}
        if any(delta[key] for key in ("ins", "upd", "del")):
            tables[name] = {key: round(value / n, 3) for key, value in delta.items() if value}
    return {
        "operations": count,
        "rows_written": round(
            sum(t.get("ins", 0) + t.get("upd", 0) + t.get("del", 0) for t in tables.values()), 3
        ),
        "commits": round((after["commits"] - before["commits"]) / n, 3),
        "wal_bytes": round((after["wal_bytes"] - before["wal_bytes"]) / n),
        "wal_shared": wal_shared,
        "tables": dict(sorted(tables.items())),
    }


def table_size(url: str, table: str = "letters_signature") -> dict[str, float]:
    """The table's size with its indexes and TOAST, and the database's, in MB."""
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        row = conn.execute(
            "SELECT pg_total_relation_size(%s::regclass), pg_relation_size(%s::regclass), "
            "pg_indexes_size(%s::regclass), pg_database_size(current_database())",
            (table, table, table),
        ).fetchone()
    total, heap, indexes, database = row or (0, 0, 0, 0)
    mb = 1024 * 1024
    return {
        "table_mb": round(total / mb, 1),
        "heap_mb": round(heap / mb, 1),
        "indexes_mb": round(indexes / mb, 1),
        "database_mb": round(database / mb, 1),
    }
