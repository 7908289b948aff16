"""Public reads from the replica: the context the database router obeys.

With a replica configured (DATABASE_REPLICA_URL, config/database.py), the
router (config/db_router.py) sends a read to it only inside
`public_reads()` (or a function wrapped with `reads_from_replica`), and
only while `letters.replica_health` believes it fresh.
Everything else reads from the primary ("default"), so whoever writes
reads their own writes: organisers' pages, a signer's token pages, the
leadership page, internal letters' gated pages, every POST, every Celery
task, and anything inside a transaction (`transaction.atomic()`, hence
every `select_for_update`, which Django also routes as a write).  Writes
always go to the primary; migrations run only there.

The public reads are the builds of the shared copies of
`letters.http.public_response` (the letter page, its signatories, the
index, a group's page, the widget, the Atom feed, the API's letters,
sitemap.xml, the share card): the same bytes for everyone, already
allowed to be COUNT_INTERVAL seconds old.  How stale a public answer may
be, at most, relative to the primary:

    COUNT_INTERVAL + REPLICA_MAX_LAG + REPLICA_CHECK_INTERVAL seconds
    (5 + 5 + 2 = 12 by default),

plus the time one build takes: a copy is served until COUNT_INTERVAL
after it was built (the page cache, both tiers: letters/http.py), and it
was built from a replica lacking no commit older than REPLICA_MAX_LAG +
REPLICA_CHECK_INTERVAL (letters/replica_health.py); on the primary the bound is
COUNT_INTERVAL alone.  (HTTP caches downstream may keep an answer longer,
as its Cache-Control allows; that is not the site's to bound.)

All reads of one build come from the one database chosen when it began,
so a page never mixes the replica's past with the primary's present
(counts in particular: folded stats and unfolded deltas must be read from
the same database, letters/selectors/counts.py).  If the replica fails
during a build, it is marked down (letters/replica_health.py) and the build runs
again on the primary: the public page answers as if there were no replica.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps

from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections

from config.database import REPLICA
from letters import replica_health

logger = logging.getLogger(__name__)

# The database this context's reads go to; None: no public-read context.
_reads_from: ContextVar[str | None] = ContextVar("reads_from", default=None)


def reading_from() -> str:
    """The database reads go to here and now: the router's answer for
    every read (config/db_router.py)."""
    alias = _reads_from.get()
    if alias is None or connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return DEFAULT_DB_ALIAS
    return alias


@contextmanager
def public_reads() -> Iterator[str]:
    """Reads inside go to the replica if it is configured and fresh now
    (`letters.replica_health.usable`, which probes at most every
    REPLICA_CHECK_INTERVAL seconds), else to the primary; yields the alias
    chosen.  Only for reads that are the same for everyone and may be as
    stale as the module's docstring says.  Inside a transaction, or inside
    another public-read context, nothing changes."""
    outer = _reads_from.get()
    if outer is not None:
        yield outer
        return
    use_replica = (
        replica_health.configured()
        and not connections[DEFAULT_DB_ALIAS].in_atomic_block
        and replica_health.usable()
    )
    alias = REPLICA if use_replica else DEFAULT_DB_ALIAS
    token = _reads_from.set(alias)
    try:
        yield alias
    finally:
        _reads_from.reset(token)


@contextmanager
def primary_reads() -> Iterator[None]:
    """Reads inside go to the primary, even inside `public_reads()`."""
    token = _reads_from.set(DEFAULT_DB_ALIAS)
    try:
        yield
    finally:
        _reads_from.reset(token)


def reads_from_replica[**P, T](build: Callable[P, T]) -> Callable[P, T]:
    """`build` (a public copy's builder) with its reads in `public_reads()`.

    If a query on the replica fails (OperationalError, InterfaceError: the
    replica stopped or cannot be reached), the replica is marked down for
    REPLICA_RETRY seconds in this process and `build` runs again, reading
    from the primary, so that the public page still answers.  `build` must
    only read (it may run twice)."""

    @wraps(build)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> T:
        with public_reads() as alias:
            if alias != REPLICA:
                return build(*args, **kwargs)
            try:
                return build(*args, **kwargs)
            except (OperationalError, InterfaceError):
                logger.warning(
                    "replica failed during a build: reading from the primary", exc_info=True
                )
                replica_health.mark_down()
        with primary_reads():
            return build(*args, **kwargs)

    return wrapped
