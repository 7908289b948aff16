"""The whole flow through a real Celery worker (Redis broker) and a real SMTP
server: sign, the email arrives, opening the link changes nothing, the button
confirms, the count follows within the count interval."""

from __future__ import annotations

import json
import time

import pytest
from django.urls import reverse

from letters.models import Display, Signature, SignatureStatus

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

    url = reverse("api_letter", kwargs={"slug": open_letter.slug})
    deadline = time.monotonic() + settings.COUNT_INTERVAL + 2
    count = 0
    while time.monotonic() < deadline and count != 1:
        count = json.loads(client.get(url).content)["confirmed_count"]
        time.sleep(0.2)
    assert count == 1


def test_transient_smtp_failure_is_retried_by_the_worker(open_letter, celery_worker):
    from letters import services

    smtp = celery_worker
    smtp.scripted["retry@example.org"] = ["451 4.3.0 greylisted"]

    services.signature_create(letter=open_letter, email="retry@example.org", name="Rita Retry")

    smtp.wait_for("retry@example.org", timeout=30)
    time.sleep(1)
    assert len(smtp.to("retry@example.org")) == 1
