"""The admin changes nothing by itself (issue 19): a staff member sees a
letter's status, paper count and versions read-only and changes the status
through actions and buttons that call the services, each leaving a
timeline event and an audit entry; a refused action changes nothing and
says why.  Nothing is deleted in the admin: signatures are invalidated
(audited, with a reason), versions, events, deliveries and the audit log
are read-only records, letters are archived or erased."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from letters.models import (
    AuditLog,
    EventKind,
    Letter,
    LetterEvent,
    LetterStatus,
    Signature,
    SignatureStatus,
)
from letters.selectors.counts import letter_counts
from letters.tests.factories import (
    confirmed_signature,
    deliver,
    make_admin,
    pending_signature,
)

CHANGELIST = "/admin/letters/letter/"
SIGNATURES = "/admin/letters/signature/"


@pytest.fixture
def admin_user(db: None) -> Any:
    return make_admin()


@pytest.fixture
def client(admin_user: Any) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(admin_user)
    return client


def said(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_status_paper_count_and_version_are_read_only_on_a_letters_page(
    client: Client, open_letter: Letter
) -> None:
    response = client.get(f"{CHANGELIST}{open_letter.pk}/change/")

    assert response.status_code == 200
    form = response.context["adminform"].form
    for field in ("status", "paper_count", "current_version", "published_at", "slug"):
        assert field not in form.fields, field
    assert "title" in form.fields  # settings stay editable
    page = response.content.decode()
    assert 'name="status"' not in page
    assert 'name="paper_count"' not in page
    # The buttons that apply to an open letter: close and archive, not publish.
    assert 'name="_step" value="close"' in page
    assert 'name="_step" value="archive"' in page
    assert 'name="_step" value="publish"' not in page


def test_posting_a_status_to_the_letters_page_changes_nothing(
    client: Client, open_letter: Letter
) -> None:
    page = client.get(f"{CHANGELIST}{open_letter.pk}/change/")
    data = {
        name: value
        for name, value in page.context["adminform"].form.initial.items()
        if value is not None and name in page.context["adminform"].form.fields
    }
    data |= {"title": "Stop the contract now", "status": "archived", "paper_count": "999"}
    for inline in page.context["inline_admin_formsets"]:  # the employers, read-only
        management = inline.formset.management_form
        data |= {management.add_prefix(k): v for k, v in management.initial.items()}

    response = client.post(f"{CHANGELIST}{open_letter.pk}/change/", data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    open_letter.refresh_from_db()
    assert open_letter.title == "Stop the contract now"
    assert open_letter.status == LetterStatus.OPEN
    assert open_letter.paper_count == 0
    entry = AuditLog.objects.get(action="admin.letter.edit")
    assert entry.details["fields"] == "title"


def test_closing_from_the_list_goes_through_the_service_with_event_and_audit(
    client: Client, admin_user: Any, open_letter: Letter
) -> None:
    response = client.post(
        CHANGELIST,
        {"action": "close_letters", "_selected_action": [open_letter.pk]},
        follow=True,
    )

    open_letter.refresh_from_db()
    assert open_letter.status == LetterStatus.CLOSED
    event = LetterEvent.objects.get(letter=open_letter, kind=EventKind.CLOSED)
    assert event.created_by == admin_user
    entry = AuditLog.objects.get(action="admin.letter.close")
    assert entry.actor == admin_user
    assert entry.letter == open_letter
    assert entry.details == {"status_before": "open", "status": "closed"}
    assert "Closed 1 letters." in said(response)


def test_the_archive_button_on_a_letters_page_archives_it(
    client: Client, admin_user: Any, open_letter: Letter
) -> None:
    url = f"{CHANGELIST}{open_letter.pk}/change/"

    response = client.post(url, {"_step": "archive", "title": "ignored"}, follow=True)

    assert response.redirect_chain == [(url, 302)]
    open_letter.refresh_from_db()
    assert open_letter.status == LetterStatus.ARCHIVED
    assert open_letter.title == "Stop the contract"  # the button saves no field
    assert LetterEvent.objects.filter(letter=open_letter, kind=EventKind.ARCHIVED).exists()
    assert AuditLog.objects.get(action="admin.letter.archive").actor == admin_user


def test_a_refused_action_changes_nothing_and_says_why(client: Client, open_letter: Letter) -> None:
    events = LetterEvent.objects.filter(letter=open_letter).count()

    response = client.post(
        CHANGELIST,
        {"action": "publish_letters", "_selected_action": [open_letter.pk]},
        follow=True,
    )

    assert response.status_code == 200
    open_letter.refresh_from_db()
    assert open_letter.status == LetterStatus.OPEN
    assert LetterEvent.objects.filter(letter=open_letter).count() == events
    assert not AuditLog.objects.filter(action__startswith="admin.letter.").exists()
    assert f"{open_letter.title}: Only a draft can be published." in said(response)
    assert "Only a draft can be published." in response.content.decode()


def test_invalidating_signatures_asks_for_a_reason_then_audits(
    client: Client, admin_user: Any, open_letter: Letter
) -> None:
    signatures = [confirmed_signature(open_letter) for _ in range(2)]
    ids = [s.pk for s in signatures]
    before = letter_counts(letter_id=open_letter.pk).confirmed
    chosen = {"action": "invalidate_signatures", "_selected_action": ids}

    asked = client.post(SIGNATURES, chosen)
    no_reason = client.post(SIGNATURES, chosen | {"post": "yes", "reason": " "})
    done = client.post(SIGNATURES, chosen | {"post": "yes", "reason": "Bots"}, follow=True)

    assert asked.status_code == 200
    assert 'name="reason"' in asked.content.decode()
    assert "Give a reason." in no_reason.content.decode()
    assert "Invalidated 2 signatures." in said(done)
    statuses = set(Signature.objects.filter(pk__in=ids).values_list("status", flat=True))
    assert statuses == {SignatureStatus.INVALIDATED}
    assert letter_counts(letter_id=open_letter.pk).confirmed == before - 2
    entry = AuditLog.objects.get(action="admin.signature.invalidate")
    assert entry.actor == admin_user
    assert entry.letter == open_letter
    assert entry.details == {"count": "2", "reason": "Bots"}


def test_invalidating_a_pending_signature_is_refused_and_changes_nothing(
    client: Client, open_letter: Letter
) -> None:
    confirmed, pending = confirmed_signature(open_letter), pending_signature(open_letter)

    response = client.post(
        SIGNATURES,
        {
            "action": "invalidate_signatures",
            "_selected_action": [confirmed.pk, pending.pk],
            "post": "yes",
            "reason": "Bots",
        },
        follow=True,
    )

    assert any("Only confirmed signatures can be invalidated" in m for m in said(response))
    assert Signature.objects.get(pk=confirmed.pk).status == SignatureStatus.CONFIRMED
    assert Signature.objects.get(pk=pending.pk).status == SignatureStatus.PENDING
    assert not AuditLog.objects.filter(action="admin.signature.invalidate").exists()


def _records(letter: Letter, admin_user: Any) -> dict[str, int]:
    """One row of each kind nobody may delete in the admin."""
    signature = confirmed_signature(letter)
    delivery, _links = deliver(letter, by=admin_user)
    entry = AuditLog.objects.create(action="test.entry", letter=letter)
    return {
        "letter": letter.pk,
        "signature": signature.pk,
        "letterversion": letter.current_version_id or 0,
        "letterevent": LetterEvent.objects.filter(letter=letter).first().pk,  # type: ignore[union-attr]
        "delivery": delivery.pk,
        "auditlog": entry.pk,
    }


def test_nothing_can_be_deleted_in_the_admin(
    client: Client, admin_user: Any, open_letter: Letter
) -> None:
    records = _records(open_letter, admin_user)

    for model, pk in records.items():
        changelist = client.get(f"/admin/letters/{model}/")
        delete_page = client.get(f"/admin/letters/{model}/{pk}/delete/")
        delete_post = client.post(f"/admin/letters/{model}/{pk}/delete/", {"post": "yes"})
        bulk = client.post(
            f"/admin/letters/{model}/",
            {"action": "delete_selected", "_selected_action": [pk], "post": "yes"},
        )

        assert changelist.status_code == 200, model
        assert "delete_selected" not in changelist.content.decode(), model
        assert delete_page.status_code == 403, model
        assert delete_post.status_code == 403, model
        assert bulk.status_code in {200, 302}, model
        manager = changelist.context["cl"].model._default_manager
        assert manager.filter(pk=pk).exists(), model


def test_versions_events_deliveries_and_the_audit_log_are_read_only(
    client: Client, admin_user: Any, open_letter: Letter
) -> None:
    records = _records(open_letter, admin_user)

    for model in ("letterversion", "letterevent", "delivery", "auditlog"):
        page = client.get(f"/admin/letters/{model}/{records[model]}/change/")
        post = client.post(f"/admin/letters/{model}/{records[model]}/change/", {"text": "x"})
        add = client.get(f"/admin/letters/{model}/add/")

        assert page.status_code == 200, model
        assert 'name="_save"' not in page.content.decode(), model
        assert post.status_code == 403, model
        assert add.status_code == 403, model
    assert client.get(f"{CHANGELIST}add/").status_code == 403  # letters start with organisers
