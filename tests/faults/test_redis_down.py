"""Redis (broker and cache) is down while co-workers sign: every answer is the
usual redirect, no signature is lost, and once Redis is back the sweep (beat)
gets every confirmation email out."""

from __future__ import annotations

import time
from typing import Any

from tests.faults.conftest import FaultStack, wait_until


def test_signing_while_redis_is_down_loses_no_confirmation_email(stack: FaultStack) -> None:
    sink = stack.start_smtp()
    stack.start_web()
    stack.start_worker()
    stack.start_beat()
    addresses = [f"redis-down-{n}@example.org" for n in range(5)]

    stack.redis.stop()
    for address in addresses:
        started = time.monotonic()
        answer = stack.sign(address)
        assert answer.status == 302, (address, answer.status, answer.body[:500])
        assert "/check-inbox/" in answer.headers["Location"]
        assert time.monotonic() - started < 15, "signing hung on the dead broker"
    stack.redis.start()  # same port, empty: every queued message is gone

    def delivered() -> bool:
        return all(sink.to(address) for address in addresses)

    wait_until(delivered, timeout=30, what="all 5 confirmation emails after Redis came back")

    def rows() -> list[dict[str, Any]]:
        return stack.signatures(*addresses)

    assert [row["email"] for row in rows()] == sorted(addresses)
    assert all(row["status"] == "pending" for row in rows())
    wait_until(
        lambda: all(row["emails_sent"] == 1 for row in rows()),
        timeout=5,
        what="every send recorded",
    )
    for address in addresses:
        assert len(sink.to(address)) <= 2, address  # the sweep may add one duplicate at most
