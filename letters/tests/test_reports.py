"""Reports and takedown (issue 19), service by service and surface by
surface: a visitor reports a letter (no account, rate-limited, the same
answer either way, nothing about signers); admins dismiss, ask the
organisers for a change, or take the letter down with a public reason;
the organisers appeal once; an admin reinstates or rejects.  Every step is
a timeline event (public for takedown and reinstatement only) and an audit
entry."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import User
from letters import http, services
from letters.models import (
    AuditLog,
    EventKind,
    Letter,
    LetterEvent,
    LetterStatus,
    Report,
    ReportOutcome,
    Signature,
    Takedown,
)
from letters.selectors.reports import moderation_queue
from letters.tests.factories import (
    EDITOR,
    add_co_organisers,
    confirmed_signature,
    deliver,
    make_admin,
)
from letters.tests.factories import (
    open_letter as make_letter,
)
from speed import memory

pytestmark = pytest.mark.django_db

QUEUE = "/admin/letters/report/"
REASON = "It names a colleague and accuses them without evidence."


@pytest.fixture
def admin_user(db: None) -> User:
    return make_admin()


@pytest.fixture
def admin_client(admin_user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(admin_user)
    return client


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks: Any) -> Any:
    """Run what services ask for on commit (the organisers' emails)."""
    return django_capture_on_commit_callbacks


@pytest.fixture
def later(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Move the public caches' clocks past the longest a copy stays fresh."""

    def move() -> None:
        shift = max(settings.COUNT_INTERVAL, settings.SIGNING_LETTER_TTL) + 1
        clock = SimpleNamespace(
            time=lambda: time.time() + shift, monotonic=lambda: time.monotonic() + shift
        )
        monkeypatch.setattr(http, "time", clock)
        monkeypatch.setattr(memory, "time", clock)

    return move


def report(client: Client, letter: Letter, **data: str) -> Any:
    return client.post(
        f"/letters/{letter.slug}/report/", {"reason": "abuse", "text": "Hateful", **data}
    )


def audited(action: str, letter: Letter) -> int:
    return AuditLog.objects.filter(action=action, letter=letter).count()


# --- A visitor reports -----------------------------------------------------------------


def test_a_visitor_reports_a_letter_without_an_account_and_is_thanked(
    open_letter: Letter,
) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    form = client.get(f"/letters/{open_letter.slug}/report/")
    assert form.status_code == 200
    assert form["Cache-Control"] == "private, no-store"
    assert 'name="csrfmiddlewaretoken"' in form.content.decode()

    response = report(client, open_letter, text="Names a colleague")

    assert response.status_code == 302
    assert response["Location"] == f"/letters/{open_letter.slug}/report/sent/"
    (kept,) = Report.objects.filter(letter=open_letter)
    assert (kept.reason, kept.text, kept.outcome) == ("abuse", "Names a colleague", "open")
    assert audited("report.create", open_letter) == 1
    thanks = client.get(response["Location"])
    assert thanks.status_code == 200
    assert "Thank you for your report" in thanks.content.decode()


def test_the_letter_page_links_to_the_report_page_and_carries_no_form_of_it(
    open_letter: Letter,
) -> None:
    page = Client().get(f"/letters/{open_letter.slug}/").content.decode()
    assert f'href="/letters/{open_letter.slug}/report/"' in page
    assert 'name="reason"' not in page  # the form is on its own page, not the cached copy


def test_a_report_needs_a_reason_from_the_list_and_at_most_1000_characters(
    open_letter: Letter,
) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    for data in ({"reason": ""}, {"reason": "boring"}, {"text": "x" * 1001}):
        response = report(client, open_letter, **data)
        assert response.status_code == 200, data
        assert 'role="alert"' in response.content.decode()
    assert not Report.objects.exists()


def test_the_report_pages_refuse_other_methods(open_letter: Letter, organiser: User) -> None:
    client = Client()
    assert client.put(f"/letters/{open_letter.slug}/report/").status_code == 405
    assert client.post(f"/letters/{open_letter.slug}/report/sent/").status_code == 405
    owner = _signed_in(organiser)
    assert owner.get(f"/organise/{open_letter.slug}/appeal/").status_code == 405


def test_reporting_needs_the_csrf_token(open_letter: Letter) -> None:
    client = Client(enforce_csrf_checks=True)
    assert report(client, open_letter).status_code == 403
    assert not Report.objects.exists()


def test_over_the_rate_limit_a_report_is_not_kept_and_the_answer_is_the_same(
    open_letter: Letter,
) -> None:
    client = Client(REMOTE_ADDR="203.0.113.9")
    answers = [report(client, open_letter) for _ in range(5)]

    assert {(a.status_code, a["Location"]) for a in answers} == {
        (302, f"/letters/{open_letter.slug}/report/sent/")
    }
    assert Report.objects.count() == 3  # REPORT_RATE_BURST
    assert audited("report.rate_limited", open_letter) == 2
    other = Client(REMOTE_ADDR="203.0.113.10")
    report(other, open_letter)
    assert Report.objects.count() == 4  # per client


def test_only_public_letters_can_be_reported(organiser: User, open_letter: Letter) -> None:
    client = Client()
    assert client.get("/letters/no-such-letter/report/").status_code == 404
    services.letter_archive(letter=open_letter, by=organiser)
    assert client.get(f"/letters/{open_letter.slug}/report/").status_code == 404
    assert report(client, open_letter).status_code == 404
    assert not Report.objects.exists()


def test_a_report_keeps_nothing_about_who_reported_or_who_signed(open_letter: Letter) -> None:
    confirmed_signature(open_letter, name="Pia Public", email="pia@example.org")
    report(Client(REMOTE_ADDR="203.0.113.9"), open_letter, text="Spam")
    (kept,) = Report.objects.values()
    assert set(kept) == {
        "id",
        "letter_id",
        "reason",
        "text",
        "created_at",
        "outcome",
        "resolved_at",
        "resolved_by_id",
    }
    entry = AuditLog.objects.get(action="report.create")
    assert "203.0.113.9" not in str(entry.details)
    assert entry.actor is None


# --- The admins' queue -----------------------------------------------------------------


def test_the_queue_groups_open_reports_by_letter_oldest_first(
    organiser: User, open_letter: Letter, admin_client: Client
) -> None:
    other = make_letter(owner=organiser, slug="second-letter", title="The second letter")
    client = Client()
    report(client, other, reason="spam", text="Buy now")
    report(client, open_letter, text="First about the contract")
    report(client, other, reason="other", text="Again")
    Report.objects.filter(letter=open_letter).update(created_at=timezone.now() + timedelta(1))

    queue = moderation_queue()
    assert [e.letter for e in queue] == [other, open_letter]
    assert [r.text for r in queue[0].reports] == ["Buy now", "Again"]

    page = admin_client.get(QUEUE)
    assert page.status_code == 200
    html = page.content.decode()
    assert html.index("The second letter") < html.index("Stop the contract")
    assert "Buy now" in html
    assert "Spam or advertising" in html


def test_the_queue_shows_nothing_about_signers(open_letter: Letter, admin_client: Client) -> None:
    confirmed_signature(open_letter, name="Pia Public", email="pia@example.org", team="Data")
    report(Client(), open_letter)
    html = admin_client.get(QUEUE).content.decode()
    assert "Pia Public" not in html
    assert "pia@example.org" not in html
    assert "Data" not in html


def test_only_staff_reach_the_queue_and_its_actions(organiser: User, open_letter: Letter) -> None:
    report(Client(), open_letter)
    for client in (Client(), _signed_in(organiser)):
        assert client.get(QUEUE).status_code in (302, 403)  # the admin's login, or refused
        got = client.post(f"{QUEUE}{open_letter.pk}/take_down/", {"reason": REASON})
        assert got.status_code in (302, 403)
        assert "Location" not in got or "/login/" in got["Location"]
    assert Letter.objects.get(pk=open_letter.pk).status == LetterStatus.OPEN


def test_queue_actions_take_post_only(open_letter: Letter, admin_client: Client) -> None:
    assert admin_client.get(f"{QUEUE}{open_letter.pk}/dismiss/").status_code == 405


def _signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_dismissing_closes_the_reports_with_a_private_event_and_an_audit_entry(
    open_letter: Letter, admin_client: Client
) -> None:
    report(Client(), open_letter)
    admin_client.post(f"{QUEUE}{open_letter.pk}/dismiss/")

    assert Report.objects.get().outcome == ReportOutcome.DISMISSED
    assert LetterEvent.objects.filter(letter=open_letter, kind=EventKind.REPORTS_DISMISSED).exists()
    assert audited("report.dismiss", open_letter) == 1
    assert moderation_queue() == []
    assert "Reports dismissed" not in Client().get(f"/letters/{open_letter.slug}/").content.decode()


def test_asking_for_a_change_emails_the_organisers_and_shows_on_their_page(
    organiser: User, open_letter: Letter, admin_client: Client, on_commit: Any
) -> None:
    report(Client(), open_letter)
    mail.outbox.clear()
    with on_commit(execute=True):
        admin_client.post(
            f"{QUEUE}{open_letter.pk}/request_change/",
            {"message": "Remove the colleague's name."},
        )

    assert Report.objects.get().outcome == ReportOutcome.CHANGE_REQUESTED
    assert audited("report.request_change", open_letter) == 1
    (email,) = [m for m in mail.outbox if organiser.email in m.to]
    assert "Remove the colleague's name." in email.body
    page = _signed_in(organiser).get(f"/organise/{open_letter.slug}/").content.decode()
    assert "Remove the colleague&#x27;s name." in page
    public = Client().get(f"/letters/{open_letter.slug}/").content.decode()
    assert "Remove the colleague" not in public  # not on the public timeline
    api = Client().get(f"/api/letters/{open_letter.slug}/").json()
    assert all(e["kind"] != "change_request" for e in api["timeline"])


def test_a_change_request_needs_a_message(open_letter: Letter, admin_user: User) -> None:
    with pytest.raises(services.ServiceError):
        services.letter_request_change(letter=open_letter, by=admin_user, message="  ")
    assert not LetterEvent.objects.filter(kind=EventKind.CHANGE_REQUESTED).exists()


# --- Takedown -----------------------------------------------------------------------------


def test_taking_a_letter_down_through_the_admin(
    organiser: User, open_letter: Letter, admin_client: Client, on_commit: Any
) -> None:
    report(Client(), open_letter)
    mail.outbox.clear()
    with on_commit(execute=True):
        response = admin_client.post(f"{QUEUE}{open_letter.pk}/take_down/", {"reason": REASON})

    assert response.status_code == 302
    open_letter.refresh_from_db()
    assert open_letter.status == LetterStatus.TAKEN_DOWN
    takedown = Takedown.objects.get(letter=open_letter)
    assert (takedown.reason, takedown.previous_status) == (REASON, LetterStatus.OPEN)
    assert Report.objects.get().outcome == ReportOutcome.TAKEN_DOWN
    event = LetterEvent.objects.get(letter=open_letter, kind=EventKind.TAKEN_DOWN)
    assert event.text == REASON
    assert audited("letter.take_down", open_letter) == 1
    assert any(organiser.email in m.to and REASON in m.body for m in mail.outbox)


def test_a_letter_cannot_be_taken_down_twice_or_without_a_reason(
    open_letter: Letter, admin_user: User, organiser: User
) -> None:
    with pytest.raises(services.ServiceError):
        services.letter_take_down(letter=open_letter, by=admin_user, reason="")
    services.letter_take_down(letter=open_letter, by=admin_user, reason=REASON)
    with pytest.raises(services.ServiceError):
        services.letter_take_down(letter=open_letter, by=admin_user, reason=REASON)
    assert Takedown.objects.count() == 1
    draft = services.letter_create(
        slug="a-draft",
        data=services.LetterInput(title="Draft", body="Text", demands=["One"], addressees=[]),
        owner=organiser,
    )
    with pytest.raises(services.ServiceError):
        services.letter_take_down(letter=draft, by=admin_user, reason=REASON)


TEXT_SURFACES = {
    "signatories": "/letters/{slug}/signatories/",
    "feed": "/letters/{slug}/feed/",
    "widget": "/letters/{slug}/embed/",
    "API letter": "/api/letters/{slug}/",
    "API counts": "/api/letters/{slug}/counts/",
    "share card": "/letters/{slug}/card.png",
    "report form": "/letters/{slug}/report/",
}


def test_a_taken_down_letter_shows_the_notice_and_never_its_text(
    open_letter: Letter, admin_user: User, later: Callable[[], None]
) -> None:
    confirmed_signature(open_letter, name="Pia Public", email="pia@example.org")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert "We, the undersigned" in client.get(f"/letters/{open_letter.slug}/").content.decode()

    services.letter_take_down(letter=open_letter, by=admin_user, reason=REASON)
    later()

    page = client.get(f"/letters/{open_letter.slug}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert REASON in html
    assert "taken down by the site" in html
    assert timezone.localdate().strftime("%Y") in html
    for hidden in ("We, the undersigned", "End the contract", "Pia Public", "Stop the contract"):
        assert hidden not in html, hidden
    for name, path in TEXT_SURFACES.items():
        got = client.get(path.format(slug=open_letter.slug))
        assert got.status_code == 404, name
        assert b"We, the undersigned" not in got.content, name
    index = client.get("/letters/").content.decode()
    assert open_letter.slug not in index


def test_a_taken_down_letter_takes_no_signatures(
    open_letter: Letter, admin_user: User, later: Callable[[], None]
) -> None:
    services.letter_take_down(letter=open_letter, by=admin_user, reason=REASON)
    later()
    rows = Signature.objects.count()
    got = Client().post(
        f"/letters/{open_letter.slug}/sign/",
        {"email": "new@example.org", "name": "New", "display": "public", "consent": "on"},
    )
    assert got.status_code == 404
    assert Signature.objects.count() == rows


def test_a_taken_down_letter_s_review_and_leadership_links_stop_showing_it(
    organiser: User, open_letter: Letter, admin_user: User
) -> None:
    token = services.letter_preview_link_create(letter=open_letter)
    _delivery, (issued,) = deliver(open_letter, by=organiser, method="email")
    services.letter_take_down(letter=open_letter, by=admin_user, reason=REASON)
    for path in (f"/p/{token}/", f"/l/{issued.token}/"):
        got = Client().get(path)
        assert got.status_code == 404, path
        assert b"We, the undersigned" not in got.content


def test_signers_data_of_a_taken_down_letter_is_erased_like_a_closed_letter_s(
    open_letter: Letter, admin_user: User
) -> None:
    confirmed_signature(open_letter, name="Pia Public", email="pia@example.org")
    services.letter_take_down(letter=open_letter, by=admin_user, reason=REASON)
    assert services.signatures_erase_retained() == 0  # not yet
    LetterEvent.objects.filter(letter=open_letter).update(
        created_at=timezone.now() - timedelta(days=settings.RETENTION_DAYS + 1)
    )
    assert services.signatures_erase_retained() == 1
    assert not Signature.objects.filter(letter=open_letter, erased_at__isnull=True).exists()


# --- Appeal, reinstatement, rejection ------------------------------------------------


@pytest.fixture
def taken_down(open_letter: Letter, admin_user: User) -> Letter:
    add_co_organisers(open_letter)
    services.letter_take_down(letter=open_letter, by=admin_user, reason=REASON)
    open_letter.refresh_from_db()
    return open_letter


def appeal(user: User, letter: Letter, message: str = "We removed the name.") -> Any:
    return _signed_in(user).post(f"/organise/{letter.slug}/appeal/", {"message": message})


def test_the_organisers_see_the_takedown_and_appeal_once(
    taken_down: Letter, organiser: User, admin_client: Client
) -> None:
    page = _signed_in(organiser).get(f"/organise/{taken_down.slug}/").content.decode()
    assert REASON in page
    assert f'action="/organise/{taken_down.slug}/appeal/"' in page

    assert appeal(organiser, taken_down).status_code == 302
    takedown = Takedown.objects.get()
    assert takedown.appeal == "We removed the name."
    assert LetterEvent.objects.filter(letter=taken_down, kind=EventKind.APPEALED).count() == 1
    assert audited("letter.appeal", taken_down) == 1

    appeal(organiser, taken_down, "Once more")  # refused: one appeal
    assert Takedown.objects.get().appeal == "We removed the name."
    assert LetterEvent.objects.filter(kind=EventKind.APPEALED).count() == 1
    page = _signed_in(organiser).get(f"/organise/{taken_down.slug}/").content.decode()
    assert "appeal/" not in page.split('data-testid="moderation"')[1].split("</section>")[0]

    queue = admin_client.get(QUEUE).content.decode()
    assert "We removed the name." in queue


def test_a_viewer_cannot_appeal_and_an_outsider_is_told_nothing(
    taken_down: Letter, outsider: User
) -> None:
    viewer = User.objects.get(email="vera.viewer@example.org")
    assert appeal(viewer, taken_down).status_code == 403
    assert appeal(outsider, taken_down).status_code == 404
    assert not Takedown.objects.filter(appealed_at__isnull=False).exists()
    editor = User.objects.get(email=EDITOR.email)
    assert appeal(editor, taken_down).status_code == 302
    assert Takedown.objects.get().appealed_by == editor


def test_an_admin_reinstates_on_appeal_and_the_text_is_back(
    taken_down: Letter, organiser: User, admin_client: Client, later: Callable[[], None]
) -> None:
    appeal(organiser, taken_down)
    admin_client.post(f"{QUEUE}{taken_down.pk}/reinstate/", {"note": "Thanks for fixing it."})
    later()

    taken_down.refresh_from_db()
    assert taken_down.status == LetterStatus.OPEN
    takedown = Takedown.objects.get()
    assert takedown.decision == "reinstated"
    assert takedown.reinstated_at is not None
    assert audited("letter.reinstate", taken_down) == 1
    html = Client().get(f"/letters/{taken_down.slug}/").content.decode()
    assert "We, the undersigned" in html
    assert "Reinstated by the moderators" in html  # public on the timeline
    assert "Taken down by the moderators" in html
    assert "We removed the name." not in html  # the appeal is not
    assert moderation_queue() == []


def test_an_admin_rejects_the_appeal_and_the_letter_stays_down(
    taken_down: Letter, organiser: User, admin_client: Client, on_commit: Any
) -> None:
    appeal(organiser, taken_down)
    mail.outbox.clear()
    with on_commit(execute=True):
        admin_client.post(f"{QUEUE}{taken_down.pk}/reject_appeal/", {"note": "Still defamatory."})

    taken_down.refresh_from_db()
    assert taken_down.status == LetterStatus.TAKEN_DOWN
    assert Takedown.objects.get().decision == "rejected"
    assert audited("letter.appeal_reject", taken_down) == 1
    assert any("Still defamatory." in m.body for m in mail.outbox)
    page = _signed_in(organiser).get(f"/organise/{taken_down.slug}/").content.decode()
    assert "rejected the appeal" in page
    with pytest.raises(services.ServiceError):
        services.takedown_appeal(letter=taken_down, by=organiser, message="Again")
    with pytest.raises(services.ServiceError):
        services.takedown_reject_appeal(letter=taken_down, by=organiser, note="")


def test_reinstating_restores_the_status_the_letter_had(
    organiser: User, open_letter: Letter, admin_user: User
) -> None:
    services.letter_close(letter=open_letter, by=organiser)
    services.letter_take_down(letter=open_letter, by=admin_user, reason=REASON)
    services.takedown_reinstate(letter=open_letter, by=admin_user)
    open_letter.refresh_from_db()
    assert open_letter.status == LetterStatus.CLOSED
    with pytest.raises(services.ServiceError):
        services.takedown_reinstate(letter=open_letter, by=admin_user)
    # ...and it can be taken down again later.
    services.letter_take_down(letter=open_letter, by=admin_user, reason="Again")
    assert Takedown.objects.filter(reinstated_at__isnull=True).count() == 1
