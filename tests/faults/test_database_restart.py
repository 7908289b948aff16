"""PostgreSQL restarts under a running site (`pg_ctl restart -m fast` cuts
every pooled connection): the site serves from the database again within
seconds of it being back, reading and writing, and the first write after
it does not fail on a dead pooled connection."""

from __future__ import annotations

import itertools
import time

from tests.faults.conftest import DEMO_SLUG, FaultStack, wait_until

RECOVERY = 10.0


def test_site_answers_again_soon_after_postgresql_restarts(stack: FaultStack) -> None:
    stack.start_web()
    for _ in range(6):  # both gunicorn workers hold pooled connections now
        stack.redis.command("FLUSHALL")
        assert stack.get("/api/letters/") == 200
    assert stack.sign("before-restart@example.org").status == 302

    stack.cluster.restart()  # returns once PostgreSQL accepts connections again
    back_at = time.monotonic()

    probes = itertools.count(1)

    def from_database() -> int:
        # The page of a letter never asked for before: no cache (shared or
        # in a worker's memory) has it, and only a query that worked can
        # answer "no such letter" (404); a dead connection answers 500.
        # (Arbitrary signatories cursors, used here before, are refused now.)
        return stack.get(f"/letters/no-such-letter-{next(probes)}/")

    statuses: list[int] = []

    def five_in_a_row() -> bool:
        statuses.append(from_database())
        return statuses[-5:] == [404] * 5

    wait_until(five_in_a_row, timeout=RECOVERY, what=f"pages from the database; got {statuses}")
    recovered_after = time.monotonic() - back_at
    # The pool noticed the dropped connections before handing them out.
    assert statuses[0] == 404, statuses
    assert stack.get(f"/letters/{DEMO_SLUG}/") == 200

    answer = stack.sign("after-restart@example.org")
    assert answer.status == 302, answer.body[:500]
    signed = ["after-restart@example.org", "before-restart@example.org"]
    assert [row["email"] for row in stack.signatures(*signed)] == signed
    assert recovered_after < RECOVERY
