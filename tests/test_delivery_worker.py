"""The whole flow through a real Celery worker (Redis broker) and a real SMTP
server: sign, the email arrives, opening the link changes nothing, the button
confirms, the count follows within the count interval."""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from unittest import mock

import pytest
from django.urls import reverse

from letters.models import Display, Signature, SignatureStatus
from letters.signer_address import address_hash, stored_address
from letters.tests.factories import address_of, api_count_within, signature_of

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def test_sign_email_confirm_and_count_through_the_worker(
    client, open_letter, celery_worker, settings
):
    smtp = celery_worker
    response = client.post(
        reverse("letters:sign", kwargs={"slug": open_letter.slug}),
        {
            "name": "Wendy Worker",
            "email": "wendy@example.org",
            "display": Display.PUBLIC,
            "consent": "on",
        },
        HTTP_ORIGIN="http://testserver",
    )
    assert response.status_code == 302

    (message,) = smtp.wait_for("wendy@example.org", timeout=30)
    assert message.message["Subject"] == "Please confirm your email address"
    assert message.html  # text and HTML parts
    path = message.link("/s/")

    assert client.get(path).status_code == 200
    assert Signature.objects.get().status == SignatureStatus.PENDING
    client.post(path, {"display": Display.PUBLIC})
    assert Signature.objects.get().status == SignatureStatus.CONFIRMED
    assert Signature.objects.get().emails_sent == 1  # recorded by the worker

    assert api_count_within(client, open_letter, 1, settings.COUNT_INTERVAL + 2) == 1


def test_transient_smtp_failure_is_retried_by_the_worker(open_letter, celery_worker):
    from letters import services

    smtp = celery_worker
    smtp.scripted["retry@example.org"] = ["451 4.3.0 greylisted"]

    services.signature_create(letter=open_letter, email="retry@example.org", name="Rita Retry")

    smtp.wait_for("retry@example.org", timeout=30)
    time.sleep(1)
    assert len(smtp.to("retry@example.org")) == 1


def test_one_undeliverable_address_does_not_stop_anyone_else_s_email(
    open_letter, celery_worker, settings
):
    """Rows an earlier release accepted (a long s, a dotted capital I
    lower-cased: Django's SMTP backend cannot encode them; sealed as they
    were stored, as the migration that sealed addresses did) sit in one
    claimed batch with good rows: the worker delivers every good row, fails
    the bad ones alone, and its log names neither address."""
    from letters import services, signature_outbox, tasks

    smtp = celery_worker
    poisoned = ["ſtefan@example.org", "İlse@example.org".lower()]
    good = ["good0@example.org", "good1@example.org", "good2@example.org", "good3@example.org"]
    in_batch_order = [good[0], poisoned[0], good[1], poisoned[1], good[2], good[3]]
    with mock.patch.object(
        tasks.send_signature_emails, "delay", side_effect=ConnectionError("broker down")
    ):  # no sender yet, so that the worker claims all six rows in one batch
        for address in in_batch_order:
            if address in good:
                services.signature_create(letter=open_letter, email=address, name="Gina Good")
                continue
            Signature.objects.create(  # straight to the database, as it was stored then
                letter=open_letter,
                version_id=open_letter.current_version_id,
                **stored_address(address),
                name="Old Release",
                secret=secrets.token_urlsafe(18),
            )
    assert Signature.objects.filter(emails_sent=0, email_failed=False).count() == 6
    assert settings.SIGNATURE_EMAIL_BATCH >= 6

    signature_outbox.request_signature_emails()

    for address in good:
        (message,) = smtp.wait_for(address, timeout=30)
        assert message.link("/s/").startswith("/s/")
    log_path = Path(settings.STATIC_ROOT).parent / "test-celery-worker.log"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        failed = {address_of(row) for row in Signature.objects.filter(email_failed=True)}
        if failed == set(poisoned) and b"(ValueError)" in log_path.read_bytes():
            break
        time.sleep(0.1)
    assert failed == set(poisoned)
    assert all(signature_of(open_letter, address).get().emails_sent == 1 for address in good)
    assert signature_outbox.signature_emails_claim(limit=50) == []  # never claimed again
    log = log_path.read_bytes()
    poisoned_hashes = [address_hash(address) for address in poisoned]
    poisoned_pks = Signature.objects.filter(email_hash__in=poisoned_hashes).values_list(
        "pk", flat=True
    )
    assert len(poisoned_pks) == len(poisoned)
    for pk in poisoned_pks:
        assert f"signature {pk}: email cannot be sent (ValueError)".encode() in log
    assert b"tefan@example.org" not in log
    assert b"lse@example.org" not in log
