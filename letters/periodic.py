"""Periodic tasks: one run per interval, even with two beats.

Exactly one beat must run, but a second can be started by mistake (a
second host's supervisor, a deploy that overlaps the old one).  Then every
periodic task is sent twice per interval.  What keeps that correct is the
database, not this module: every periodic service is safe run twice in a
row or twice at once (each says why: conditional updates, row locks,
SKIP LOCKED claims, unique rows; letters/tests/test_periodic_once.py runs
each twice at once).  This module only saves the duplicate's work.

A run that beat sent (Celery marks its messages `celery_beat_task`) first
takes a key in Redis, `SET <prefix>:1:periodic:<task> NX PX <half the
task's interval>`; a run that finds the key taken is skipped, and says so
in the log.  Half the interval, not the whole minus a margin:

- whatever the phase between the two beats, runs that go are at least
  half an interval apart and at most one apart (each beat offers a run
  every interval), and in the steady state one run in two is skipped;
- a lone beat's run is skipped only if it comes half an interval early
  (its previous run was delayed that long in a backlog): runs are never
  further apart than an interval, so COUNT_INTERVAL still bounds a count;
- a run that lasts longer than half its interval may meet a duplicate:
  wasted work, never wrong.

The key is never deleted: it marks when the last run started, not that one
is running.  Runs not sent by beat (a direct call, `manage.py` commands,
`.delay()` by hand, tests) are never skipped.  With Redis down the run goes
ahead: correctness never depended on the key.
"""

from __future__ import annotations

import logging
import math
import os
import socket
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from celery import Task
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

BEAT_HEADER = "celery_beat_task"  # set by celery.beat.Scheduler.apply_async


def interval_of(task_name: str) -> float | None:
    """Seconds between runs of `task_name` in CELERY_BEAT_SCHEDULE (None: not
    periodic, or not at a fixed interval)."""
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        if entry["task"] == task_name:
            schedule: Any = entry["schedule"]
            schedule = getattr(schedule, "run_every", schedule)  # celery.schedules.schedule
            if isinstance(schedule, timedelta):
                return schedule.total_seconds()
            if isinstance(schedule, int | float):
                return float(schedule)
            return None  # a crontab: no fixed interval, no guard
    return None


def guard_key(task_name: str) -> str:
    """The cache key (the cache adds CACHE_KEY_PREFIX and its version)."""
    return f"periodic:{task_name}"


def _take(key: str, holder: str, ttl_ms: int) -> bool:
    """SET NX with a millisecond expiry on Redis; the cache's `add` elsewhere."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        client = backend._cache.get_client(write=True)
        return bool(client.set(backend.make_key(key), holder, px=ttl_ms, nx=True))
    return bool(backend.add(key, holder, timeout=max(1, math.ceil(ttl_ms / 1000))))


def first_in_interval(task_name: str) -> bool:
    """Take `task_name`'s run for the next half interval: False if another
    run took it already (skip this one); True otherwise, and True if the
    cache cannot answer (run: the database keeps it correct)."""
    interval = interval_of(task_name)
    if interval is None or interval <= 0:
        return True
    ttl_ms = max(1, int(interval * 500))
    holder = f"{socket.gethostname()}:{os.getpid()}"
    try:
        taken = _take(guard_key(task_name), holder, ttl_ms)
    except Exception:  # noqa: BLE001 -- no cache: run unguarded
        logger.warning("%s: cache unavailable, run without the once-per-interval guard", task_name)
        return True
    if not taken:
        logger.warning(
            "%s: skipped, another run started less than %.1f s ago "
            "(a second beat, or runs delayed in a backlog)",
            task_name,
            ttl_ms / 1000,
        )
    return taken


def sent_by_beat(request: Any) -> bool:
    """Did beat send this run?  On a worker Celery's message headers are
    attributes of the request; an eager run keeps them in `headers`."""
    if getattr(request, BEAT_HEADER, False):
        return True
    headers = getattr(request, "headers", None)
    return isinstance(headers, dict) and bool(headers.get(BEAT_HEADER))


def once_per_interval[R](task: Task, run: Callable[[], R]) -> R | None:
    """`run()`, unless beat sent this run and another took the interval
    (then None)."""
    if sent_by_beat(task.request) and not first_in_interval(task.name):
        return None
    return run()
