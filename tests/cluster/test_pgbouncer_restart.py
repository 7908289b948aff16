"""PgBouncer is restarted (stopped hard: every client and server connection
through it cut, then started again on the same port) under a running
site: within 10 s of the stop, without any manual step, the site answers
correctly again through HAProxy: a public page, a page read from the
primary (a signer's emailed link), and a sign POST (a write).

Every site process holds pooled connections to PgBouncer, all dead after
the restart; the pool's check before handing one out (speed/dbpool.py) and
its reconnection are what heal them.  The recovery time is printed."""

from __future__ import annotations

import itertools
import time

from bench.client import get_status, request
from bench.cluster import DEMO_SLUG, Cluster
from tests.cluster.conftest import ClusterSink, confirm, sign, signatures, wait_until

RECOVERY = 10.0
IN_A_ROW = 4  # good rounds in a row: both nodes, both workers each, seen healthy


def test_site_recovers_within_10_s_of_a_pgbouncer_restart(
    cluster: Cluster, sink: ClusterSink
) -> None:
    # Every process holds pooled connections through PgBouncer now.
    before = [f"pgbouncer-before-{i}@example.org" for i in range(8)]
    for address in before:
        assert sign(cluster.url, address).status == 302
    link = sink.wait_for(before[0], timeout=30)[0].link("/s/")
    assert get_status(cluster.url, link) == 200

    stopped_at = time.monotonic()
    cluster.restart_pgbouncer()
    back_after = time.monotonic() - stopped_at

    probes = itertools.count(1)
    rounds: list[tuple[float, tuple[int, int, int, int]]] = []
    signed: list[str] = []

    def healthy_round() -> bool:
        n = next(probes)
        address = f"pgbouncer-after-{n}@example.org"
        page = request(cluster.url, "GET", f"/letters/{DEMO_SLUG}/", timeout=10)
        answers = (
            page.status if b"Northwind" in page.body else -page.status,
            # A letter page never asked for: only a query that worked says 404.
            get_status(cluster.url, f"/letters/no-such-letter-{n}/", timeout=10),
            # The signer's link: read from the primary, through PgBouncer.
            get_status(cluster.url, link, timeout=10),
            sign(cluster.url, address, timeout=10).status,
        )
        if answers[3] == 302:
            signed.append(address)
        rounds.append((time.monotonic() - stopped_at, answers))
        good = [answers == (200, 404, 200, 302) for _t, answers in rounds[-IN_A_ROW:]]
        return len(good) == IN_A_ROW and all(good)

    wait_until(
        healthy_round,
        timeout=RECOVERY + 10,
        what=f"{IN_A_ROW} good rounds in a row; got {rounds}",
        interval=0.05,
    )
    recovered_after = rounds[-IN_A_ROW][0]
    failures = [(round(t, 2), answers) for t, answers in rounds if answers != (200, 404, 200, 302)]
    print(
        f"\nPgBouncer back {back_after:.2f} s after the stop; the site answered correctly "
        f"again {recovered_after:.2f} s after the stop ({len(rounds)} rounds, "
        f"failed rounds: {failures})"
    )
    assert recovered_after < RECOVERY

    # The signs answered 302 are stored, once each; the last one confirms
    # (a read and a write on the primary, through PgBouncer).
    rows = signatures(cluster, *signed)
    assert [row["email"] for row in rows] == sorted(signed)
    last = signed[-1]
    done = confirm(cluster.url, sink.wait_for(last, timeout=30)[0].link("/s/"))
    assert done.status == 200, done.body[:300]
    assert signatures(cluster, last)[0]["status"] == "confirmed"
