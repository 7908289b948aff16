"""The signature email outbox against a real SMTP server: idempotent,
retries transient errors with backoff, marks permanent ones, keeps two
senders apart, and the sweep finds what the broker lost."""

from __future__ import annotations

import time
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from letters import services, signature_outbox, tasks
from letters.models import Signature
from letters.tests.factories import confirmed_signature, signature_of

pytestmark = pytest.mark.django_db(transaction=True)


def pending(open_letter, address="pat@example.org") -> Signature:
    services.signature_create(letter=open_letter, email=address, name="Pat Pending")
    return signature_of(open_letter, address).get()


def test_the_same_task_delivered_twice_sends_one_email(open_letter, smtp):
    pending(open_letter)
    smtp.wait_for("pat@example.org")

    again = tasks.send_signature_emails.apply().result  # the sender, redelivered

    assert again == {}  # nothing left to claim
    assert len(smtp.to("pat@example.org")) == 1
    assert Signature.objects.get().emails_sent == 1


def test_transient_smtp_errors_are_retried_until_delivered(open_letter, celery_worker):
    smtp = celery_worker
    smtp.scripted["pat@example.org"] = ["451 4.3.0 try again later", "421 4.7.0 busy"]
    started = time.monotonic()

    signature = pending(open_letter)

    (mail_,) = smtp.wait_for("pat@example.org", timeout=30)
    assert mail_.received_at - started >= 2 + 4 - 1  # backoff: 2 s, then 4 s
    assert smtp.scripted["pat@example.org"] == []  # both refusals were met, once each
    deadline = time.monotonic() + 5  # the worker records the send just after the server took it
    while signature.emails_sent != 1 and time.monotonic() < deadline:
        time.sleep(0.05)
        signature.refresh_from_db()
    assert signature.emails_sent == 1
    assert signature.email_attempts == 0
    assert not signature.email_failed


def test_a_permanent_rejection_is_marked_and_not_retried(open_letter, smtp):
    smtp.scripted["nobody@example.org"] = ["550 5.1.1 no such user"] * 20

    signature = pending(open_letter, "nobody@example.org")

    signature.refresh_from_db()
    assert signature.email_failed
    assert signature.emails_sent == 0
    assert smtp.scripted["nobody@example.org"] == ["550 5.1.1 no such user"] * 19  # tried once
    assert services.signatures_resend_unsent() == 0  # failed ones are not swept again


def test_sweep_brings_a_sender_for_emails_whose_signal_was_lost(open_letter):
    with mock.patch.object(
        tasks.send_signature_emails, "delay", side_effect=ConnectionError("broker down")
    ):
        pending(open_letter)
    assert mail.outbox == []  # the broker was down at commit time; the row is kept

    assert services.signatures_resend_unsent() == 1

    signature = Signature.objects.get()
    assert len(mail.outbox) == 1
    assert signature.emails_sent == 1
    assert services.signatures_resend_unsent() == 0


def test_already_signed_email_carries_a_withdraw_link_if_none_went_out_lately(open_letter, smtp):
    signature = confirmed_signature(open_letter, name="Con", email="con@example.org")
    Signature.objects.filter(pk=signature.pk).update(
        withdraw_link_sent_at=timezone.now() - timedelta(days=8)
    )

    services.signature_create(letter=open_letter, email="con@example.org", name="Someone else")

    confirmed, message = smtp.wait_for("con@example.org", count=2)
    assert "is confirmed" in confirmed.text
    assert "already signed" in message.text
    assert message.link("/w/").startswith("/w/")
    assert "Someone else" not in message.text


def test_an_email_leased_by_another_sender_is_not_sent_twice(open_letter):
    with mock.patch.object(
        tasks.send_signature_emails, "delay", side_effect=ConnectionError("broker down")
    ):
        pending(open_letter)
    signature = Signature.objects.get()
    (owed,) = signature_outbox.signature_emails_claim(limit=10)  # another sender holds it now
    assert owed.signature_id == signature.pk

    assert tasks.send_signature_emails.apply().result == {}
    assert services.signatures_resend_unsent() == 0  # leased: not free to send
    assert mail.outbox == []

    Signature.objects.update(email_lease_until=timezone.now())  # that sender died
    sent = tasks.send_signature_emails.apply().result
    assert isinstance(sent, dict)
    assert sent["sent"] == 1
    assert len(mail.outbox) == 1


def test_senders_share_out_a_batch_without_overlap(open_letter):
    with mock.patch.object(
        tasks.send_signature_emails, "delay", side_effect=ConnectionError("broker down")
    ):
        for n in range(7):
            pending(open_letter, f"p{n}@example.org")

    first = signature_outbox.signature_emails_claim(limit=4)
    second = signature_outbox.signature_emails_claim(limit=4)
    third = signature_outbox.signature_emails_claim(limit=4)

    assert len(first) == 4
    assert len(second) == 3
    assert third == []
    assert {o.signature_id for o in first}.isdisjoint({o.signature_id for o in second})


def test_smtp_failures_are_logged_without_the_address(open_letter, smtp, caplog):
    smtp.scripted["secret.person@example.org"] = ["451 4.3.0 try later", "550 5.1.1 no such user"]

    pending(open_letter, "secret.person@example.org")
    assert Signature.objects.get().email_attempts == 1  # 451: postponed with backoff
    Signature.objects.update(email_lease_until=timezone.now())  # the backoff has passed
    tasks.send_signature_emails.apply()

    assert Signature.objects.get().email_failed
    ours = "\n".join(  # the app's and Celery's logs (not the test SMTP server's)
        r.getMessage() + (r.exc_text or "")
        for r in caplog.records
        if r.name.startswith(("letters", "celery"))
    )
    assert "permanent SMTP failure SMTPRecipientsRefused 550" in ours
    assert "secret.person" not in ours


def test_a_slow_batch_hands_the_rest_back_and_each_email_still_goes_once(open_letter, settings):
    with mock.patch.object(
        tasks.send_signature_emails, "delay", side_effect=ConnectionError("broker down")
    ):
        for n in range(3):
            pending(open_letter, f"slow{n}@example.org")
    settings.SIGNATURE_EMAIL_LEASE = 0  # every batch is past half its lease at once

    totals = tasks.send_signature_emails.apply().result

    assert isinstance(totals, dict)
    assert totals["sent"] == 3
    assert sorted(m.to[0] for m in mail.outbox) == [f"slow{n}@example.org" for n in range(3)]
    assert all(s.emails_sent == 1 for s in Signature.objects.all())
