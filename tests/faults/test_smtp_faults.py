"""The mail server is down, then up: the email task retries with backoff and
the email arrives.  A mail server that rejects the recipient for good (5xx)
is tried once, not forever, and the signature's email is marked failed."""

from __future__ import annotations

import time

from tests.faults.conftest import FaultSink, FaultStack, wait_until


def test_email_arrives_once_the_smtp_server_comes_up(stack: FaultStack) -> None:
    stack.start_web()
    worker = stack.start_worker()
    address = "smtp-late@example.org"

    assert stack.sign(address).status == 302  # nothing listens on EMAIL_URL's port yet
    wait_until(
        lambda: worker.log().count("ConnectionRefusedError") >= 2,
        timeout=15,
        what="two failed attempts, each followed by a retry with backoff",
    )
    assert stack.signature(address)["emails_sent"] == 0

    sink = stack.start_smtp()
    (mail,) = sink.wait_for(address, timeout=30)
    assert mail.link("/s/")
    wait_until(
        lambda: stack.signature(address)["emails_sent"] == 1, timeout=5, what="the send recorded"
    )
    assert stack.signature(address)["email_failed"] is False
    time.sleep(1)
    assert len(sink.to(address)) == 1


def test_permanent_rejection_is_tried_once_and_marked_failed(stack: FaultStack) -> None:
    address = "no-such-user@example.org"
    sink = FaultSink()
    sink.scripted[address] = ["550 5.1.1 <no-such-user@example.org>: no such user"] * 20
    stack.start_smtp(sink)
    stack.start_web()
    stack.start_worker()
    stack.start_beat()  # the resend sweep runs every 2 s: it must leave this one alone

    signed_at = time.monotonic()
    assert stack.sign(address).status == 302
    wait_until(
        lambda: stack.signature(address)["email_failed"], timeout=10, what="email marked failed"
    )
    time.sleep(max(0.0, 10 - (time.monotonic() - signed_at)))

    assert sink.attempts(address) == 1
    assert sink.to(address) == []
    row = stack.signature(address)
    assert row["email_failed"] is True
    assert row["emails_sent"] == 0
    assert row["status"] == "pending"
