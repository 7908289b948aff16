"""HAProxy fails open: when /healthz fails on every node at once (a shared
service down: here PgBouncer, so the primary is unreachable), HAProxy
takes every node out and then routes to the same nodes listed again as
unchecked backups (`node1-open`...) instead of answering 503 itself, so
whatever needs no database (static files; cached pages while fresh) is
still served.

For that the nodes must have workers free: /healthz must fail fast (within
HAProxy's `timeout check`, 2 s) when the database is unreachable.  A
check that waits longer keeps a sync worker busy after HAProxy gave up on
it, and with a check every second the checks alone occupy every worker
of every node for the whole outage (seen here: static files answered 504
after 30 s)."""

from __future__ import annotations

import re
import time

from bench.client import get_status, request
from bench.cluster import DEMO_SLUG, Cluster

CHECK_TIMEOUT = 2.0  # HAProxy's `timeout check` (bench/cluster_services.py)


def test_haproxy_fails_open_when_every_node_fails_its_health_check(cluster: Cluster) -> None:
    page = request(cluster.url, "GET", f"/letters/{DEMO_SLUG}/")
    found = re.search(rb'href="(/static/[^"]+\.css)"', page.body)
    assert found is not None
    stylesheet = found.group(1).decode()
    assert get_status(cluster.url, stylesheet) == 200

    cluster.stop_pgbouncer()
    stopped_at = time.monotonic()
    try:
        # The check fails, and fast (else it holds a worker after HAProxy gave up).
        health = request(cluster.node_url(1), "GET", "/healthz", timeout=30)
        print(
            f"\n/healthz with the database unreachable: {health.status} in {health.seconds:.2f} s"
        )
        assert health.status == 503
        assert health.seconds < CHECK_TIMEOUT
        for n in cluster.node_ports:
            cluster.wait_state(f"node{n}", "DOWN", timeout=15)
        down_after = time.monotonic() - stopped_at
        answers = [request(cluster.url, "GET", stylesheet) for _ in range(6)]
        print(
            f"every node DOWN {down_after:.1f} s after PgBouncer stopped; a static file "
            f"through HAProxy: {[a.status for a in answers]}, "
            f"{max(a.seconds for a in answers):.2f} s at most"
        )
        assert [a.status for a in answers] == [200] * 6
        assert max(a.seconds for a in answers) < CHECK_TIMEOUT
        assert {cluster.server_state(f"node{n}-open") for n in cluster.node_ports} == {"no check"}
    finally:
        cluster.start_pgbouncer()
    for n in cluster.node_ports:
        cluster.wait_state(f"node{n}", "UP", timeout=30)
