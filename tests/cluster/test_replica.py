"""The streaming replica serves public reads, and only those:

1. a signer's token page, the organiser's pages and the sign POST never
   read from the replica (read-your-writes), while a public page built
   meanwhile does (the replica's own statement log, log_statement=all, is
   the witness);
2. the replica stopped: public pages and the API keep answering 200 with
   correct content (a confirmation made meanwhile shows in the API's
   count), and pages that must query (a letter never asked for) still
   do, from the primary;
3. the replica started again: reads go back to it, on every node, within
   REPLICA_RETRY + REPLICA_CHECK_INTERVAL (+ the replica's own start and
   catching up); the time per node is printed."""

from __future__ import annotations

import itertools
import time

from bench.client import request
from bench.cluster import DEMO_SLUG, Cluster
from tests.cluster.conftest import (
    COUNT_INTERVAL,
    PUBLIC_STALENESS,
    REPLICA_CHECK_INTERVAL,
    REPLICA_RETRY,
    ClusterSink,
    ReplicaLog,
    api_letter,
    confirm,
    organiser,
    sign,
    wait_until,
)

TITLE = b"Northwind employees: our software should not power ICE"
BACK_WITHIN = REPLICA_RETRY + REPLICA_CHECK_INTERVAL + 5  # + start, catch up, a build
probes = itertools.count(1)


def probe(base_url: str) -> tuple[str, int]:
    """A letter page never asked for (no cached copy anywhere): its build
    queries the database, and only a query that worked answers 404.  The
    slug is its mark in the replica's statement log."""
    slug = f"replica-probe-{next(probes)}-{time.monotonic_ns()}"
    return slug, request(base_url, "GET", f"/letters/{slug}/", timeout=10).status


def test_only_public_reads_go_to_the_replica_and_survive_it_stopping(
    cluster: Cluster, sink: ClusterSink
) -> None:
    replica_log = ReplicaLog(cluster)
    # A signer with a token link, and the organiser, logged in.
    address = "replica-signer@example.org"
    assert sign(cluster.url, address).status == 302
    link = sink.wait_for(address, timeout=30)[0].link("/s/")
    staff = organiser(cluster.url)

    # 1. Their pages, and signs, read nothing from the replica.
    cluster.wait_for_replica()
    replica_log.mark()
    private_pages = [
        link,
        "/organise/",
        f"/organise/{DEMO_SLUG}/",
        f"/organise/{DEMO_SLUG}/signatures/",
    ]
    for _round in range(4):  # every worker process of both nodes, round robin
        assert request(cluster.url, "GET", link).status == 200
        for path in private_pages[1:]:
            answer = staff.get(path)
            assert answer.status == 200, (path, answer.status)
        assert sign(cluster.url, f"replica-never-{_round}@example.org").status == 302
    assert replica_log.reads() == [], replica_log.reads()
    # ... while a public build does (the witness sees reads at all).
    slug, status = probe(cluster.url)
    assert status == 404
    assert replica_log.mentions(slug), replica_log.statements()

    # 2. The replica stopped: public pages answer from the primary or the cache.
    before = int(api_letter(cluster.url)["confirmed_count"])
    cluster.stop_replica()
    stopped_at = time.monotonic()
    statuses: list[tuple[str, int]] = []

    def public_pages() -> None:
        page = request(cluster.url, "GET", f"/letters/{DEMO_SLUG}/", timeout=10)
        statuses.append(("page", page.status))
        assert TITLE in page.body
        statuses.append(("api", request(cluster.url, "GET", f"/api/letters/{DEMO_SLUG}/").status))
        statuses.append(("probe", probe(cluster.url)[1]))
        statuses.append(("index", request(cluster.url, "GET", "/letters/").status))

    public_pages()
    done = confirm(cluster.url, link)  # one more verified signature, on the primary
    assert done.status == 200, done.body[:300]

    def counted() -> bool:
        public_pages()
        return int(api_letter(cluster.url)["confirmed_count"]) == before + 1

    # The count is folded every COUNT_INTERVAL, the API copy rebuilt as often.
    wait_until(counted, timeout=PUBLIC_STALENESS + COUNT_INTERVAL + 5, what="the new count")
    counted_after = time.monotonic() - stopped_at
    expected = {"page": 200, "api": 200, "probe": 404, "index": 200}
    assert [(kind, s) for kind, s in statuses if s != expected[kind]] == []
    print(
        f"\nreplica stopped: {len(statuses)} public answers, all right; the new count "
        f"showed {counted_after:.1f} s after the stop"
    )

    # 3. Started again: every node reads from it again.
    cluster.start_replica()
    started_at = time.monotonic()
    back: dict[int, float] = {}

    def every_node_reads_from_it() -> bool:
        for n in cluster.node_ports:
            if n in back:
                continue
            replica_log.mark()
            slug, status = probe(cluster.node_url(n))
            assert status == 404, (n, status)
            if replica_log.mentions(slug):
                back[n] = time.monotonic() - started_at
        return len(back) == len(cluster.node_ports)

    wait_until(
        every_node_reads_from_it,
        timeout=BACK_WITHIN + 5,
        what=f"reads back on the replica on every node (so far: {back})",
        interval=0.2,
    )
    print(
        "replica started again: reads back on it after "
        + ", ".join(f"node{n} {t:.1f} s" for n, t in sorted(back.items()))
        + f" (bound {BACK_WITHIN:.0f} s)"
    )
    assert max(back.values()) <= BACK_WITHIN
