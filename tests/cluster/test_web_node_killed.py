"""A web node is SIGKILLed (gunicorn and its workers at once) while people
sign through HAProxy, and started again: every sign answered 302 is stored
exactly once and confirmed exactly once through its emailed link, and
HAProxy takes the node out (DOWN) and back (UP).

A sign the killed node was handling when it died may get a 502 (HAProxy
retries only requests never sent: a POST a node received is never sent
twice), and its row may exist or not (killed before or after the INSERT
committed).  Its signer does what a person does with an error page: signs
again.  Those answers are counted and reported; the test asserts that
they are few (at most the node's workers: the requests it held), and that
after the retry each of those addresses, too, has exactly one row."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from bench.client import Answer, request
from bench.cluster import Cluster
from tests.cluster.conftest import (
    ClusterSink,
    confirm,
    sign,
    signatures,
    wait_for_emails_sent,
    wait_until,
)

MIN_SIGNS = 200
KILLED = 1
PACE = 0.03  # s between two signs of the one signing thread (~25 signs/s)


class Signer(threading.Thread):
    """Signs continuously through HAProxy, one address after another, until
    told to stop (and at least MIN_SIGNS times)."""

    def __init__(self, base_url: str) -> None:
        super().__init__(daemon=True)
        self.base_url = base_url
        self.stop = threading.Event()
        self.answers: dict[str, int] = {}  # address -> status (0: no answer)
        self.lock = threading.Lock()

    def count(self) -> int:
        with self.lock:
            return len(self.answers)

    def run(self) -> None:
        i = 0
        while not (self.stop.is_set() and i >= MIN_SIGNS) and i < 5 * MIN_SIGNS:
            address = f"node-killed-{i}@example.org"
            try:
                status = sign(self.base_url, address, timeout=20).status
            except OSError:
                status = 0
            with self.lock:
                self.answers[address] = status
            i += 1
            time.sleep(PACE)


def test_signing_through_haproxy_while_a_web_node_is_killed_and_restarted(
    cluster: Cluster, sink: ClusterSink
) -> None:
    signer = Signer(cluster.url)
    signer.start()
    wait_until(lambda: signer.count() >= 40, timeout=30, what="40 signs before the kill")

    killed_at = time.monotonic()
    cluster.kill_node(KILLED)
    down_after = cluster.wait_state(f"node{KILLED}", "DOWN", timeout=10)
    signs_at_down = signer.count()
    cluster.start_node(KILLED)
    restarted_log = len(cluster.nodes[KILLED].log())  # the log is appended to
    up_after = cluster.wait_state(f"node{KILLED}", "UP", timeout=20) + (
        time.monotonic() - killed_at - down_after
    )
    # Signs keep coming with the node back: it must take its share again.
    back = signer.count()
    wait_until(lambda: signer.count() >= back + 40, timeout=30, what="40 signs after the restart")
    signer.stop.set()
    signer.join(timeout=60)
    assert not signer.is_alive()

    answers = dict(signer.answers)
    failed = {address: status for address, status in answers.items() if status != 302}
    print(
        f"\n{len(answers)} signs; node{KILLED} DOWN {down_after:.1f} s after the kill "
        f"({signs_at_down} signs by then), UP again {up_after:.1f} s after it; "
        f"not 302: {len(failed)} {sorted(failed.values())}"
    )
    assert len(answers) >= MIN_SIGNS
    # At most the requests the killed node held (one per sync worker).
    assert len(failed) <= cluster.options.web_workers, failed

    # The restarted node served signs again (its access log, after the restart).
    assert "POST /letters/" in cluster.nodes[KILLED].log()[restarted_log:]

    # Those who got an error sign again: one row each in the end, as for everyone.
    had_row = []
    for address in failed:
        rows_before = len(signatures(cluster, address))
        assert rows_before <= 1, (address, rows_before)
        had_row += [address] * rows_before
        retried: Answer = sign(cluster.url, address)
        assert retried.status == 302, (address, retried.status)
    print(f"of those, stored before their signer's retry: {len(had_row)}")
    everyone = sorted(answers)

    # Stored exactly once: one row per address (by keyed hash), none extra.
    rows = signatures(cluster, *everyone)
    assert [row["email"] for row in rows] == everyone

    # Before anyone confirms, every email asked for is out, none twice: one
    # confirmation request per sign answered 302 (a retried signer whose
    # failed attempt had been stored was sent a second one by the retry).
    wait_for_emails_sent(cluster, everyone, timeout=60)
    requested = {row["email"]: row["emails_requested"] for row in signatures(cluster, *everyone)}
    first_time = [address for address in everyone if address not in failed]
    assert {a: requested[a] for a in first_time} == dict.fromkeys(first_time, 1)
    assert {a: len(sink.to(a)) for a in everyone} == requested

    def click(address: str) -> tuple[int, int]:
        """Confirm through the (latest) emailed link, then open it again."""
        path = sink.to(address)[-1].link("/s/")
        done = confirm(cluster.url, path)
        again = confirm_page_status(cluster.url, path)
        return done.status if b"Thank you for signing" in done.body else -done.status, again

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = dict(zip(everyone, pool.map(click, everyone), strict=True))
    assert {address: r for address, r in results.items() if r[0] != 200} == {}
    rows = signatures(cluster, *everyone)
    assert {row["status"] for row in rows} == {"confirmed"}
    assert len(rows) == len(everyone)

    # The email that follows confirming, once each: every email owed is
    # sent and none twice.
    wait_for_emails_sent(cluster, everyone, timeout=90)
    time.sleep(1)  # a late duplicate would show up now
    rows = signatures(cluster, *everyone)
    assert {row["email"]: row["emails_sent"] for row in rows} == {
        address: len(sink.to(address)) for address in everyone
    }


def confirm_page_status(base_url: str, path: str) -> int:
    """The link opened again after confirming: 200, saying only "used"."""
    again = request(base_url, "GET", path)
    assert b"csrfmiddlewaretoken" not in again.body  # no second confirm button
    return again.status
