"""The broker delivers the email sender's task again (at-least-once delivery):
the second run finds the email recorded as sent and sends nothing."""

from __future__ import annotations

import time

from tests.faults.conftest import FaultStack, wait_until


def test_same_email_task_delivered_twice_sends_one_email(stack: FaultStack) -> None:
    sink = stack.start_smtp()
    stack.start_web()
    worker = stack.start_worker()
    address = "twice@example.org"

    assert stack.sign(address).status == 302
    sink.wait_for(address, timeout=30)
    signature = stack.signature(address)
    assert signature["emails_sent"] == 1

    # The sender's message again, as a broker redelivery would publish it.
    task_id = stack.send_task("letters.tasks.send_signature_emails", [])
    result = wait_until(
        lambda: stack.task_result(worker, task_id), timeout=20, what="the duplicate task ran"
    )

    assert result == "{}"  # nothing owed: nothing claimed, nothing sent
    time.sleep(0.5)  # nothing in flight could still reach the sink
    assert len(sink.to(address)) == 1
    assert sink.attempts(address) == 1
    assert stack.signature(address)["emails_sent"] == 1
