"""An organiser closes a letter (through HAProxy, the organiser's pages);
every web node, asked directly, shows it within the documented bounds:

- the sign POST is refused on every node within SIGNING_LETTER_TTL (the
  letter row a node keeps in memory for the sign path,
  letters/selectors/public.py; the INSERT itself re-checks that the
  letter is open, so in practice at once);
- the public letter page and the API say "closed" on every node within
  PUBLIC_STALENESS = COUNT_INTERVAL (a public copy, shared in Redis and
  kept in each process's memory, lives that long after its build:
  letters/http.py) + REPLICA_MAX_LAG + REPLICA_CHECK_INTERVAL (how far
  behind the replica a build read may be: letters/replica.py).

Each node is polled for the whole bound (and a little more), so that a
stale copy in any of its worker processes would show; the time of each
node's last stale answer is printed."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from bench.client import request
from bench.cluster import Cluster
from tests.cluster.conftest import (
    PUBLIC_STALENESS,
    SIGNING_LETTER_TTL,
    open_letter,
    organiser,
    sign,
    signatures,
)

SLUG = "cluster-propagation"
OPEN_MARK = b'data-testid="sign-jump"'  # the letter page's "Sign this letter" (open only)


@dataclass
class Seen:
    """What one node answered after the close: the last stale answer of each kind."""

    last_stale: dict[str, float] = field(default_factory=dict)
    answers: int = 0
    errors: list[str] = field(default_factory=list)


def test_a_closed_letter_reaches_every_node_within_the_documented_bounds(
    cluster: Cluster,
) -> None:
    open_letter(cluster, SLUG, "Propagation: every node hears of it")
    cluster.wait_for_replica()  # else a node could build (and keep) "no such letter"
    nodes = {n: cluster.node_url(n) for n in cluster.node_ports}
    # Every worker process of every node has the open letter in memory: its
    # page and API copies, and its row on the sign path.
    for n, url in nodes.items():
        for i in range(6):
            page = request(url, "GET", f"/letters/{SLUG}/")
            assert page.status == 200
            assert OPEN_MARK in page.body
            assert json.loads(request(url, "GET", f"/api/letters/{SLUG}/").body)["status"] == "open"
            assert sign(url, f"propagation-warm-{n}-{i}@example.org", slug=SLUG).status == 302

    staff = organiser(cluster.url)
    step = staff.get(f"/organise/{SLUG}/close/")
    assert step.status == 200, step.body[:300]
    closing = staff.post(f"/organise/{SLUG}/close/", {})
    assert closing.status == 302, closing.body[:300]
    # The change committed between the POST's start and its answer: times
    # are counted from the start (an upper bound).
    changed_at = closing.started

    seen = {n: Seen() for n in nodes}
    watch_until = changed_at + PUBLIC_STALENESS + 2
    late: list[str] = []
    accepted: list[str] = []
    i = 0
    while time.monotonic() < watch_until:
        for n, url in nodes.items():
            i += 1
            now = time.monotonic() - changed_at
            page = request(url, "GET", f"/letters/{SLUG}/", timeout=10)
            api = request(url, "GET", f"/api/letters/{SLUG}/", timeout=10)
            address = f"propagation-late-{n}-{i}@example.org"
            signed = sign(url, address, slug=SLUG, timeout=10)
            late.append(address)
            node = seen[n]
            node.answers += 1
            if page.status != 200 or api.status != 200 or signed.status >= 500:
                node.errors.append(f"{now:.2f}s: {page.status} {api.status} {signed.status}")
            if OPEN_MARK in page.body:
                node.last_stale["page"] = now
            if json.loads(api.body).get("status") != "closed":
                node.last_stale["api"] = now
            if signed.status == 302:
                node.last_stale["sign"] = now
                accepted.append(address)
        time.sleep(0.05)

    for n, node in seen.items():
        print(
            f"\nnode{n}: {node.answers} rounds; last stale answer after the close "
            f"(s): page {node.last_stale.get('page', 0):.2f}, API "
            f"{node.last_stale.get('api', 0):.2f}, sign {node.last_stale.get('sign', 0):.2f} "
            f"(bounds: pages {PUBLIC_STALENESS:.0f}, sign {SIGNING_LETTER_TTL:.0f})"
        )
    for n, node in seen.items():
        assert node.errors == [], (n, node.errors)
        assert node.last_stale.get("page", 0) <= PUBLIC_STALENESS, (n, node)
        assert node.last_stale.get("api", 0) <= PUBLIC_STALENESS, (n, node)
        assert node.last_stale.get("sign", 0) <= SIGNING_LETTER_TTL, (n, node)
        # Every answer after the bound was the closed letter's (polled until then).
        assert node.answers >= 3
    # A sign answered 302 is stored, one refused is not: the INSERT itself
    # re-checks that the letter is open.
    rows = signatures(cluster, *late)
    assert sorted(row["email"] for row in rows) == sorted(accepted)
