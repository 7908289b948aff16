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
from django.conf import settings
from django.db import connection
from django.db.models import Field


def typed_param(field: Field[Any, Any], vendor: str) -> str:
    """The placeholder for a value of `field` in a prepared statement: with
    its type on PostgreSQL.  Text is cast to `text`, never `varchar(n)`: an
    explicit cast to `varchar(n)` would cut an over-long value instead of
    refusing it."""
    if vendor != "postgresql":
        return "%s"
    text = field.get_internal_type() in ("CharField", "TextField")
    return f"CAST(%s AS {'text' if text else field.db_type(connection)})"


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
    if connection.vendor != "postgresql" or not settings.SPEED["DATABASE_PREPARED_STATEMENTS"]:
        return connection.cursor()
    connection.ensure_connection()
    raw: Any = _PreparedCursor(connection.connection)
    if connection.queries_logged:
        return connection.make_debug_cursor(raw)
    return connection.make_cursor(raw)
