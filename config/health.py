"""`/healthz`: whether this web node can serve, for the load balancer.

    200 {"status":"ok","database":"ok","redis":"ok","replica":"ok"}
    503 {"status":"fail","database":"fail","redis":"ok","replica":"lagging"}

- database: one `SELECT 1` on the primary through this process's pool;
- redis: one PING through the cache's own client ("none" without Redis:
  the embedded default's in-process cache);
- replica: what this process believes (`letters.replica_health.status`:
  "ok", "lagging", "down", or "none" without one), probing it if its
  last probe is older than REPLICA_CHECK_INTERVAL (one more query on each
  database; a stopped replica costs at most DATABASE_REPLICA_TIMEOUT, once
  per REPLICA_RETRY).  It never makes the answer 503: public reads fall
  back to the primary.

Bounded in time: the three checks run at once, each in its own thread, and
the answer is given after HEALTHZ_TIMEOUT (1 s) at most; a check not done
by then counts as failed ("down" for the replica).  A check still stuck
from an earlier request is not started again (one thread per check per
process): the next request answers "fail" for it at once.  Without this,
an unreachable database (the pool waits DATABASE_POOL_TIMEOUT, 10 s,
and PgBouncer up to its query_wait_timeout) kept a sync worker per check
long after the load balancer gave up on it, and a check every second
took every worker of every node (tests/cluster/test_fail_open.py).

503 when the database or Redis fails.  The answer says nothing else: no
letter, signer, version, host name, lag figure or error text (failures go
to the log), and the body has the same shape whatever happens.

Cheap and plain: GET and HEAD only (anything else is 405; a POST without a
CSRF token is refused with 403 first, as on every page:
tests/security/test_csrf.py), no session, no CSRF cookie, no cookie at
all, never cached (`private, no-store`, config/middleware.py), not rate
limited, no language prefix, exempt from the HTTPS redirect
(SECURE_REDIRECT_EXEMPT: the check speaks plain HTTP to the node), and
through the short middleware chain (`same_for_everyone`).  Like every
request it must name an allowed host: the check sends a `Host` header in
ALLOWED_HOSTS (or none, when the node's bind address is allowed).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from letters import replica_health
from letters.http import same_for_everyone

logger = logging.getLogger(__name__)

OK, FAIL, NONE = "ok", "fail", "none"

# Seconds the answer may wait for its checks (HAProxy's `timeout check`
# must be longer: the cluster uses 2 s).
HEALTHZ_TIMEOUT = 1.0

_running: dict[str, threading.Thread] = {}
_running_lock = threading.Lock()


class _Check:
    """One check run in its own daemon thread; `result` once it is done."""

    def __init__(self, name: str, check: Callable[[], str]) -> None:
        self.name = name
        self.check = check
        self.result: str | None = None
        self.thread = threading.Thread(target=self._run, name=f"healthz-{name}", daemon=True)

    def _run(self) -> None:
        try:
            self.result = self.check()
        finally:
            # The thread's own database connections (Django's are per
            # thread): back to the pool, or closed.
            connections.close_all()

    def start(self) -> bool:
        """Start, unless this check's previous run is still going (stuck)."""
        with _running_lock:
            previous = _running.get(self.name)
            if previous is not None and previous.is_alive():
                return False
            _running[self.name] = self.thread
        self.thread.start()
        return True


def bounded(
    checks: dict[str, Callable[[], str]], *, timeout: float, late: dict[str, str]
) -> dict[str, str]:
    """Run `checks` at once, each in its own thread; their results after
    `timeout` seconds at most, `late[name]` for one not done by then (or
    still stuck from an earlier call, which is not started again)."""
    deadline = time.monotonic() + timeout
    runs = {name: _Check(name, check) for name, check in checks.items()}
    started = {name: run.start() for name, run in runs.items()}
    results: dict[str, str] = {}
    for name, run in runs.items():
        if started[name]:
            run.thread.join(max(0.0, deadline - time.monotonic()))
        if run.result is None:
            logger.warning("healthz: the %s check did not answer within %.1f s", name, timeout)
        results[name] = run.result if run.result is not None else late[name]
    return results


def database_state() -> str:
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.warning("healthz: the database did not answer", exc_info=True)
        return FAIL
    return OK


def redis_state(cache: object | None = None) -> str:
    """`cache`: the request thread's cache (Django's caches are per thread:
    a check thread of its own would build a new client, and connections,
    every time)."""
    cache = caches["default"] if cache is None else cache
    if not isinstance(cache, RedisCache):
        return NONE
    try:
        cache._cache.get_client(write=True).ping()
    except Exception:  # any failure of Redis is a failed check
        logger.warning("healthz: Redis did not answer", exc_info=True)
        return FAIL
    return OK


@same_for_everyone("GET")
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    cache = caches["default"]  # this thread's client, shared with the check's thread
    found = bounded(
        {
            "database": database_state,
            "redis": lambda: redis_state(cache),
            "replica": replica_health.status,
        },
        timeout=HEALTHZ_TIMEOUT,
        late={"database": FAIL, "redis": FAIL, "replica": replica_health.DOWN},
    )
    database, redis, replica = found["database"], found["redis"], found["replica"]
    healthy = database == OK and redis != FAIL
    body = {
        "status": OK if healthy else FAIL,
        "database": database,
        "redis": redis,
        "replica": replica,
    }
    return HttpResponse(
        json.dumps(body, separators=(",", ":")).encode(),
        content_type="application/json",
        status=200 if healthy else 503,
    )
