"""The two infrastructure shortcuts the hot paths rely on, against the real
Redis and PostgreSQL: one Redis client per pool (not one per cache call),
and the pool's health check skipped only for connections just handed out."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import uuid

import psycopg
import pytest
from django.db import connection
from psycopg_pool import ConnectionPool

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


def _relay(listen_port: int, to_port: int) -> socket.socket:
    """A TCP relay 127.0.0.1:listen_port -> 127.0.0.1:to_port (the shared
    PostgreSQL), in daemon threads: a database that comes back on a port."""
    server = socket.create_server(("127.0.0.1", listen_port))

    def pump(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def accept() -> None:
        with contextlib.suppress(OSError):
            while True:
                client, _addr = server.accept()
                upstream = socket.create_connection(("127.0.0.1", to_port))
                threading.Thread(target=pump, args=(client, upstream), daemon=True).start()
                threading.Thread(target=pump, args=(upstream, client), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return server


def test_a_pool_reconnects_within_a_second_or_so_after_a_long_outage():
    """psycopg_pool doubles its wait after each failed connection attempt;
    the site's pools retry about once a second instead
    (speed/dbpool.retry_connections_every_second), so after an outage of 8 s
    a process gets a connection about a second after the server is back,
    not at the next doubled attempt (~15 s after the outage began)."""
    settings_dict = connection.settings_dict
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    pool = ConnectionPool(
        f"host=127.0.0.1 port={port} dbname=postgres "
        f"user={settings_dict['USER'] or 'postgres'} connect_timeout=2",
        min_size=1,
        max_size=1,
        open=False,
    )
    pool.open(wait=False)
    relay = None
    try:
        time.sleep(8)  # nothing listens: the pool's attempts fail
        relay = _relay(port, int(settings_dict["PORT"] or 5432))
        back = time.monotonic()
        with pool.connection(timeout=10) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        assert time.monotonic() - back < 2.5
    finally:
        pool.close()
        if relay is not None:
            relay.close()
