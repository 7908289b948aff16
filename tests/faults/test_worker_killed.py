"""A Celery worker is SIGKILLed while it is handing an email to the SMTP
server (no beat: only the broker can bring the task back).  The task was
acked late, so Redis delivers it again once CELERY_VISIBILITY_TIMEOUT has
passed and a new worker sends the email; one duplicate at most."""

from __future__ import annotations

import time

from tests.faults.conftest import VISIBILITY_TIMEOUT, FaultSink, FaultStack, wait_until

SLOW_DATA = 5.0


def test_worker_killed_mid_send_the_email_still_arrives_at_most_twice(stack: FaultStack) -> None:
    sink = stack.start_smtp(FaultSink(slow_first_data=SLOW_DATA))
    stack.start_web()
    worker = stack.start_worker()
    address = "killed-mid-send@example.org"

    signed_at = time.monotonic()
    assert stack.sign(address).status == 302
    assert sink.data_started.wait(timeout=30), "the worker never reached DATA"
    worker.kill()  # SIGKILL, worker and pool children, while the server sits in DATA
    killed_at = time.monotonic()
    wait_until(lambda: sink.orphaned, timeout=5, what="the SMTP server saw the client vanish")
    assert sink.to(address) == []  # nothing was accepted to the dead sender
    stack.start_worker()  # a supervisor restarts it at once

    # Redis hands the unacked message out again after the visibility timeout;
    # allow a few seconds more for the restore sweep and the send itself.
    limit = VISIBILITY_TIMEOUT + 12
    (mail,) = sink.wait_for(address, timeout=limit - (time.monotonic() - killed_at))
    assert mail.received_at - signed_at >= VISIBILITY_TIMEOUT - 1

    time.sleep(2)  # a late duplicate would show up now
    assert 1 <= sink.copies(address) <= 2
    assert stack.signature(address)["emails_sent"] == 1
