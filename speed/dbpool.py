"""The database pool's health check, without a round trip for a connection
that is plainly alive.

psycopg_pool's `check_connection` costs a round trip to PostgreSQL at every
checkout, that is on every request (Django returns the connection at the
end of each one); under load that is a quarter of a sign POST's database
time.  What the check is for is connections the server has dropped (a
restart, `pg_terminate_backend`, an idle timeout): the server then sends an
error and closes the socket, so the socket turns readable, which a zero-
timeout poll sees without any traffic.  An idle, healthy connection has
nothing to read.  So: a real check when the socket is readable, or when
the connection was last handed out more than RECENT seconds ago (a peer
that vanished without closing, e.g. a network cut, shows nothing to poll);
otherwise none.

(Recording the return instead of the hand-out would need the pool's
`reset` callback, which makes psycopg_pool hand every returned connection to
a background thread.)
"""

from __future__ import annotations

import select
import time
import weakref
from typing import Any

from psycopg_pool import ConnectionPool

RECENT = 1.0  # seconds

_handed_out_at: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()


def _socket_readable(conn: Any) -> bool:
    try:
        readable, _w, _x = select.select([conn.pgconn.socket], [], [], 0)
    except (OSError, ValueError, AttributeError):  # closed, or no socket at all
        return True
    return bool(readable)


def check_unless_recent(conn: Any) -> None:
    """`check` callback: a round trip only for connections that may be dead."""
    now = time.monotonic()
    last = _handed_out_at.get(conn)
    if last is None or now - last >= RECENT or _socket_readable(conn):
        ConnectionPool.check_connection(conn)  # raises if the connection is bad
    _handed_out_at[conn] = now


def retry_connections_every_second() -> None:
    """Make every pool retry a failed connection about once a second.

    psycopg_pool waits 1 s after a failed connection attempt, then doubles
    the wait after each further failure, up to `reconnect_timeout` (5
    minutes).  After a database or PgBouncer outage of a few seconds, a
    process whose pool failed several times meanwhile (a /healthz check
    every second is enough) next tries only 8 or 16 s later, and its
    requests wait the pool's timeout (DATABASE_POOL_TIMEOUT, 10 s) and fail
    long after the database is back (seen in tests/cluster: a POST answered
    500 after 10 s, 4 s after PgBouncer restarted).  A retry per second per
    process is cheap; recovering as soon as the server answers is what
    matters.  `AttemptWithBackoff` is psycopg_pool's own class (its
    `DELAY_BACKOFF` a class attribute, meant to be tuned)."""
    from psycopg_pool.base import AttemptWithBackoff

    AttemptWithBackoff.DELAY_BACKOFF = 1.0
