"""The database pool's health check, skipped for connections just used.

psycopg_pool's `check_connection` costs a round trip to PostgreSQL at every
checkout, that is on every request (Django returns the connection at the
end of each one).  Under load that round trip is a quarter of a sign POST's
database time.  A connection handed out less than RECENT seconds ago (and
returned since, not broken: psycopg marks a connection broken on a failed
query and the pool discards it) was working then; only the others are
checked, which still covers what the check is for: connections left idle
in the pool across a database restart.

(Recording the return instead would need the pool's `reset` callback, which
makes psycopg_pool hand every returned connection to a background thread.)
"""

from __future__ import annotations

import time
import weakref
from typing import Any

from psycopg_pool import ConnectionPool

RECENT = 1.0  # seconds

_handed_out_at: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()


def check_unless_recent(conn: Any) -> None:
    """`check` callback: a round trip only for connections idle a while."""
    now = time.monotonic()
    last = _handed_out_at.get(conn)
    if last is None or now - last >= RECENT:
        ConnectionPool.check_connection(conn)  # raises if the connection is bad
    _handed_out_at[conn] = now
