"""Whether the replica may serve public reads now, as this process knows it.

Asked by `letters.replica.public_reads` (before a public copy is built)
and by `/healthz`; never on any other path.  Per process, at most once
every REPLICA_CHECK_INTERVAL seconds, one probe measures how far the
replica is behind the primary:

1. the primary's WAL insert position X (`pg_current_wal_insert_lsn()`, on
   "default"), then
2. on the replica, in one statement: whether it is in recovery, whether it
   has replayed X, and the age of the last commit it replayed
   (`now() - pg_last_xact_replay_timestamp()`).

Its lag is then

- 0 if it has replayed X: everything committed on the primary before the
  probe began is on the replica.  This is the idle primary: the last
  replayed commit may be hours old, yet nothing is missing;
- else the age of its last replayed commit: replay runs in commit order,
  so every commit it lacks is younger than that.  A replica whose WAL
  receiver is disconnected (or not streaming, or silently cut off) is
  covered without asking `pg_stat_wal_receiver`: with nothing committed
  since, it has X (fresh, truly); with anything committed, it lacks X and
  its last commit ages until it passes REPLICA_MAX_LAG.  A replica that
  has replayed no commit since it started, and lacks X: unknown, not fresh;
- 0 if the server is not in recovery at all: the URL names a primary (in
  tests, the alias mirrors "default").

The replica serves reads ("ok") while the last probe, begun at most
REPLICA_CHECK_INTERVAL seconds ago, found a lag of at most REPLICA_MAX_LAG
seconds; else "lagging" (reads go to the primary until a probe finds it
fresh again).  So data read from the replica at time t lacks no commit
made before t - REPLICA_MAX_LAG - REPLICA_CHECK_INTERVAL (the lag found,
plus the time since the probe began; commit timestamps are the primary's
clock, `now()` the replica's: on separate hosts their offset adds).

A probe that fails on the replica (any database error), or a public read
that fails there (OperationalError, InterfaceError: stopped, unreachable,
a pool timeout: letters/replica.py), marks it "down" for
REPLICA_RETRY seconds: its connections are dropped (this thread's, and the
process's pool, so that no reconnection backoff outlives the outage) and
no probe is made until then; the first public build after that probes
again, and reads go back to it as soon as it answers fresh.
"""

from __future__ import annotations

import logging
import threading
import time
from contextlib import suppress
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

from config.database import REPLICA

logger = logging.getLogger(__name__)

OK, LAGGING, DOWN, NONE = "ok", "lagging", "down", "none"

PRIMARY_POSITION_SQL = "SELECT pg_current_wal_insert_lsn()::text"
# "Has replayed X" (r.lsn: its replay position, the end of the last record
# it replayed; x.lsn: X): at X or beyond; or at the start of a WAL page,
# with X no further than that page's header.  The insert position of an
# idle primary whose last record ended a page names the byte after the
# next page's header (24 bytes, 40 at a segment's start), which no replica
# ever reaches; and no record is shorter than 24 bytes, so nothing lies
# between.  (Seen on a replica fresh from pg_basebackup: 0/3000000 against
# 0/3000028.)
CAUGHT_UP_SQL = (
    "r.lsn >= x.lsn OR (pg_wal_lsn_diff(r.lsn, '0/0') %% "
    "current_setting('wal_block_size')::numeric = 0 AND pg_wal_lsn_diff(x.lsn, r.lsn) <= 40)"
)
REPLICA_LAG_SQL = (  # constants only
    "SELECT pg_is_in_recovery(), "  # noqa: S608
    f"COALESCE({CAUGHT_UP_SQL}, false), "
    "EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8 "
    "FROM (SELECT pg_last_wal_replay_lsn() AS lsn) AS r, (SELECT %s::pg_lsn AS lsn) AS x"
)


@dataclass(frozen=True)
class Probe:
    """What one probe found on the replica."""

    in_recovery: bool
    replayed_primary_position: bool  # has replayed the primary's position read just before
    last_commit_age: float | None  # seconds since its last replayed commit; None: none yet


def lag_of(probe: Probe) -> float | None:
    """How many seconds of the primary's commits the replica may lack
    (None: unknown).  The module's docstring says why."""
    if not probe.in_recovery or probe.replayed_primary_position:
        return 0.0
    return probe.last_commit_age


def verdict(probe: Probe, max_lag: float) -> str:
    lag = lag_of(probe)
    return OK if lag is not None and lag <= max_lag else LAGGING


@dataclass
class _Known:
    """This process's belief; replaced whole, under `_lock`."""

    state: str = LAGGING  # nothing known yet: not fresh
    checked_at: float = float("-inf")  # monotonic time the last probe began
    down_until: float = float("-inf")


_known = _Known()
_lock = threading.Lock()  # guards `_known`
_probing = threading.Lock()  # one probe at a time; others do not wait for it


def configured() -> bool:
    return REPLICA in connections.settings


def status(*, probe: bool = True) -> str:
    """The replica's state as this process knows it: "ok", "lagging",
    "down" or "none" (no replica configured), probing first if the last
    probe is older than REPLICA_CHECK_INTERVAL (and the replica is not
    given up) unless `probe` is False.  Never raises."""
    if not configured():
        return NONE
    now = time.monotonic()
    with _lock:
        known = _known
    if known.state == DOWN and now < known.down_until:
        return DOWN
    if known.state != DOWN and now < known.checked_at + settings.REPLICA_CHECK_INTERVAL:
        return known.state
    if not probe or not _probing.acquire(blocking=False):
        # Another thread is probing: what was known is no longer vouched for.
        return DOWN if known.state == DOWN else LAGGING
    try:
        return _check()
    finally:
        _probing.release()


def usable() -> bool:
    """Whether public reads may go to the replica now (probing if due)."""
    return status() == OK


def _check() -> str:
    global _known
    began = time.monotonic()
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute(PRIMARY_POSITION_SQL)
            (position,) = cursor.fetchone()
    except DatabaseError:
        # The primary's trouble, not the replica's: it cannot be vouched for.
        logger.warning("replica probe: the primary did not answer", exc_info=True)
        with _lock:
            _known = _Known(state=LAGGING, checked_at=began)
        return LAGGING
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute(REPLICA_LAG_SQL, [position])
            in_recovery, replayed, age = cursor.fetchone()
    except DatabaseError:
        logger.warning("replica probe failed: reading from the primary", exc_info=True)
        mark_down()
        return DOWN
    probe = Probe(
        in_recovery=bool(in_recovery),
        replayed_primary_position=bool(replayed),
        last_commit_age=None if age is None else float(age),
    )
    state = verdict(probe, settings.REPLICA_MAX_LAG)
    if state != OK:
        logger.info("replica lagging (%s s): reading from the primary", lag_of(probe))
    with _lock:
        _known = _Known(state=state, checked_at=began)
    return state


def mark_down() -> None:
    """Give the replica up for REPLICA_RETRY seconds in this process, and
    drop its connections (a broken one must not be handed out again, and
    the pool's reconnection backoff must not delay its return)."""
    global _known
    with _lock:
        _known = _Known(state=DOWN, down_until=time.monotonic() + settings.REPLICA_RETRY)
    if not configured():
        return
    wrapper = connections[REPLICA]
    with suppress(DatabaseError):
        wrapper.close()
    pools = getattr(type(wrapper), "_connection_pools", {})
    pool = pools.pop(REPLICA, None)
    if pool is not None:
        # Connections in use elsewhere are closed when they are returned.
        with suppress(Exception):
            pool.close(timeout=1.0)


def record(probe: Probe) -> str:
    """Take `probe` as this process's latest knowledge (a probe made
    elsewhere; tests of the lag rule).  Returns the verdict."""
    global _known
    state = verdict(probe, settings.REPLICA_MAX_LAG)
    with _lock:
        _known = _Known(state=state, checked_at=time.monotonic())
    return state


def forget() -> None:
    """Know nothing: the next question probes (tests, a changed configuration)."""
    global _known
    with _lock:
        _known = _Known()
