"""One email that cannot be made or sent fails on its own: the rest of the
batch goes out, the row is never claimed again, and the logs name the
signature and the exception's type, never the address.  Only trouble that is
not about one email (the connection, the database, the time limit) stops a
batch, and it marks no email failed."""

from __future__ import annotations

import secrets
from typing import Any, cast
from unittest import mock

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.db import OperationalError
from django.template import TemplateSyntaxError
from django.utils import timezone

from letters import notifications, services, signature_outbox, tasks
from letters.models import Invitation, Letter, OrganiserRole, Signature, SignatureStatus
from letters.notifications import build_email
from letters.signer_address import stored_address
from letters.tests.factories import address_of, signature_of

pytestmark = pytest.mark.django_db(transaction=True)

# As an earlier release stored them: Django's validator took `ſ` (long s)
# and `İ` for ASCII letters, and lower-casing left them (or made them) non-ASCII.
POISONED = ["ſtefan@example.org", "İlse@example.org".lower()]


def pending_without_a_sender(letter: Letter, *addresses: str) -> list[Signature]:
    """Pending signatures through the sign service, with no sender run yet
    (the broker is down), so that one sender later claims them in one batch."""
    with mock.patch.object(
        tasks.send_signature_emails, "delay", side_effect=ConnectionError("broker down")
    ):
        for address in addresses:
            services.signature_create(letter=letter, email=address, name="Pat Pending")
    return [signature_of(letter, address).get() for address in addresses]


def poisoned_row(letter: Letter, address: str) -> Signature:
    """A pending row at an address today's validation refuses, written
    straight to the database as an older release might have accepted it
    (and as the migration that sealed addresses kept it: hashed and sealed
    as stored, not canonical)."""
    return Signature.objects.create(
        letter=letter,
        version_id=letter.current_version_id,  # type: ignore[misc]
        **stored_address(address),
        name="Old Release",
        secret=secrets.token_urlsafe(18),
        status=SignatureStatus.PENDING,
    )


def run_sender() -> dict[str, int]:
    """One sender, in this process: its outcome counts."""
    return cast(dict[str, int], tasks.send_signature_emails.apply().result)


def app_logs(caplog: Any) -> str:
    """The app's and Celery's log records, with any traceback (not the test
    SMTP server's, which sees every address)."""
    return "\n".join(
        record.getMessage() + (record.exc_text or "")
        for record in caplog.records
        if record.name.startswith(("letters", "celery"))
    )


def test_one_undeliverable_address_does_not_stop_anyone_else_s_email(open_letter, smtp, caplog):
    (first,) = pending_without_a_sender(open_letter, "first@example.org")
    stefan = poisoned_row(open_letter, POISONED[0])
    (second,) = pending_without_a_sender(open_letter, "second@example.org")
    ilse = poisoned_row(open_letter, POISONED[1])
    (third,) = pending_without_a_sender(open_letter, "third@example.org")
    assert len(signature_outbox.signature_emails_claim(limit=50)) == 5  # one batch holds them all
    Signature.objects.update(email_lease_until=None)

    totals = run_sender()

    assert totals["sent"] == 3
    assert totals["failed"] == 2
    for good in (first, second, third):
        assert len(smtp.to(address_of(good))) == 1
        good.refresh_from_db()
        assert good.emails_sent == 1
        assert not good.email_failed
    for bad in (stefan, ilse):
        bad.refresh_from_db()
        assert bad.email_failed
        assert bad.emails_sent == 0
        assert bad.email_lease_until is None
    # A failed row is never claimed again: not by the claim, not by the sweep.
    assert signature_outbox.signature_emails_claim(limit=50) == []
    assert services.signatures_resend_unsent() == 0
    assert run_sender() == {}
    logs = app_logs(caplog)
    assert f"signature {stefan.pk}: email cannot be sent (ValueError)" in logs
    assert f"signature {ilse.pk}: email cannot be sent (ValueError)" in logs
    assert "tefan" not in logs
    assert "lse@" not in logs


def test_an_email_that_cannot_be_built_fails_alone_and_an_outage_fails_none(
    open_letter, smtp, caplog
):
    first, broken, last = pending_without_a_sender(
        open_letter, "first@example.org", "broken.template@example.org", "last@example.org"
    )

    broken_address = address_of(broken)

    def build(**kwargs: Any) -> Any:
        if kwargs["to"] == broken_address:
            raise TemplateSyntaxError(f"cannot render for {kwargs['to']}")
        return build_email(**kwargs)

    with mock.patch.object(notifications, "build_email", side_effect=build):
        totals = run_sender()

    assert (totals["sent"], totals["failed"]) == (2, 1)
    assert len(smtp.to(address_of(first))) == len(smtp.to(address_of(last))) == 1
    broken.refresh_from_db()
    assert broken.email_failed
    logs = app_logs(caplog)
    assert f"signature {broken.pk}: email cannot be sent (TemplateSyntaxError)" in logs
    assert "broken.template" not in logs

    # Trouble that is not about one email stops the batch and fails nothing:
    # the lease runs out and a later sender sends it.
    (waiting,) = pending_without_a_sender(open_letter, "waiting@example.org")
    for outage in (SoftTimeLimitExceeded(), OperationalError("the database went away")):
        with mock.patch.object(notifications, "build_email", side_effect=outage):
            assert tasks.send_signature_emails.apply().failed()
        waiting.refresh_from_db()
        assert not waiting.email_failed
        Signature.objects.filter(pk=waiting.pk).update(email_lease_until=timezone.now())
    run_sender()
    assert len(smtp.to(address_of(waiting))) == 1


def test_a_sender_without_the_key_hands_the_batch_back_and_fails_no_email(
    open_letter, smtp, caplog, settings
):
    """A process that cannot open sealed addresses (a worker not given
    SIGNER_SEAL_PRIVATE_KEYS) is not the emails' fault: it sends none, fails
    none, and hands them back for a sender that has the key."""
    rows = pending_without_a_sender(open_letter, "first@example.org", "second@example.org")
    keys = settings.SIGNER_SEAL_PRIVATE_KEYS
    settings.SIGNER_SEAL_PRIVATE_KEYS = []

    totals = run_sender()

    assert (totals["sent"], totals["failed"], totals["postponed"]) == (0, 0, 2)
    assert smtp.messages == []
    for row in rows:
        row.refresh_from_db()
        assert (row.emails_sent, row.email_failed, row.email_lease_until) == (0, False, None)
    assert "no key for sealed addresses" in app_logs(caplog)

    settings.SIGNER_SEAL_PRIVATE_KEYS = keys
    assert run_sender()["sent"] == 2
    assert len(smtp.to("first@example.org")) == len(smtp.to("second@example.org")) == 1


def test_a_sealed_address_that_does_not_open_fails_alone(open_letter, smtp, caplog):
    first, tampered, last = pending_without_a_sender(
        open_letter, "first@example.org", "tampered.seal@example.org", "last@example.org"
    )
    sealed = bytearray(bytes(tampered.email_sealed or b""))
    sealed[-1] ^= 1
    Signature.objects.filter(pk=tampered.pk).update(email_sealed=bytes(sealed))

    totals = run_sender()

    assert (totals["sent"], totals["failed"]) == (2, 1)
    assert len(smtp.to(address_of(first))) == len(smtp.to(address_of(last))) == 1
    tampered.refresh_from_db()
    assert tampered.email_failed
    logs = app_logs(caplog)
    assert f"signature {tampered.pk}: email cannot be sent (CannotUnseal)" in logs
    assert "tampered.seal" not in logs


def test_an_invitation_the_mail_backend_cannot_encode_is_dropped_without_the_address(
    open_letter, organiser, smtp, caplog
):
    invitation = Invitation.objects.create(
        letter=open_letter,
        email=POISONED[0],
        role=OrganiserRole.EDITOR,
        token_hash=secrets.token_hex(32),
        invited_by=organiser,
    )

    result = tasks.send_invitation_email.apply(args=(invitation.pk, "a-token"))

    assert result.state == "IGNORED"  # permanent: not retried, not a crash
    assert smtp.messages == []
    logs = app_logs(caplog)
    assert (
        f"letters.tasks.send_invitation_email {invitation.pk}: "
        "email cannot be sent (ValueError); dropped"
    ) in logs
    assert "tefan" not in logs
