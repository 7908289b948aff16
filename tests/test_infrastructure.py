"""The two infrastructure shortcuts the hot paths rely on, against the real
Redis and PostgreSQL: one Redis client per pool (not one per cache call),
and the pool's health check skipped only for connections just handed out."""

from __future__ import annotations

import time
import uuid

import psycopg
import pytest
from django.db import connection

from speed import dbpool
from speed.redis_client import RedisCache


def test_cache_calls_share_one_redis_client_and_still_round_trip(settings):
    # The trick itself (speed/redis_client.py), whatever REDIS_CLIENT_SHARED says.
    prefix = f"infra-{uuid.uuid4().hex}"
    cache = RedisCache(settings.CACHES["default"]["LOCATION"], {"KEY_PREFIX": prefix})
    backend = cache._cache
    first = backend.get_client(write=True)

    cache.set("infra:k", {"v": 1}, timeout=30)

    assert backend.get_client(write=True) is first
    assert cache.get("infra:k") == {"v": 1}
    assert cache.add("infra:k", 2) is False
    assert cache.add("infra:n", 0) is True
    assert cache.incr("infra:n") == 1


@pytest.fixture
def raw_connection(db):
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("pool", None)
    conn = psycopg.connect(**params)
    yield conn
    conn.close()


def test_a_connection_idle_a_while_is_checked_and_a_dead_one_refused(raw_connection, monkeypatch):
    dbpool.check_unless_recent(raw_connection)  # never seen: checked, fine
    dbpool.check_unless_recent(raw_connection)  # handed out just now: trusted, no round trip
    raw_connection.close()  # gone for good

    later = time.monotonic() + dbpool.RECENT + 1
    monkeypatch.setattr(dbpool.time, "monotonic", lambda: later)
    with pytest.raises(psycopg.Error):
        dbpool.check_unless_recent(raw_connection)  # idle over a second: checked


def test_a_connection_the_server_dropped_is_checked_even_if_just_used(raw_connection):
    dbpool.check_unless_recent(raw_connection)
    pid = raw_connection.info.backend_pid
    with psycopg.connect(raw_connection.info.dsn, password=raw_connection.info.password) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])  # as a restart does
    deadline = time.monotonic() + 5
    while not dbpool._socket_readable(raw_connection) and time.monotonic() < deadline:
        time.sleep(0.01)

    with pytest.raises(psycopg.Error):
        dbpool.check_unless_recent(raw_connection)  # the poll saw it: checked at once
