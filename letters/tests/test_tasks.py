"""The email task against a real SMTP server: idempotent, retries transient
errors, marks permanent ones, and the sweep finds what the broker lost."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core import mail

from letters import services, tasks
from letters.models import Signature
from letters.tests.factories import confirmed_signature

pytestmark = pytest.mark.django_db(transaction=True)


def pending(open_letter, address="pat@example.org") -> Signature:
    services.signature_create(letter=open_letter, email=address, name="Pat Pending")
    return Signature.objects.get(email=address)


def test_the_same_task_delivered_twice_sends_one_email(open_letter, smtp):
    signature = pending(open_letter)
    smtp.wait_for("pat@example.org")

    again = tasks.send_signature_email.apply(args=(signature.pk, 1)).result

    assert again == "skipped"
    assert len(smtp.to("pat@example.org")) == 1
    assert Signature.objects.get().emails_sent == 1


def test_transient_smtp_errors_are_retried_until_delivered(open_letter, smtp):
    smtp.scripted["pat@example.org"] = ["451 4.3.0 try again later", "421 4.7.0 busy"]

    signature = pending(open_letter)

    smtp.wait_for("pat@example.org")
    signature.refresh_from_db()
    assert signature.emails_sent == 1
    assert not signature.email_failed


def test_a_permanent_rejection_is_marked_and_not_retried(open_letter, smtp):
    smtp.scripted["nobody@example.org"] = ["550 5.1.1 no such user"] * 20

    signature = pending(open_letter, "nobody@example.org")

    signature.refresh_from_db()
    assert signature.email_failed
    assert signature.emails_sent == 0
    assert smtp.scripted["nobody@example.org"] == ["550 5.1.1 no such user"] * 19  # tried once
    assert services.signatures_resend_unsent() == []  # failed ones are not swept again


def test_sweep_re_enqueues_signatures_whose_email_was_never_sent(open_letter, settings):
    with mock.patch.object(
        tasks.send_signature_email, "delay", side_effect=ConnectionError("broker down")
    ):
        pending(open_letter)
    assert mail.outbox == []  # the broker was down at commit time; the row is kept
    settings.SIGNATURE_UNSENT_GRACE = -1

    swept = services.signatures_resend_unsent()

    signature = Signature.objects.get()
    assert swept == [(signature.pk, 1)]
    assert len(mail.outbox) == 1
    assert signature.emails_sent == 1
    assert services.signatures_resend_unsent() == []


def test_already_signed_email_carries_the_withdraw_link(open_letter, smtp):
    confirmed_signature(open_letter, name="Con", email="con@example.org")

    services.signature_create(letter=open_letter, email="con@example.org", name="Someone else")

    confirmed, message = smtp.wait_for("con@example.org", count=2)
    assert "is confirmed" in confirmed.text
    assert "already signed" in message.text
    assert message.link("/w/").startswith("/w/")
    assert "Someone else" not in message.text


def test_a_swept_duplicate_waits_while_another_task_owns_the_email(open_letter, settings):
    from django.core.cache import cache

    with mock.patch.object(
        tasks.send_signature_email, "delay", side_effect=ConnectionError("broker down")
    ):
        pending(open_letter)
    signature = Signature.objects.get()
    cache.set(f"signature-email:{signature.pk}:1", "another-task-retrying", timeout=60)

    assert tasks.send_signature_email.apply(args=(signature.pk, 1)).result == "in-flight"
    assert mail.outbox == []
    cache.delete(f"signature-email:{signature.pk}:1")
    assert tasks.send_signature_email.apply(args=(signature.pk, 1)).result == "sent"
    assert len(mail.outbox) == 1


def test_smtp_failures_are_logged_without_the_address(open_letter, smtp, caplog):
    smtp.scripted["secret.person@example.org"] = ["451 4.3.0 try later", "550 5.1.1 no such user"]

    pending(open_letter, "secret.person@example.org")

    assert Signature.objects.get().email_failed
    ours = "\n".join(  # the app's and Celery's logs (not the test SMTP server's)
        r.getMessage() + (r.exc_text or "")
        for r in caplog.records
        if r.name.startswith(("letters", "celery"))
    )
    assert "permanent SMTP failure SMTPRecipientsRefused 550" in ours
    assert "secret.person" not in ours
