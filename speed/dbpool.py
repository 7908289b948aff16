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
