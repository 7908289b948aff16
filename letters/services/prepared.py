"""Statements prepared once per database connection, for the hottest writes
(the sign INSERT, the "email sent" UPDATE).

Django's cursors bind parameters on the client and never prepare, so
PostgreSQL parses and plans every statement again.  A statement run through
`prepared_cursor()` is prepared on its first run on a connection and only
executed after that.  Every parameter must carry an explicit type (a CAST),
so that the prepared plan does not depend on the first values seen.
"""

from __future__ import annotations

from typing import Any

import psycopg
from django.db import connection


class _PreparedCursor(psycopg.Cursor[Any]):
    """A server-side binding cursor whose statements are prepared on their
    first run."""

    def execute(self, query: Any, params: Any = None, *, prepare: bool | None = True,
                binary: bool | None = None) -> Any:  # fmt: skip
        return super().execute(query, params, prepare=prepare, binary=binary)


def prepared_cursor() -> Any:
    """On PostgreSQL, a `_PreparedCursor` on Django's connection, wrapped as
    Django wraps its own (errors translated, queries logged when Django logs
    them: the query-budget tests count it).  Elsewhere (SQLite in `make
    run`), Django's own cursor."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    connection.ensure_connection()
    raw: Any = _PreparedCursor(connection.connection)
    if connection.queries_logged:
        return connection.make_debug_cursor(raw)
    return connection.make_cursor(raw)
