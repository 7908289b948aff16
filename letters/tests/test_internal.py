"""Internal first (issue 18): a letter shared with its employers' staff
before it goes public.  Nobody without a reading grant (a visitor, a
crawler, staff of another employer) reads its title, text or counts; staff
at its employers' domains get a neutral one-time reading link whose GET
changes nothing and whose button grants this browser reading; signing works
the same; it goes public by an organiser's hand or at a threshold, with an
event emailed to the signers who asked for news.  The crawl of every public
address: tests/security/test_internal_crawl.py."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from letters import reading, selectors, services
from letters.http import local_tier_clear
from letters.models import Display, EventKind, Letter, ReadPass, SignatureStatus
from letters.tests.factories import (
    add_co_organisers,
    client_for,
    confirmed_signature,
    current,
    edit_letter,
    letter_form,
    open_letter,
    signature_of,
)

pytestmark = pytest.mark.django_db(transaction=True)

TITLE = "Quietly Ask Northwind Leadership"
BODY = "Dear leadership,\n\nWe ask you to reconsider the *Harbour Vantage* deal."
SECRET_BODY = "Harbour Vantage"
DEMAND = "Cancel the Harbour Vantage deal"
SIGNER_NAME = "Noor Northcott"
STAFF = "sally.staff@northwind.example"
SUBSIDIARY_STAFF = "sid.sub@eu.northwind.example"
OTHER_STAFF = "olga.other@contoso.example"
WHAT_NOBODY_ELSE_READS = (TITLE, SECRET_BODY, DEMAND, SIGNER_NAME, "verified signature")
ORIGIN: dict[str, Any] = {"HTTP_ORIGIN": "http://testserver"}


def internal_letter(owner: Any, slug: str = "quiet-ask", **more: Any) -> Letter:
    letter = open_letter(
        owner=owner,
        slug=slug,
        title=TITLE,
        body=BODY,
        demands=[DEMAND],
        translations=(),
        allowed_domains=["northwind.example"],
        internal=True,
        **more,
    )
    assert letter.internal
    return letter


@pytest.fixture
def letter(organiser: Any) -> Letter:
    letter = internal_letter(organiser)
    confirmed_signature(letter, name=SIGNER_NAME, email="noor@northwind.example")
    return current(letter)


def fresh_copies() -> None:
    """Forget the shared copies (as COUNT_INTERVAL passing would)."""
    local_tier_clear()
    cache.clear()


def assert_names_nothing(text: str) -> None:
    leaked = [secret for secret in WHAT_NOBODY_ELSE_READS if secret in text]
    assert leaked == [], text[:2000]


def ask_for_link(client: Client, letter: Letter, email: str, **extra: Any) -> Any:
    url = reverse("letters:read_request", kwargs={"slug": letter.slug})
    return client.post(url, {"email": email}, **{**ORIGIN, **extra})


def link_in(message: Any) -> str:
    match = re.search(r"https?://[^/\s]+(/r/[^\s/]+/)", message.body)
    assert match, message.body
    return match.group(1)


def to(address: str) -> list[Any]:
    return [m for m in mail.outbox if address in m.to]


def reader(letter: Letter, email: str = STAFF) -> Client:
    """A browser whose owner asked for a link with `email` and pressed its button."""
    client = Client()
    mail.outbox.clear()
    assert ask_for_link(client, letter, email).status_code == 302
    (message,) = to(email)
    assert client.post(link_in(message)).status_code == 302
    return client


# --- Nobody else reads it ------------------------------------------------------------


def test_a_visitor_sees_only_the_neutral_form(letter: Letter) -> None:
    for language in ("en", "de"):
        response = Client().get(f"/letters/{letter.slug}/?lang={language}")

        assert response.status_code == 200
        text = response.content.decode()
        assert_names_nothing(text)
        assert 'name="robots" content="noindex"' in text
        assert 'property="og:title" content="Undersigned"' in text  # the site's, not the letter's
        assert f'action="/letters/{letter.slug}/read/?lang={language}"' in text
    english = Client().get(f"/letters/{letter.slug}/").content.decode()
    assert "This letter is shared with staff of its employers first." in english
    assert "Enter your work address to get a reading link." in english
    assert "northwind" not in english.lower()  # not even the employers


def test_the_neutral_form_is_the_shared_copy_and_readers_never_enter_it(letter: Letter) -> None:
    staff = reader(letter)
    fresh_copies()

    read = staff.get(f"/letters/{letter.slug}/")
    shared = Client().get(f"/letters/{letter.slug}/")
    again = staff.get(f"/letters/{letter.slug}/")

    assert TITLE in read.content.decode()
    assert read["Cache-Control"] == "private, no-store"
    assert read["X-Robots-Tag"] == "noindex"
    assert "Cookie" in read["Vary"]
    assert "ETag" not in read
    assert_names_nothing(shared.content.decode())
    assert shared["Cache-Control"].startswith("public, max-age=")
    assert TITLE in again.content.decode()


def test_its_other_addresses_answer_like_an_unknown_letter(letter: Letter) -> None:
    client = Client()
    for path in (
        f"/letters/{letter.slug}/signatories/",
        f"/letters/{letter.slug}/feed/",
        f"/letters/{letter.slug}/card.png",
        f"/letters/{letter.slug}/embed/",
        f"/letters/{letter.slug}/report/",
        f"/api/letters/{letter.slug}/",
        f"/api/letters/{letter.slug}/counts/",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert_names_nothing(response.content.decode(errors="replace"))
    inbox = client.get(f"/letters/{letter.slug}/check-inbox/")
    assert inbox.status_code == 200
    assert_names_nothing(inbox.content.decode())


def test_crawlers_find_it_nowhere(letter: Letter, organiser: Any) -> None:
    public = open_letter(owner=organiser, slug="a-public-one")
    client = Client()

    answers = {
        path: client.get(path).content.decode()
        for path in ("/letters/", "/sitemap.xml", "/robots.txt", "/api/letters/")
    }

    assert public.slug in answers["/letters/"]
    assert public.slug in answers["/sitemap.xml"]
    for path, text in answers.items():
        assert letter.slug not in text, path
        assert_names_nothing(text)
    assert "Disallow: /letters/*/read/" in answers["/robots.txt"]
    assert "Disallow: /r/" in answers["/robots.txt"]
    assert list(selectors.letters_listed()) == [public]
    index = selectors.letters_index()
    assert [x.pk for x, _counts in index.open] == [public.pk]


def test_a_taken_down_internal_letter_is_not_named_by_its_notice(
    letter: Letter, organiser: Any
) -> None:
    services.letter_take_down(letter=letter, by=organiser, reason="It names a colleague.")

    response = Client().get(f"/letters/{letter.slug}/")

    assert response.status_code == 404
    assert_names_nothing(response.content.decode())


# --- Reading links -------------------------------------------------------------------


def test_staff_get_a_neutral_one_time_link_and_nothing_about_them_is_kept(
    letter: Letter, organiser: Any
) -> None:
    mail.outbox.clear()
    client = Client()

    response = ask_for_link(client, letter, STAFF)
    subsidiary = ask_for_link(client, letter, SUBSIDIARY_STAFF)

    sent = reverse("letters:read_sent", kwargs={"slug": letter.slug})
    assert response.status_code == subsidiary.status_code == 302
    assert response["Location"] == subsidiary["Location"] == f"{sent}?lang=en"
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert_names_nothing(page.content.decode())
    (message,) = to(STAFF)
    assert len(to(SUBSIDIARY_STAFF)) == 1
    assert message.subject == "Your reading link"
    whole = message.body + str(message.alternatives[0][0]) + message.subject
    for secret in (*WHAT_NOBODY_ELSE_READS, letter.slug, "Northwind", organiser.name):
        assert secret not in whole
    assert link_in(message).startswith("/r/")
    passes = list(ReadPass.objects.filter(letter=letter).values())
    assert len(passes) == 2
    for row in passes:
        assert "sally" not in str(row)
        assert "northwind" not in str(row)


def test_the_answer_is_the_same_for_a_signer_and_a_stranger_at_the_domains(
    letter: Letter,
) -> None:
    signer = ask_for_link(Client(), letter, "noor@northwind.example")
    stranger = ask_for_link(Client(), letter, "nobody.yet@northwind.example")

    assert signer.status_code == stranger.status_code == 302
    assert signer["Location"] == stranger["Location"]
    assert signer.content == stranger.content


def test_another_employer_s_staff_are_told_only_that_the_domain_is_wrong(
    letter: Letter,
) -> None:
    mail.outbox.clear()

    response = ask_for_link(Client(), letter, OTHER_STAFF)

    assert response.status_code == 400
    text = response.content.decode()
    assert "it must be at one of the employers&#x27; email domains" in text
    assert_names_nothing(text)
    assert "northwind" not in text.lower()
    assert mail.outbox == []
    assert not ReadPass.objects.exists()


def test_asking_again_and_again_sends_nothing_more_and_answers_the_same(
    letter: Letter, settings: Any
) -> None:
    settings.SIGN_RATE_BURST = "2/60"
    mail.outbox.clear()
    client = Client()

    answers = [ask_for_link(client, letter, f"s{n}@northwind.example") for n in range(3)]

    assert {a.status_code for a in answers} == {302}
    assert len({a["Location"] for a in answers}) == 1
    assert len(mail.outbox) == 2

    settings.SIGN_RATE_BURST = "100/60"
    settings.INTERNAL_READ_LINK_RATE_PER_ADDRESS = "1/3600"
    mail.outbox.clear()
    first = ask_for_link(Client(), letter, STAFF, REMOTE_ADDR="203.0.113.7")
    second = ask_for_link(Client(), letter, STAFF, REMOTE_ADDR="203.0.113.8")
    assert first["Location"] == second["Location"]
    assert len(to(STAFF)) == 1


def test_the_link_s_get_changes_nothing_and_its_button_grants_reading(letter: Letter) -> None:
    client = Client()
    ask_for_link(client, letter, STAFF)
    (message,) = to(STAFF)
    link = link_in(message)

    opened = client.get(link)

    assert opened.status_code == 200
    assert opened["Cache-Control"] == "private, no-store"
    assert_names_nothing(opened.content.decode())
    assert ReadPass.objects.get().used_at is None
    assert reading.READ_COOKIE not in client.cookies
    assert_names_nothing(client.get(f"/letters/{letter.slug}/").content.decode())

    pressed = client.post(link)

    assert pressed.status_code == 302
    assert pressed["Location"] == f"/letters/{letter.slug}/"
    assert ReadPass.objects.get().used_at is not None
    cookie = pressed.cookies[reading.READ_COOKIE]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == f"/letters/{letter.slug}/"
    assert int(cookie["max-age"]) == reading.READ_GRANT_SECONDS
    page = client.get(f"/letters/{letter.slug}/")
    text = page.content.decode()
    for shown in (TITLE, SECRET_BODY, DEMAND, SIGNER_NAME, "1 verified signature"):
        assert shown in text
    assert 'action="/letters/quiet-ask/sign/?lang=en"' in text
    assert 'name="robots" content="noindex"' in text
    assert "/feed/" not in text  # no feed, no report link, no og:title of the letter
    assert "/report/" not in text
    assert 'property="og:title" content="Quietly' not in text
    assert page["Cache-Control"] == "private, no-store"
    signatories = client.get(f"/letters/{letter.slug}/signatories/")
    assert signatories.status_code == 200
    assert SIGNER_NAME in signatories.content.decode()
    assert signatories["Cache-Control"] == "private, no-store"


def test_a_used_link_names_nothing_and_does_nothing(letter: Letter) -> None:
    staff = reader(letter)
    link = link_in(to(STAFF)[0])
    later = Client()  # whoever reads the mailbox afterwards

    opened, pressed = later.get(link), later.post(link)

    for response in (opened, pressed):
        assert response.status_code == 200
        assert "This link has been used" in response.content.decode()
        assert_names_nothing(response.content.decode())
    assert reading.READ_COOKIE not in pressed.cookies
    assert_names_nothing(later.get(f"/letters/{letter.slug}/").content.decode())
    assert TITLE in staff.get(f"/letters/{letter.slug}/").content.decode()


def test_an_expired_or_unknown_link_is_an_invalid_link(letter: Letter) -> None:
    client = Client()
    ask_for_link(client, letter, STAFF)
    link = link_in(to(STAFF)[0])
    ReadPass.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    for path in (link, "/r/not-a-token/"):
        assert client.get(path).status_code == 404
        assert client.post(path).status_code == 404
    assert ReadPass.objects.get().used_at is None


def test_a_grant_opens_its_own_letter_only_and_cannot_be_forged(
    letter: Letter, organiser: Any
) -> None:
    other = internal_letter(organiser, slug="another-quiet-ask")
    staff = reader(letter)
    value = staff.cookies[reading.READ_COOKIE].value

    borrowed = Client()
    borrowed.cookies[reading.READ_COOKIE] = value  # sent to every path
    forged = Client()
    forged.cookies[reading.READ_COOKIE] = f"{other.pk}:forged:signature"

    assert_names_nothing(borrowed.get(f"/letters/{other.slug}/").content.decode())
    assert_names_nothing(forged.get(f"/letters/{other.slug}/").content.decode())
    assert TITLE in borrowed.get(f"/letters/{letter.slug}/").content.decode()


def test_the_grant_expires(letter: Letter, settings: Any) -> None:
    staff = reader(letter)
    settings.INTERNAL_READ_GRANT_SECONDS = -1  # every grant is older than that

    assert_names_nothing(staff.get(f"/letters/{letter.slug}/").content.decode())


def test_wrong_methods_and_cross_site_requests_are_refused(letter: Letter) -> None:
    client = Client()
    ask_for_link(client, letter, STAFF)
    link = link_in(to(STAFF)[0])

    assert client.get(f"/letters/{letter.slug}/read/").status_code == 405
    assert client.post(f"/letters/{letter.slug}/read/sent/").status_code == 405
    assert client.put(link).status_code == 405
    assert ReadPass.objects.get().used_at is None
    cross = ask_for_link(Client(), letter, STAFF, HTTP_ORIGIN="https://evil.example")
    assert cross.status_code == 403
    assert (
        ask_for_link(Client(), letter, STAFF, HTTP_SEC_FETCH_SITE="cross-site").status_code == 403
    )
    assert len(to(STAFF)) == 1
    assert Client().post("/letters/no-such-letter/read/", {"email": STAFF}).status_code == 404


def test_a_public_letter_needs_no_reading_link(organiser: Any) -> None:
    public = open_letter(owner=organiser, slug="a-public-one")

    response = ask_for_link(Client(), public, STAFF)

    assert response.status_code == 302
    assert response["Location"] == f"/letters/{public.slug}/"
    assert to(STAFF) == []


# --- Signing works the same --------------------------------------------------------


def sign(letter: Letter, email: str, client: Client | None = None, **more: str) -> Any:
    data = {"name": "Sue Signer", "email": email, "display": "public", "consent": "on", **more}
    url = reverse("letters:sign", kwargs={"slug": letter.slug})
    return (client or Client()).post(url, data, **ORIGIN)


def test_signing_an_internal_letter_works_as_for_a_public_one(letter: Letter) -> None:
    mail.outbox.clear()

    response = sign(letter, STAFF)

    assert response.status_code == 302
    assert response["Location"].startswith(f"/letters/{letter.slug}/check-inbox/")
    inbox = Client().get(response["Location"])
    assert "Open the link in it to confirm your signature." in inbox.content.decode()
    assert_names_nothing(inbox.content.decode())
    signature = signature_of(letter, STAFF).get()
    assert signature.work_address
    (request,) = to(STAFF)
    assert TITLE not in request.body
    confirm = re.search(r"(/s/[^\s/]+/)", request.body)
    assert confirm is not None
    page = Client().post(confirm.group(1), {"display": Display.PUBLIC})
    assert page.status_code == 200
    assert signature_of(letter, STAFF).get().status == SignatureStatus.CONFIRMED
    assert selectors.letter_counts(letter_id=letter.pk).confirmed == 2


def test_a_refused_sign_shows_a_stranger_the_neutral_form_and_a_reader_the_letter(
    letter: Letter,
) -> None:
    stranger = sign(letter, "", client=Client())
    staff = reader(letter)
    with_grant = sign(letter, "", client=staff)

    assert stranger.status_code == with_grant.status_code == 400
    assert_names_nothing(stranger.content.decode())
    assert "Shared with staff first" in stranger.content.decode()
    assert TITLE in with_grant.content.decode()
    assert with_grant["Cache-Control"] == "private, no-store"


def test_other_supporters_sign_only_once_it_is_public(letter: Letter, organiser: Any) -> None:
    letter = edit_letter(letter, by=organiser, accept_supporters=True)
    mail.outbox.clear()

    while_internal = sign(letter, OTHER_STAFF)

    assert while_internal.status_code == 400
    assert not signature_of(letter, OTHER_STAFF).exists()
    services.letter_make_public(letter=letter, by=organiser)
    selectors._signing_letters.clear()  # the sign path's copy of the letter, a moment later
    assert sign(letter, OTHER_STAFF).status_code == 302
    assert signature_of(letter, OTHER_STAFF).get().employer_id is None


# --- Going public ------------------------------------------------------------------


def opted_in(letter: Letter) -> None:
    confirmed_signature(letter, name="Pia", email="pia.personal@example.org", wants_updates=True)
    confirmed_signature(
        letter, name="Wes", email="wes@northwind.example", wants_updates=True, work_address=True
    )
    mail.outbox.clear()


def assert_told(letter: Letter) -> None:
    (news,) = to("pia.personal@example.org")
    assert news.subject == "News about a letter you signed"
    assert "Made public" in news.body
    assert TITLE in news.body
    (neutral,) = to("wes@northwind.example")
    assert neutral.subject == "News"
    assert TITLE not in neutral.body
    assert letter.events.filter(kind=EventKind.WENT_PUBLIC).count() == 1


def test_an_organiser_makes_it_public_behind_a_confirmation_step(
    letter: Letter, organiser: Any
) -> None:
    opted_in(letter)
    Client().get(f"/letters/{letter.slug}/")  # the neutral form, in the shared cache
    client = client_for(organiser)
    url = reverse("organise:make_public", kwargs={"slug": letter.slug})
    overview = client.get(reverse("organise:letter", kwargs={"slug": letter.slug}))
    assert url in overview.content.decode()

    step = client.get(url)

    assert step.status_code == 200
    assert "Make this letter public?" in step.content.decode()
    assert current(letter).internal
    assert mail.outbox == []

    done = client.post(url)

    assert done.status_code == 302
    assert not current(letter).internal
    assert_told(letter)
    fresh_copies()  # the shared copy is rebuilt within COUNT_INTERVAL
    page = Client().get(f"/letters/{letter.slug}/").content.decode()
    assert TITLE in page
    assert "Made public" in page
    assert letter.slug in Client().get("/sitemap.xml").content.decode()
    assert Client().get(f"/api/letters/{letter.slug}/").status_code == 200

    again = client.post(url)
    assert again.status_code == 302
    assert letter.events.filter(kind=EventKind.WENT_PUBLIC).count() == 1
    assert client.get(url).status_code == 302  # public already: back, with a message


def test_only_editors_make_it_public(letter: Letter, outsider: Any) -> None:
    team = add_co_organisers(letter)
    url = reverse("organise:make_public", kwargs={"slug": letter.slug})

    assert client_for(team["viewer"]).post(url).status_code == 403
    assert client_for(outsider).post(url).status_code == 404
    assert Client().post(url).status_code == 302  # to the login page
    assert client_for(team["editor"]).put(url).status_code == 405
    assert current(letter).internal
    assert client_for(team["editor"]).post(url).status_code == 302
    assert not current(letter).internal


def test_it_goes_public_by_itself_at_its_threshold(organiser: Any) -> None:
    letter = internal_letter(organiser, public_at_count=3)
    opted_in(letter)  # two confirmed
    services.counts_fold(letter_id=letter.pk)
    assert current(letter).internal

    confirmed_signature(letter, name="Third", email="third@northwind.example")
    services.counts_fold(letter_id=letter.pk)  # the beat's fold; the task runs on commit

    assert not current(letter).internal
    assert_told(letter)
    assert letter.events.get(kind=EventKind.WENT_PUBLIC).created_by is None


def test_lowering_the_threshold_below_the_count_makes_it_public(organiser: Any) -> None:
    letter = internal_letter(organiser, public_at_count=50)
    opted_in(letter)
    services.counts_fold(letter_id=letter.pk)

    edit_letter(letter, by=organiser, internal=None, public_at_count=2)

    assert not current(letter).internal
    assert_told(letter)


# --- The organiser's form ---------------------------------------------------------


def test_a_letter_without_employers_cannot_be_internal(organiser: Any) -> None:
    client = client_for(organiser)

    response = client.post("/organise/new/", letter_form(employers="", internal="on", save="1"))

    assert response.status_code == 200
    text = response.content.decode()
    assert "An internal letter needs at least one employer" in text
    assert not Letter.objects.filter(slug="new-letter").exists()
    created = client.post(
        "/organise/new/", letter_form(internal="on", public_at_count="40", save="1")
    )
    assert created.status_code == 302
    made = Letter.objects.get(slug="new-letter")
    assert made.internal
    assert made.public_at_count == 40


def test_once_published_internal_changes_only_by_making_it_public(
    letter: Letter, organiser: Any
) -> None:
    form = client_for(organiser).get(reverse("organise:edit", kwargs={"slug": letter.slug}))
    assert re.search(r'<input type="checkbox" name="internal"[^>]*disabled', form.content.decode())

    with pytest.raises(services.ServiceError) as refused:
        edit_letter(letter, by=organiser, internal=False)
    assert refused.value.field == "internal"
    public = services.letter_make_public(letter=letter, by=organiser)
    with pytest.raises(services.ServiceError):
        edit_letter(public, by=organiser, internal=True)
