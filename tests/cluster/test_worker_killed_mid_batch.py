"""A Celery worker node is SIGKILLed (the worker and its pool) while it is
sending a batch of confirmation emails, and stays dead; the other worker
node keeps sending: every email owed is delivered, and duplicates stay
within the documented at-least-once rule.

The rule (letters/signature_outbox.py, docs/architecture.md): a sender
leases its batch (SKIP LOCKED and `email_lease_until`) and records each
email as sent right after the SMTP server accepted it; killed, it leaves
its lease to expire and another sender (the sweep's, or the redelivered
task's) takes the rest over.  Only the email being handed over when the
sender died can go out twice (accepted, its "sent" mark lost): at most
one per pool process of the killed node, i.e. its concurrency.  Counted
and printed; asserted to stay within that."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from celery import Celery

from bench.cluster import Cluster
from tests.cluster.conftest import (
    CLUSTER_ENV,
    ClusterSink,
    sign,
    signatures,
    wait_for_emails_sent,
    wait_until,
)

SIGNS = 150
KILLED = 1
SLOW_SMTP = 0.05  # s the SMTP server takes over each message
PREFIX = "worker-killed-"


@pytest.fixture
def celery_client(cluster: Cluster) -> Iterator[Celery]:
    """A Celery app of our own on the cluster's broker (remote control only)."""
    visibility = int(CLUSTER_ENV["CELERY_VISIBILITY_TIMEOUT"])
    app = Celery(f"cluster-{cluster.uid}", broker=cluster.redis.url, set_as_current=False)
    app.conf.update(
        broker_transport_options={
            "visibility_timeout": visibility,
            "socket_timeout": 5,
            "socket_connect_timeout": 5,
        },
        task_default_queue=cluster.queue,
    )
    yield app
    app.close()


def sending(app: Celery, worker: str) -> bool:
    """Whether `worker` is running an email sender task right now."""
    replies: dict[str, Any] = (
        app.control.inspect(destination=[worker], timeout=1, limit=1).active() or {}
    )
    return any(
        task.get("name") == "letters.tasks.send_signature_emails"
        for task in replies.get(worker, [])
    )


def test_worker_node_killed_mid_batch_every_email_delivered_duplicates_counted(
    cluster: Cluster, sink: ClusterSink, celery_client: Celery
) -> None:
    sink.delay = SLOW_SMTP
    addresses = [f"{PREFIX}{i}@example.org" for i in range(SIGNS)]
    statuses: list[int] = []

    def sign_all() -> None:
        with ThreadPoolExecutor(max_workers=4) as pool:
            statuses.extend(pool.map(lambda a: sign(cluster.url, a).status, addresses))

    signing = threading.Thread(target=sign_all, daemon=True)
    signing.start()
    killed = cluster.worker_name(KILLED)
    wait_until(
        lambda: sending(celery_client, killed) and len(sink.per_address(PREFIX)) >= 10,
        timeout=40,
        what=f"{killed} sending the batch",
        interval=0.05,
    )
    delivered_before = len(sink.per_address(PREFIX))
    cluster.kill_worker(KILLED)
    killed_at = time.monotonic()
    signing.join(timeout=60)
    assert statuses == [302] * SIGNS

    # The other worker node delivers everything owed, with the killed one down.
    def all_delivered() -> bool:
        return len(sink.per_address(PREFIX)) == SIGNS

    wait_until(all_delivered, timeout=90, what=f"every email delivered (now {sink.count()})")
    delivered_after = time.monotonic() - killed_at
    wait_for_emails_sent(cluster, addresses, timeout=30)
    time.sleep(2)  # a late duplicate would show up now
    assert KILLED not in cluster.workers  # still dead: the other node did it all

    per_address = sink.per_address(PREFIX)
    duplicates = {address: n for address, n in per_address.items() if n > 1}
    # When each copy of a duplicate arrived, in seconds after the kill: the
    # first one at the kill (accepted, its "sent" mark lost with the worker).
    arrivals = {
        address: [round(mail.received_at - killed_at, 3) for mail in sink.to(address)]
        for address in sorted(duplicates)
    }
    print(
        f"\n{delivered_before} of {SIGNS} emails delivered when {killed} was killed; "
        f"all {SIGNS} {delivered_after:.1f} s after the kill; duplicates: "
        f"{sum(n - 1 for n in duplicates.values())} (allowed: "
        f"{cluster.options.worker_concurrency}), arrivals after the kill (s): {arrivals}"
    )
    assert sorted(per_address) == sorted(addresses)
    assert sum(n - 1 for n in duplicates.values()) <= cluster.options.worker_concurrency
    rows = signatures(cluster, *addresses)
    assert len(rows) == SIGNS
    assert {(row["emails_requested"], row["emails_sent"], row["email_failed"]) for row in rows} == {
        (1, 1, False)
    }
