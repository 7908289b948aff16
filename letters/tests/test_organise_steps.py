"""What organisers see while they draft and act, with the personas of
test_organise.py: the web address made from the title, times in the
organiser's time zone (across daylight-saving changes), the preview of the
whole letter, the confirmation step before publishing, closing, archiving,
invalidating and publishing a response (and the figures it shows, DESIGN §2
rules 8 and 9), and the organiser's letter page in sections."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from letters import selectors, services
from letters.models import (
    Display,
    EventKind,
    Letter,
    LetterStatus,
    Response,
    SignatureStatus,
)
from letters.services.events import SIGNER_NEWS
from letters.tests.factories import (
    add_co_organisers,
    confirmed_signature,
    deliver,
    letter_form,
    pending_signature,
    signature_of,
)
from letters.zones import SESSION_KEY

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def team(open_letter, organiser) -> dict[str, Any]:
    return {"letter": open_letter, "owner": organiser, **add_co_organisers(open_letter)}


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page_text(html: str) -> str:
    """What a person reads: the page's text, tags and scripts left out."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def main(html: str) -> str:
    """The page's <main> (the part that is about the letter)."""
    return html[html.index('<main id="main"') : html.index("</main>")]


def draft(owner: Any, slug: str = "a-draft", **fields: Any) -> Letter:
    data = {"title": "A draft", "body": "Dear Casey", "demands": ["Act"], "addressees": []}
    return services.letter_create(
        slug=slug, data=services.LetterInput(**(data | fields)), owner=owner
    )


# --- The web address, made from the title -------------------------------------------


def test_the_title_comes_first_and_the_web_address_after_it_optional(organiser):
    html = client_for(organiser).get(reverse("organise:new")).content.decode()

    assert html.index('name="title"') < html.index('name="slug"')
    assert "Web address (optional)" in html
    field = re.search(r'<input type="text" name="slug"[^>]*>', html)
    assert field
    assert "required" not in field.group(0)
    assert "data-slug-from-title" in html  # the script that fills it in


def test_an_empty_web_address_is_made_from_the_title_and_numbered_when_taken(organiser):
    client = client_for(organiser)
    title = "A fair rota for everyone!"

    for _n in range(3):
        response = client.post(reverse("organise:new"), letter_form(slug="", title=title))
        assert response.status_code == 302

    slugs = sorted(Letter.objects.values_list("slug", flat=True))
    base = "a-fair-rota-for-everyone"
    assert slugs == [base, f"{base}-2", f"{base}-3"]
    saved = client.get(response["Location"]).content.decode()
    assert "/letters/a-fair-rota-for-everyone-3/" in saved  # the message says where


def test_accented_titles_make_plain_addresses_and_a_title_without_letters_asks_for_one(
    organiser,
):
    client = client_for(organiser)

    client.post(reverse("organise:new"), letter_form(slug="", title="Über die Straße, jetzt"))
    refused = client.post(reverse("organise:new"), letter_form(slug="", title="Привет!"))

    assert Letter.objects.filter(slug="uber-die-strae-jetzt").exists()
    assert refused.status_code == 200
    html = refused.content.decode()
    assert 'id="id_slug_error"' in html
    assert "The title has no letters or digits to make a web address from: type one." in html
    assert Letter.objects.count() == 1


@pytest.mark.parametrize("typed", ["fair rota", "fair/rota", "rota!", "über"])
def test_a_typed_address_that_is_not_one_says_what_is_allowed(organiser, typed):
    response = client_for(organiser).post(reverse("organise:new"), letter_form(slug=typed))

    html = response.content.decode()
    assert 'id="id_slug_error"' in html
    assert "Use only letters a-z, digits and hyphens, for example fair-rota-2026." in html
    assert not Letter.objects.exists()


def test_a_typed_address_is_lower_cased(organiser):
    client_for(organiser).post(reverse("organise:new"), letter_form(slug="Fair-Rota-2026"))

    assert Letter.objects.get().slug == "fair-rota-2026"


@pytest.mark.parametrize("taken", ["stop-the-contract", "new", "invitations"])
def test_a_typed_address_that_is_taken_is_refused_with_a_free_one_suggested(
    organiser, open_letter, taken
):
    """`new` and `invitations` are the organiser area's own addresses
    (/organise/new/): a letter there could not be reached."""
    response = client_for(organiser).post(reverse("organise:new"), letter_form(slug=taken))

    html = response.content.decode()
    assert f"This address is taken. Choose another, for example {taken}-2." in html
    assert Letter.objects.count() == 1


def test_a_title_made_address_the_script_filled_in_moves_on_when_taken(organiser, open_letter):
    """The script fills the address from the title (slug_auto): taken, it
    is numbered like an empty one, instead of refused."""
    response = client_for(organiser).post(
        reverse("organise:new"),
        letter_form(slug="stop-the-contract", slug_auto="1", title="Stop the contract"),
    )

    assert response.status_code == 302
    assert Letter.objects.filter(slug="stop-the-contract-2").exists()


def test_an_address_typed_over_the_script_s_is_still_checked(organiser, open_letter):
    """slug_auto vouches only for the title's own address."""
    response = client_for(organiser).post(
        reverse("organise:new"),
        letter_form(slug="stop-the-contract", slug_auto="1", title="Something else"),
    )

    assert "This address is taken." in response.content.decode()


def test_the_service_refuses_a_typed_address_taken_meanwhile(organiser, open_letter):
    """Two drafts at once: the unique index decides, and the second gets a
    message, not a server error."""
    data = services.LetterInput(title="Another", body="b", demands=["d"], addressees=[])

    with pytest.raises(services.ServiceError) as refused:
        services.letter_create(slug=open_letter.slug, data=data, owner=organiser)

    assert refused.value.field == "slug"
    assert services.letter_create(slug="", data=data, owner=organiser).slug == "another"


# --- Times in the organiser's time zone ---------------------------------------------


def new_letter_closing(client: Client, closes_at: str, zone: str | None) -> Any:
    form = letter_form(closes_at=closes_at)
    if zone is not None:
        form["time_zone"] = zone
    return client.post(reverse("organise:new"), form)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        # Berlin: UTC+1 in winter, UTC+2 from the last Sunday of March
        ("2030-01-15T12:00", datetime(2030, 1, 15, 11, 0, tzinfo=UTC)),
        ("2030-07-15T12:00", datetime(2030, 7, 15, 10, 0, tzinfo=UTC)),
        ("2030-03-31T01:59", datetime(2030, 3, 31, 0, 59, tzinfo=UTC)),  # the last winter minute
        ("2030-03-31T03:00", datetime(2030, 3, 31, 1, 0, tzinfo=UTC)),  # the first summer one
    ],
)
def test_the_closing_time_is_read_in_the_organiser_s_zone_and_stored_in_utc(
    organiser, typed, stored
):
    response = new_letter_closing(client_for(organiser), typed, "Europe/Berlin")

    assert response.status_code == 302
    assert Letter.objects.get().closes_at == stored


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("2030-03-31T02:30", "skipped when clocks go forward"),
        ("2030-10-27T02:30", "happens twice when clocks go back"),
    ],
)
def test_a_wall_clock_time_that_does_not_exist_once_in_the_zone_is_refused(organiser, typed, why):
    response = new_letter_closing(client_for(organiser), typed, "Europe/Berlin")

    html = response.content.decode()
    assert response.status_code == 200, why
    assert 'id="id_closes_at_error"' in html
    assert "Europe/Berlin; it may be ambiguous or it may not exist" in html
    assert not Letter.objects.exists()


def test_without_a_zone_the_site_s_is_used(organiser, settings):
    assert settings.TIME_ZONE == "UTC"

    new_letter_closing(client_for(organiser), "2030-07-15T12:00", None)

    assert Letter.objects.get().closes_at == datetime(2030, 7, 15, 12, 0, tzinfo=UTC)


def test_the_zone_is_remembered_and_times_are_shown_back_in_it_with_its_name(organiser):
    """Stored in UTC, shown in the zone the organiser chose, on either side
    of a daylight-saving change: New York is UTC-5 in January, UTC-4 in July."""
    client = client_for(organiser)
    new_letter_closing(client, "2030-07-15T12:00", "America/New_York")
    letter = Letter.objects.get()
    assert letter.closes_at == datetime(2030, 7, 15, 16, 0, tzinfo=UTC)
    assert client.session[SESSION_KEY] == "America/New_York"

    edit = client.get(reverse("organise:edit", kwargs={"slug": letter.slug})).content.decode()
    assert 'value="2030-07-15T12:00"' in edit
    assert '<option value="America/New_York" selected>America/New York</option>' in edit
    assert "data-guess-time-zone" not in edit  # remembered: the script guesses nothing
    Letter.objects.filter(pk=letter.pk).update(closes_at=datetime(2030, 1, 15, 17, 0, tzinfo=UTC))
    edit = client.get(reverse("organise:edit", kwargs={"slug": letter.slug})).content.decode()
    assert 'value="2030-01-15T12:00"' in edit

    overview = client.get(reverse("organise:letter", kwargs={"slug": letter.slug}))
    closes = re.search(r'data-testid="closes-at">([^<]*)<', overview.content.decode())
    assert closes
    assert "12:00" in closes.group(1) or "noon" in closes.group(1)
    assert "(America/New_York)" in closes.group(1)


def test_saving_an_edit_unchanged_keeps_the_closing_moment(organiser):
    client = client_for(organiser)
    new_letter_closing(client, "2030-07-15T12:00", "Australia/Sydney")
    letter = Letter.objects.get()
    before = letter.closes_at

    edit = client.get(reverse("organise:edit", kwargs={"slug": letter.slug})).content.decode()
    shown = re.search(r'name="closes_at" value="([^"]+)"', edit)
    assert shown
    client.post(
        reverse("organise:edit", kwargs={"slug": letter.slug}),
        letter_form(closes_at=shown.group(1), time_zone="Australia/Sydney"),
    )

    letter.refresh_from_db()
    assert letter.closes_at == before


def test_a_new_organiser_s_form_lets_the_script_guess_the_zone(organiser, settings):
    html = client_for(organiser).get(reverse("organise:new")).content.decode()

    select = re.search(r'<select name="time_zone"[^>]*>', html)
    assert select
    assert "data-guess-time-zone" in select.group(0)
    assert f'<option value="{settings.TIME_ZONE}" selected>' in html
    assert html.index('name="time_zone"') < html.index('name="closes_at"')


def test_a_delivery_s_respond_by_is_read_in_the_organiser_s_zone(organiser, open_letter):
    client = client_for(organiser)
    url = reverse("organise:deliver", kwargs={"slug": open_letter.slug})
    page = client.get(url).content.decode()
    assert "data-guess-time-zone" in page

    response = client.post(
        url,
        {
            "recipients": [a.pk for a in open_letter.addressees.all()],
            "method": "meeting",
            "time_zone": "Asia/Kolkata",
            "delivered_at": "2026-01-10T09:30",
            "respond_by": "2030-07-15T17:30",
        },
    )

    assert response.status_code == 302
    open_letter.refresh_from_db()
    assert open_letter.respond_by == datetime(2030, 7, 15, 12, 0, tzinfo=UTC)
    delivery = open_letter.deliveries.get()
    assert delivery.delivered_at == datetime(2026, 1, 10, 4, 0, tzinfo=UTC)
    assert client.session[SESSION_KEY] == "Asia/Kolkata"


# --- The preview ---------------------------------------------------------------------


def test_the_preview_shows_the_whole_letter_as_its_page_will(organiser):
    response = client_for(organiser).post(
        reverse("organise:new"),
        letter_form(
            title="Fair pay now",
            addressees="Casey Chief, CEO\nBea Board",
            body="Dear Casey,\n\nWe ask for **fair pay**.",
            demands="Publish the pay bands\nClose the gap",
            preview="1",
        ),
    )

    html = response.content.decode()
    preview = html[html.index('aria-labelledby="preview-heading"') : html.index("<form")]
    assert '<h3 class="letter-title">Fair pay now</h3>' in preview
    assert "<li>Casey Chief, CEO</li>" in preview
    assert "<li>Bea Board</li>" in preview
    assert "<strong>fair pay</strong>" in preview
    assert "<li>Publish the pay bands</li>" in preview
    assert "<li>Close the gap</li>" in preview
    assert not Letter.objects.exists()


# --- Confirmation steps: publish, close, archive -------------------------------------


def test_publishing_asks_first_and_says_where_and_that_it_cannot_be_undone(organiser):
    letter = draft(organiser, allowed_domains=["northwind.example"])
    client = client_for(organiser)
    url = reverse("organise:publish", kwargs={"slug": letter.slug})

    overview = client.get(reverse("organise:letter", kwargs={"slug": letter.slug}))
    assert f'href="{url}"' in overview.content.decode()  # a link to the step, not a button
    assert f'action="{url}"' not in overview.content.decode()
    page = client.get(url)

    text = page_text(main(page.content.decode()))
    assert page.status_code == 200
    assert "Publish this letter?" in text
    assert (
        "Publishing opens the letter for signatures at http://testserver/letters/a-draft/" in text
    )
    assert "It cannot be unpublished." in text
    assert "Only addresses at these domains can sign: northwind.example." in text
    cache = {d.strip() for d in page["Cache-Control"].split(",")}
    assert {"private", "no-store"} <= cache
    letter.refresh_from_db()
    assert letter.status == LetterStatus.DRAFT  # the page changed nothing

    done = client.post(url, follow=True)
    letter.refresh_from_db()
    assert letter.status == LetterStatus.OPEN
    assert "Published: the letter is open for signatures." in done.content.decode()


def test_closing_asks_first_with_the_count_and_who_is_emailed(team):
    letter = team["letter"]
    for n in range(3):
        confirmed_signature(
            letter, name=f"Named {n}", email=f"n{n}@example.org", wants_updates=n < 2
        )
    confirmed_signature(
        letter, email="anon@example.org", display=Display.ANONYMOUS, wants_updates=True
    )
    url = reverse("organise:close", kwargs={"slug": letter.slug})

    text = page_text(main(client_for(team["editor"]).get(url).content.decode()))

    assert "Close this letter for signatures?" in text
    assert "Closing stops signing" in text
    assert "The 4 verified signatures stay counted" in text
    if EventKind.CLOSED in SIGNER_NEWS:
        assert "2 signers who show their name and asked for updates will get an email" in text
    else:
        assert "No signer is emailed." in text
    letter.refresh_from_db()
    assert letter.status == LetterStatus.OPEN
    client_for(team["editor"]).post(url)
    letter.refresh_from_db()
    assert letter.status == LetterStatus.CLOSED


def test_archiving_asks_first_and_says_what_stops_working(team):
    letter = team["letter"]
    confirmed_signature(letter, name="Pia", email="pia@example.org")
    url = reverse("organise:archive", kwargs={"slug": letter.slug})

    text = page_text(main(client_for(team["owner"]).get(url).content.decode()))

    assert "Archive this letter?" in text
    assert "its public page, the lists, the feed, the API, the widget" in text
    assert "Its 1 verified signer can no longer see it" in text
    assert "It cannot be undone." in text
    assert client_for(team["editor"]).get(url).status_code == 403  # owners only
    letter.refresh_from_db()
    assert letter.status == LetterStatus.OPEN


def test_a_step_that_does_not_apply_goes_back_to_the_letter_with_a_message(team):
    url = reverse("organise:publish", kwargs={"slug": team["letter"].slug})

    response = client_for(team["editor"]).get(url, follow=True)

    assert response.redirect_chain[-1][0] == reverse(
        "organise:letter", kwargs={"slug": team["letter"].slug}
    )
    assert (
        "Not possible now: the letter&#x27;s status is “Open for signatures”."
        in response.content.decode()
    )


def test_the_confirmation_pages_need_csrf_to_act(team):
    client = Client(enforce_csrf_checks=True)
    client.force_login(team["owner"])
    url = reverse("organise:close", kwargs={"slug": team["letter"].slug})

    assert client.get(url).status_code == 200
    assert client.post(url).status_code == 403
    team["letter"].refresh_from_db()
    assert team["letter"].status == LetterStatus.OPEN


# --- The figures the steps show: DESIGN §2 rules 8 and 9 ----------------------------


def step_pages(client: Client, letter: Letter, leadership_token: str) -> dict[str, str]:
    """The text of every confirmation step an organiser (or leadership) can
    reach on a delivered letter, the response's included."""
    demands = letter.current_version.demands.all()  # type: ignore[union-attr]
    answers = {f"demand_{d.pk}": "declined" for d in demands}
    response_url = reverse("organise:response", kwargs={"slug": letter.slug})
    organiser_check = client.post(
        response_url, {"statement": "No.", "source": "All-hands", **answers}
    )
    leadership_check = Client().post(
        f"/l/{leadership_token}/", {"action": "respond", "statement": "No.", **answers}
    )
    archive = client.get(f"/organise/{letter.slug}/archive/").content.decode()
    return {
        "archive": page_text(main(archive)),
        "response": page_text(confirmation(organiser_check.content.decode())),
        "leadership": page_text(confirmation(leadership_check.content.decode())),
    }


def confirmation(html: str) -> str:
    """The response form's confirmation step (the rest of the leadership
    page shows the totals, which may move)."""
    return html[html.index('<div id="response-form">') : html.index('name="confirm"')]


def test_no_step_figure_depends_on_pending_rows_or_an_anonymous_signer_s_choice(team):
    """Rule 8: pending signatures (anyone can start one with anyone's
    address, updates asked for or not) count in no figure, nor does a
    stranger signing again with a signer's address.  Rule 9: one anonymous
    signer who asked for updates confirming moves no figure but the total
    (here: the archive page's "verified signers")."""
    letter = team["letter"]
    for n in range(6):
        confirmed_signature(
            letter, name=f"Named {n}", email=f"n{n}@example.org", wants_updates=True
        )
    services.signature_create(  # a stranger with a signer's address, asking for updates
        letter=letter, email="n0@example.org", name="Not N0", wants_updates=True
    )
    assert selectors.letter_named_subscribers(letter_id=letter.pk) == 6
    _d, (issued,) = deliver(letter, team["owner"])
    client = client_for(team["owner"])
    before = step_pages(client, letter, issued.token)
    assert (
        "6 signers who show their name and asked for updates will get an email"
        in (before["response"])
    )
    assert "6 signers who show their name" in before["leadership"]

    for n in range(3):
        pending_signature(letter, email=f"stranger{n}@example.org", wants_updates=True)
    pending_signature(letter, email="stranger.named@example.org", name="Named", wants_updates=True)
    after_strangers = step_pages(client, letter, issued.token)
    lone = pending_signature(letter, display=Display.ANONYMOUS, wants_updates=True)
    services.signature_confirm(signature=lone)
    after_anonymous = step_pages(client, letter, issued.token)

    assert after_strangers == before
    assert after_anonymous["response"] == before["response"]
    assert after_anonymous["leadership"] == before["leadership"]
    assert after_anonymous["archive"] == before["archive"].replace(
        "Its 6 verified signers", "Its 7 verified signers"
    )
    assert after_anonymous["archive"] != before["archive"]


# --- Publishing a response: confirm first -------------------------------------------


def test_leadership_checks_its_response_before_it_is_published(team):
    letter = team["letter"]
    confirmed_signature(letter, name="Pia", email="pia@example.org", wants_updates=True)
    _d, (issued,) = deliver(letter, team["owner"])
    ids = list(letter.current_version.demands.values_list("pk", flat=True))
    url = f"/l/{issued.token}/"
    form = {
        "action": "respond",
        "statement": "We will review the contract.\nIn full.",
        f"demand_{ids[0]}": "accepted",
        f"demand_{ids[1]}": "declined",
    }
    client = Client()

    check = client.post(url, form)

    html = check.content.decode()
    text = page_text(main(html))
    assert check.status_code == 200
    assert not Response.objects.exists()
    assert "Check the response, then publish it." in text
    assert f"on the letter's public page, http://testserver/letters/{letter.slug}/" in text
    assert "It cannot be changed or taken back afterwards." in text
    assert "1 signer who shows their name and asked for updates will get an email" in text
    for answer in ("Accepted", "Declined", "No answer"):
        assert answer in text
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))
    assert hidden["statement"] == "We will review the contract.\nIn full."
    assert hidden[f"demand_{ids[0]}"] == "accepted"
    assert check["Cache-Control"] == "private, no-store"

    change = client.post(url, {**hidden, "action": "respond", "change": "yes"})
    assert "We will review the contract." in change.content.decode()
    assert 'name="confirm"' not in change.content.decode()
    assert not Response.objects.exists()

    done = client.post(url, {**hidden, "action": "respond", "confirm": "yes"})
    assert done.status_code == 302
    response = Response.objects.get()
    assert response.statement == "We will review the contract.\nIn full."
    answers = dict(response.answers.values_list("demand_id", "answer"))
    assert answers[ids[0]] == "accepted"
    assert answers[ids[1]] == "declined"


def test_an_organiser_checks_a_response_received_elsewhere_before_it_is_published(team):
    letter = team["letter"]
    deliver(letter, team["owner"])
    url = reverse("organise:response", kwargs={"slug": letter.slug})
    client = client_for(team["editor"])
    form = {"statement": "Said at all-hands", "source": "All-hands, 3 June"}

    check = client.post(url, form)
    assert "Check the response, then publish it." in check.content.decode()
    assert "Where it was said: All-hands, 3 June" in page_text(check.content.decode())
    assert not Response.objects.exists()

    client.post(url, {**form, "confirm": "yes"})
    assert Response.objects.get().source == "All-hands, 3 June"


def test_an_invalid_response_shows_its_errors_not_the_confirmation(team):
    letter = team["letter"]
    _d, (issued,) = deliver(letter, team["owner"])

    page = Client().post(f"/l/{issued.token}/", {"action": "respond", "statement": ""})

    html = page.content.decode()
    assert 'id="id_statement_error"' in html
    assert "Check the response" not in html
    assert not Response.objects.exists()


# --- Invalidating by filter: confirm the counted filter -----------------------------


def test_invalidation_confirms_the_counted_filter_and_its_number(team):
    letter = team["letter"]
    for n in range(6):
        confirmed_signature(letter, name=f"Bot {n}", email=f"bot{n}@spam.example")
    confirmed_signature(letter, name="Real", email="real@northwind.example")
    url = reverse("organise:invalidate_matching", kwargs={"slug": letter.slug})
    client = client_for(team["editor"])

    first = client.get(url).content.decode()
    assert 'value="invalidate"' not in first  # count first
    counted = client.post(url, {"domain": "spam.example", "action": "count"}).content.decode()

    text = page_text(main(counted))
    assert "2. Confirm the invalidation" in text
    assert "6 confirmed signatures will stop counting" in text
    assert "addresses at spam.example and its subdomains" in text
    confirm = counted[counted.index('aria-labelledby="confirm-heading"') :]
    assert '<input type="hidden" name="domain" value="spam.example">' in confirm
    assert "Invalidate 6 signatures" in confirm
    assert selectors.letter_counts(letter_id=letter.pk).confirmed == 7

    client.post(url, {"domain": "spam.example", "action": "invalidate", "reason": "Bots"})
    assert selectors.letter_counts(letter_id=letter.pk).confirmed == 1
    assert signature_of(letter, "real@northwind.example").get().status == (
        SignatureStatus.CONFIRMED
    )


def test_no_invalidation_button_for_fewer_than_the_reported_minimum(team):
    letter = team["letter"]
    confirmed_signature(letter, name="Rare", email="rare@rare.example")
    url = reverse("organise:invalidate_matching", kwargs={"slug": letter.slug})

    page = client_for(team["editor"]).post(url, {"domain": "rare.example", "action": "count"})

    html = page.content.decode()
    assert "Fewer than 5 signatures match." in html
    assert 'value="invalidate"' not in html


# --- The organiser's letter page ----------------------------------------------------


def test_the_letter_page_opens_with_contents_then_status_and_the_next_step(team):
    html = (
        client_for(team["owner"])
        .get(reverse("organise:letter", kwargs={"slug": team["letter"].slug}))
        .content.decode()
    )
    page = main(html)

    start = page.index('<nav class="toc"')
    toc = page[start : page.index("</nav>", start)]
    targets = re.findall(r'href="#([^"]+)"', toc)
    assert len(targets) >= 7
    for target in targets:
        assert f'id="{target}"' in page, target
    headings = re.findall(r"<h2 id=\"([^\"]+)\"", page)
    assert headings[:2] == ["toc-heading", "status-heading"]
    status = page_text(page[page.index('id="status-heading"') : page.index('id="counts-heading"')])
    assert "Status Open" in status
    assert "Next step" in status
    assert "Close for signatures" in status
    assert 'id="share-heading"' in page
    assert 'id="archive-heading"' in page  # the owner's


def test_a_viewer_sees_the_sections_without_the_owner_s_actions(team):
    html = (
        client_for(team["viewer"])
        .get(reverse("organise:letter", kwargs={"slug": team["letter"].slug}))
        .content.decode()
    )

    assert 'id="status-heading"' in html
    assert 'href="#archive-heading"' not in html
    assert reverse("organise:close", kwargs={"slug": team["letter"].slug}) not in html


def test_the_review_link_is_shown_once_in_a_labelled_field_with_a_copy_button(organiser):
    letter = draft(organiser)
    client = client_for(organiser)
    client.post(reverse("organise:preview_link", kwargs={"slug": letter.slug}))

    html = client.get(reverse("organise:letter", kwargs={"slug": letter.slug})).content.decode()
    again = client.get(reverse("organise:letter", kwargs={"slug": letter.slug})).content.decode()

    field = re.search(r'<input type="text" id="review-link" value="([^"]+)" readonly', html)
    assert field
    assert "/p/" in field.group(1)
    assert '<label for="review-link">Review link</label>' in html
    button = re.search(r'<button type="button"[^>]*data-copy="#review-link"[^>]*>', html)
    assert button
    assert " hidden" in button.group(0)  # shown by the script only
    assert 'id="review-link-status" role="status"' in html
    assert 'id="review-link"' not in again  # shown only once


def test_the_share_section_holds_the_public_link_once_published(organiser, open_letter):
    client = client_for(organiser)
    html = client.get(reverse("organise:letter", kwargs={"slug": open_letter.slug})).content
    assert f'value="http://testserver/letters/{open_letter.slug}/"' in html.decode()

    unpublished = draft(organiser)
    html = client.get(reverse("organise:letter", kwargs={"slug": unpublished.slug})).content
    assert 'id="public-link"' not in html.decode()
    assert "Once published" in html.decode()
