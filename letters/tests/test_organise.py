"""The organiser area, with named personas: Olivia (owner), Eddie (editor),
Vera (viewer), Oscar (an outsider with an account) and a visitor."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from letters import services
from letters.access import Capability, role_can
from letters.models import (
    AuditLog,
    Display,
    EventKind,
    Letter,
    LetterStatus,
    LetterVersion,
    Organiser,
    OrganiserRole,
    Signature,
    SignatureStatus,
)
from letters.refs import signature_ref
from letters.selectors import letter_counts
from letters.tests.factories import (
    add_co_organisers,
    confirmed_signature,
    letter_form,
    make_user,
    signature_of,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def team(open_letter, organiser) -> dict[str, Any]:
    return {"letter": open_letter, "owner": organiser, **add_co_organisers(open_letter)}


def current(letter: Letter) -> LetterVersion:
    assert letter.current_version is not None
    return letter.current_version


def client_for(user: Any | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


# --- The authorisation matrix ---------------------------------------------------

# (the capability needed, method, the status a role holding it gets) -> url
# names; which roles hold it comes from letters.access.CAPABILITIES.
NEEDED = {
    (Capability.VIEW, "get", 200): ["letter", "signatures"],
    # close and archive: their confirmation pages (letters/views/steps.py)
    (Capability.EDIT, "get", 200): ["edit", "translation", "close", "paper"],
    (Capability.EDIT, "get", 302): ["publish"],  # the letter is open: back to its page
    (Capability.OWN, "get", 200): ["archive"],
    (Capability.MODERATE, "get", 200): ["invalidate_matching"],
    (Capability.EDIT, "post", 302): ["close", "duplicate", "preview_link", "publish"],
    (Capability.INVITE, "post", 302): ["invite"],
    (Capability.OWN, "post", 302): ["archive"],
}
# A confirmation page (GET) and the change it confirms (POST) at one address.
CONFIRMED_STEPS = {"organise:publish", "organise:close", "organise:archive"}
# (url name, method, the capability needed, the status its holders get)
ORGANISER_URLS = [
    (f"organise:{name}", method, needed, ok)
    for (needed, method, ok), names in NEEDED.items()
    for name in names
]


@pytest.mark.parametrize(("name", "method", "needed", "ok"), ORGANISER_URLS)
@pytest.mark.parametrize("persona", ["visitor", "outsider", "viewer", "editor", "owner"])
def test_every_organiser_url_checks_the_role(team, outsider, persona, name, method, needed, ok):
    users = {"visitor": None, "outsider": outsider, **team}
    user = users[persona]
    url = reverse(name, kwargs={"slug": team["letter"].slug})

    response = getattr(client_for(user), method)(url)

    if persona == "visitor":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    elif persona == "outsider":
        assert response.status_code == 404  # a letter's organiser area stays hidden
    elif not role_can(persona, needed):
        assert response.status_code == 403
    else:
        assert response.status_code == ok


@pytest.mark.parametrize(("name", "method", "needed", "ok"), ORGANISER_URLS)
def test_organiser_urls_refuse_the_wrong_method(team, name, method, needed, ok):
    url = reverse(name, kwargs={"slug": team["letter"].slug})
    wrong = "get" if method == "post" and name not in CONFIRMED_STEPS else "put"
    assert getattr(client_for(team["owner"]), wrong)(url).status_code == 405


def test_dashboard_lists_my_letters_with_counts_and_pending(team, outsider):
    confirmed_signature(team["letter"], name="Pia", email="pia@example.org")
    services.signature_create(letter=team["letter"], email="pen@example.org", name="Pen")

    page = client_for(team["viewer"]).get(reverse("organise:dashboard")).content.decode()
    other = client_for(outsider).get(reverse("organise:dashboard")).content.decode()

    assert team["letter"].title in page
    assert re.search(r"<td>1</td>", page)  # one confirmed
    assert "Pending" not in page  # would tell whether an address signed (DESIGN §2)
    assert team["letter"].title not in other
    assert client_for(None).get(reverse("organise:dashboard")).status_code == 302
    assert client_for(outsider).post(reverse("organise:dashboard")).status_code == 405


# --- Drafting ----------------------------------------------------------------------


def test_organiser_drafts_previews_and_saves_a_letter(organiser):
    client = client_for(organiser)

    preview = client.post(reverse("organise:new"), letter_form(preview="1"))
    assert preview.status_code == 200
    assert "<strong>change</strong>" in preview.content.decode()
    assert not Letter.objects.filter(slug="new-letter").exists()  # a preview saves nothing

    saved = client.post(reverse("organise:new"), letter_form(save="1"))

    assert saved.status_code == 302
    letter = Letter.objects.get(slug="new-letter")
    assert letter.status == LetterStatus.DRAFT
    assert letter.allowed_domains == ["northwind.example", "eu.northwind.example"]
    assert letter.goal == 250
    assert [a.name for a in letter.addressees.all()] == ["Casey Chief", "Bea Board"]
    assert list(current(letter).demands.values_list("text", flat=True)) == [
        "First demand",
        "Second demand",
    ]
    assert Organiser.objects.get(letter=letter).role == OrganiserRole.OWNER


def test_letter_form_errors_show_next_to_fields_and_save_nothing(organiser, open_letter):
    response = client_for(organiser).post(
        reverse("organise:new"),
        letter_form(
            slug=open_letter.slug,
            demands="",
            employers="not a domain!",
            closes_at="2000-01-01T10:00",
        ),
    )

    html = response.content.decode()
    assert response.status_code == 200
    for field in ("slug", "demands", "employers", "closes_at"):
        assert f'id="id_{field}_error"' in html, field
    assert Letter.objects.count() == 1


def test_editing_a_draft_rewrites_it_in_place(organiser):
    client = client_for(organiser)
    client.post(reverse("organise:new"), letter_form())
    letter = Letter.objects.get(slug="new-letter")

    client.post(
        reverse("organise:edit", kwargs={"slug": letter.slug}),
        letter_form(demands="Only demand", body="New body"),
    )

    letter.refresh_from_db()
    assert letter.versions.count() == 1
    assert current(letter).body == "New body"


def test_editing_an_open_letter_publishes_a_new_version_and_keeps_each_signature_s(
    team,
):
    letter = team["letter"]
    early = confirmed_signature(letter, name="Early Bird", email="early@example.org")
    client = client_for(team["editor"])
    form = {
        **letter_form(slug=letter.slug),
        "title": letter.title,
        "body": current(letter).body,
        "demands": "Condemn the agency's actions\nEnd every contract\nPublish an ethics policy",
    }

    refused = client.post(reverse("organise:edit", kwargs={"slug": letter.slug}), form)
    assert 'id="id_change_note_error"' in refused.content.decode()  # a note is required
    client.post(
        reverse("organise:edit", kwargs={"slug": letter.slug}),
        {**form, "change_note": "Every contract, not only the new one"},
    )

    letter.refresh_from_db()
    assert current(letter).number == 2
    early.refresh_from_db()
    assert early.version.number == 1
    late = confirmed_signature(letter, name="Late Owl", email="late@example.org")
    assert late.version.number == 2
    page = Client().get(letter.get_absolute_url()).content.decode()
    assert "Of the signers who show their name, 1 signed the current text, 1 an earlier" in page
    assert "<ins>every contract</ins>" in page or "<ins>every</ins>" in page
    assert letter.events.filter(kind=EventKind.NEW_VERSION).exists()


def test_signers_of_an_earlier_version_are_told_and_may_support_the_new_text(team):
    letter = team["letter"]
    told = confirmed_signature(letter, name="Told", email="told@example.org")
    Signature.objects.filter(pk=told.pk).update(wants_updates=True)
    confirmed_signature(letter, name="Quiet", email="quiet@example.org")  # no updates wanted
    mail.outbox.clear()

    edit = services.LetterInput(
        title=letter.title,
        body=current(letter).body + "\n\nOne more paragraph.",
        demands=["Condemn", "End the contract"],
        addressees=[("Casey Chief", "CEO")],
    )
    services.letter_edit(
        letter=letter, by=team["editor"], data=replace(edit, change_note="Shorter demands")
    )
    services.letter_edit(letter=letter, by=team["editor"], data=edit)  # unchanged: sends no more

    assert [m.to for m in mail.outbox] == [["told@example.org"]]
    body = mail.outbox[0].body
    assert "Shorter demands" in body
    review = re.search(r"https?://[^/\s]+(/v/[^\s]+)", str(body))
    assert review
    client = Client()
    page = client.get(review.group(1))
    assert "<del>" in page.content.decode()
    told.refresh_from_db()
    assert told.version.number == 1  # GET changes nothing
    client.post(review.group(1))
    told.refresh_from_db()
    assert told.version.number == 2
    services.counts_fold(letter_id=letter.pk)
    assert letter_counts(letter_id=letter.pk).confirmed == 2


def test_lifecycle_publish_close_archive_with_timeline(organiser):
    letter = services.letter_create(
        slug="life",
        data=services.LetterInput(title="Life", body="b", demands=["d"], addressees=[]),
        owner=organiser,
    )
    client = client_for(organiser)
    kwargs = {"slug": letter.slug}

    client.post(reverse("organise:publish", kwargs=kwargs))
    client.post(reverse("organise:publish", kwargs=kwargs))  # twice: refused, nothing changes
    client.post(reverse("organise:close", kwargs=kwargs))
    client.post(reverse("organise:archive", kwargs=kwargs))

    letter.refresh_from_db()
    assert letter.status == LetterStatus.ARCHIVED
    kinds = list(letter.events.order_by("id").values_list("kind", flat=True))
    assert kinds == [EventKind.PUBLISHED, EventKind.CLOSED, EventKind.ARCHIVED]
    with pytest.raises(services.ServiceError):
        services.letter_close(letter=letter)


def test_letters_close_by_themselves_at_their_closing_time(open_letter):
    Letter.objects.filter(pk=open_letter.pk).update(closes_at=timezone.now() - timedelta(minutes=1))

    assert services.letters_close_due() == 1

    open_letter.refresh_from_db()
    assert open_letter.status == LetterStatus.CLOSED


def test_a_secret_preview_link_shows_the_draft_read_only_and_can_be_revoked(organiser):
    letter = services.letter_create(
        slug="sneak",
        data=services.LetterInput(
            title="Sneak peek", body="Draft body", demands=["d"], addressees=[]
        ),
        owner=organiser,
    )
    client = client_for(organiser)
    client.post(reverse("organise:preview_link", kwargs={"slug": letter.slug}))
    overview = client.get(reverse("organise:letter", kwargs={"slug": letter.slug}))
    link = re.search(r"https?://[^/\s]+(/p/[^\s<\"]+)", overview.content.decode())
    assert link

    preview = Client().get(link.group(1))
    assert preview.status_code == 200
    assert "Sneak peek" in preview.content.decode()
    assert "Review copy" in preview.content.decode()
    assert 'name="email"' not in preview.content.decode()  # cannot be signed there
    assert preview["Cache-Control"] == "private, no-store"
    assert Client().get(letter.get_absolute_url()).status_code == 404  # still a draft

    client.post(
        reverse("organise:preview_link", kwargs={"slug": letter.slug}), {"action": "revoke"}
    )
    assert Client().get(link.group(1)).status_code == 404


def test_duplicate_starts_a_new_draft_from_the_current_text(team):
    client = client_for(team["editor"])
    response = client.post(reverse("organise:duplicate", kwargs={"slug": team["letter"].slug}))

    copy = Letter.objects.exclude(pk=team["letter"].pk).get()
    assert response["Location"] == reverse("organise:letter", kwargs={"slug": copy.slug})
    assert copy.status == LetterStatus.DRAFT
    assert copy.duplicated_from == team["letter"]
    assert current(copy).body == current(team["letter"]).body
    assert Organiser.objects.get(letter=copy).user == team["editor"]


def test_translation_is_served_to_visitors_of_that_language(organiser):
    letter = services.letter_create(
        slug="bilingual",
        data=services.LetterInput(title="Hello", body="Hello body", demands=["Act"], addressees=[]),
        owner=organiser,
    )
    services.letter_publish(letter=letter)
    client_for(organiser).post(
        reverse("organise:translation", kwargs={"slug": letter.slug}),
        {
            "language": "de",
            "title": "Hallo",
            "body": "Hallo Text",
            "demands": "Handeln",
            "change_note": "Auf Deutsch",  # the letter is open: a new version
        },
    )

    german = Client().get(letter.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Hallo Text" in german
    assert "Handeln" in german


def test_paper_signatures_are_shown_apart_and_added_to_the_total(team):
    confirmed_signature(team["letter"], name="Pia", email="pia@example.org")
    client_for(team["editor"]).post(
        reverse("organise:paper", kwargs={"slug": team["letter"].slug}),
        {"count": "40", "collected_on": "2026-01-15", "where_how": "Canteen, at lunch"},
    )

    page = Client().get(team["letter"].get_absolute_url()).content.decode()
    assert "1 verified signature" in page
    assert "plus 40 signatures on paper: 41 in all" in page


def test_names_are_hidden_until_enough_people_signed(team):
    Letter.objects.filter(pk=team["letter"].pk).update(show_names_after=3)
    confirmed_signature(team["letter"], name="Early Public", email="e@example.org")

    page = Client().get(team["letter"].get_absolute_url()).content.decode()

    assert "Early Public" not in page
    assert "Names are shown once 3 people have signed." in page
    organiser_view = client_for(team["viewer"]).get(
        reverse("organise:signatures", kwargs={"slug": team["letter"].slug})
    )
    assert "Early Public" in organiser_view.content.decode()


# --- Co-organisers ---------------------------------------------------------------------


def test_owner_invites_a_co_organiser_who_accepts_with_the_invited_address(team, outsider):
    owner_client = client_for(team["owner"])
    owner_client.post(
        reverse("organise:invite", kwargs={"slug": team["letter"].slug}),
        {"email": "newbie@example.org", "role": OrganiserRole.EDITOR},
    )
    (message,) = mail.outbox
    path = re.search(r"https?://[^/\s]+(/organise/invitations/[^\s]+)", str(message.body))
    assert path

    wrong = client_for(outsider).post(path.group(1))
    assert "Sign in with the address the invitation was sent to" in wrong.content.decode()
    newbie = make_user(email="newbie@example.org")
    client_for(newbie).post(path.group(1))

    assert Organiser.objects.get(letter=team["letter"], user=newbie).role == OrganiserRole.EDITOR
    assert client_for(newbie).get(path.group(1)).status_code == 404  # used up
    assert AuditLog.objects.filter(action="organiser.invite").exists()


def test_only_owners_see_the_invitation_form_with_what_each_role_may_do_viewer_first(team):
    url = reverse("organise:letter", kwargs={"slug": team["letter"].slug})
    owner_page = client_for(team["owner"]).get(url).content.decode()
    assert "Invite a co-organiser" in owner_page
    assert "editors can also edit, publish and close the letter" in owner_page
    invite = owner_page[owner_page.index('id="invite-heading"') :]
    assert re.search(r'<option value="viewer" selected>', invite)  # the least, unless chosen
    for role in ("editor", "viewer"):
        page = client_for(team[role]).get(url).content.decode()
        assert "Invite a co-organiser" not in page
        assert reverse("organise:invite", kwargs={"slug": team["letter"].slug}) not in page


def test_the_last_owner_cannot_leave_or_be_demoted(team):
    owner_membership = Organiser.objects.get(letter=team["letter"], user=team["owner"])
    client = client_for(team["owner"])
    kwargs = {"slug": team["letter"].slug, "organiser_id": owner_membership.pk}

    client.post(reverse("organise:remove", kwargs=kwargs))
    client.post(reverse("organise:role", kwargs=kwargs), {"role": OrganiserRole.VIEWER})

    owner_membership.refresh_from_db()
    assert owner_membership.role == OrganiserRole.OWNER


def test_a_viewer_may_leave_but_not_remove_others(team):
    viewer = Organiser.objects.get(letter=team["letter"], user=team["viewer"])
    editor = Organiser.objects.get(letter=team["letter"], user=team["editor"])
    client = client_for(team["viewer"])

    forbidden = client.post(
        reverse("organise:remove", kwargs={"slug": team["letter"].slug, "organiser_id": editor.pk})
    )
    left = client.post(
        reverse("organise:remove", kwargs={"slug": team["letter"].slug, "organiser_id": viewer.pk})
    )

    assert forbidden.status_code == 403
    assert left["Location"] == reverse("organise:dashboard")
    assert not Organiser.objects.filter(pk=viewer.pk).exists()


# --- Moderation ------------------------------------------------------------------------


def test_organisers_see_public_names_and_only_a_count_of_anonymous_ones(team):
    confirmed_signature(team["letter"], name="Pia Public", email="pia@example.org")
    confirmed_signature(
        team["letter"], name="Hidden Hana", email="hana@example.org", display=Display.ANONYMOUS
    )
    url = reverse("organise:signatures", kwargs={"slug": team["letter"].slug})

    for persona in ("owner", "editor", "viewer"):
        html = client_for(team[persona]).get(url).content.decode()
        assert "Pia Public" in html
        assert "Hidden Hana" not in html
        assert "hana@example.org" not in html
        assert "pia@example.org" not in html
        assert "1 public, 1 anonymous" in html


def test_invalidating_one_signature_takes_it_out_of_the_count_and_is_audited(team):
    fake = confirmed_signature(team["letter"], name="Mickey Mouse", email="mm@example.org")
    url = reverse(
        "organise:invalidate",
        kwargs={"slug": team["letter"].slug, "signature_ref": signature_ref(fake.pk)},
    )

    client_for(team["editor"]).post(url, {"reason": ""})  # a reason is required
    assert Signature.objects.get(pk=fake.pk).status == SignatureStatus.CONFIRMED
    client_for(team["editor"]).post(url, {"reason": "Not an employee"})

    assert Signature.objects.get(pk=fake.pk).status == SignatureStatus.INVALIDATED
    assert letter_counts(letter_id=team["letter"].pk).confirmed == 0
    entry = AuditLog.objects.get(action="signature.invalidate")
    assert entry.actor == team["editor"]
    assert entry.details == {"reason": "Not an employee"}
    assert "Mickey" not in str(entry.details) + entry.target


def test_invalidate_by_domain_after_a_dry_run_that_hides_small_numbers(team):
    letter = team["letter"]
    for n in range(6):
        confirmed_signature(letter, name=f"Bot {n}", email=f"bot{n}@spam.example")
    confirmed_signature(letter, name="Lone", email="lone@rare.example", display=Display.ANONYMOUS)
    confirmed_signature(letter, name="Real", email="real@northwind.example")
    url = reverse("organise:invalidate_matching", kwargs={"slug": letter.slug})
    client = client_for(team["editor"])

    rare = client.post(url, {"domain": "rare.example", "action": "count"}).content.decode()
    assert "Fewer than 5 signatures match." in rare  # cannot single out one person
    dry = client.post(url, {"domain": "spam.example", "action": "count"}).content.decode()
    assert "6 signatures match." in dry
    assert letter_counts(letter_id=letter.pk).confirmed == 8  # a dry run changes nothing

    client.post(url, {"domain": "spam.example", "action": "invalidate", "reason": "Bots"})

    assert letter_counts(letter_id=letter.pk).confirmed == 2
    entry = AuditLog.objects.get(action="signature.invalidate_matching")
    assert entry.details["count"] == "6"
    assert entry.target == "domain=spam.example"


# Five signers at each: enough for the dry run to report a number.
DOMAIN_SHAPES = {
    "at": "northwind.example",
    "sub": "eu.northwind.example",
    "lookalike": "notnorthwind.example",
    "suffixed": "northwind.example.evil",
}


@pytest.mark.parametrize(
    ("typed", "matched"),
    [
        ("northwind.example", {"at", "sub"}),  # the domain and its subdomains
        ("NorthWind.Example.", {"at", "sub"}),  # typed as organisers type it
        ("eu.northwind.example", {"sub"}),
        ("notnorthwind.example", {"lookalike"}),
        ("northwind.example.evil", {"suffixed"}),
    ],
)
def test_invalidate_by_domain_takes_the_domain_and_its_subdomains_only(team, typed, matched):
    """Domains are stored as keyed tags of each address's domain and its
    parents: a filter matches whole domain labels, never a string suffix
    or prefix (notnorthwind.example, northwind.example.evil)."""
    letter = team["letter"]
    addresses = {
        shape: [f"{shape}{n}@{domain}" for n in range(5)] for shape, domain in DOMAIN_SHAPES.items()
    }
    for shape, group in addresses.items():
        for address in group:
            confirmed_signature(letter, name=f"Signer {shape}", email=address)
    url = reverse("organise:invalidate_matching", kwargs={"slug": letter.slug})
    client = client_for(team["editor"])

    dry = client.post(url, {"domain": typed, "action": "count"}).content.decode()
    assert f"{5 * len(matched)} signatures match." in dry
    client.post(url, {"domain": typed, "action": "invalidate", "reason": "Bots"})

    for shape, group in addresses.items():
        expected = SignatureStatus.INVALIDATED if shape in matched else SignatureStatus.CONFIRMED
        for address in group:
            assert signature_of(letter, address).get().status == expected, (typed, address)
    assert letter_counts(letter_id=letter.pk).confirmed == 5 * (4 - len(matched))


def test_signatures_keep_no_domain_in_clear(team):
    """The domain tags are keyed hashes: a copy of the database cannot be
    searched for a (personal) domain."""
    signature = confirmed_signature(team["letter"], name="Jane", email="jane@janedoe.name")

    assert "janedoe" not in signature.email_domains
    assert len(signature.email_domains.split()) == 2  # janedoe.name and name
    assert "janedoe" not in repr(Signature.objects.filter(pk=signature.pk).values().get())


def test_invalidating_without_a_reason_asks_for_one_and_keeps_the_count_shown(team):
    letter = team["letter"]
    for n in range(6):
        confirmed_signature(letter, name=f"Bot {n}", email=f"bot{n}@spam.example")
    url = reverse("organise:invalidate_matching", kwargs={"slug": letter.slug})

    page = client_for(team["editor"]).post(
        url, {"domain": "spam.example", "action": "invalidate", "reason": ""}
    )

    assert page.status_code == 200
    assert "Give a reason." in page.content.decode()
    assert "6 signatures match." in page.content.decode()  # the button is still there
    assert letter_counts(letter_id=letter.pk).confirmed == 6


def test_a_viewer_cannot_invalidate(team):
    fake = confirmed_signature(team["letter"], name="Mickey", email="mm@example.org")
    url = reverse(
        "organise:invalidate",
        kwargs={"slug": team["letter"].slug, "signature_ref": signature_ref(fake.pk)},
    )
    assert client_for(team["viewer"]).post(url, {"reason": "x"}).status_code == 403
    assert Signature.objects.get(pk=fake.pk).status == SignatureStatus.CONFIRMED


@pytest.mark.parametrize("persona", ["visitor", "outsider", "viewer", "editor", "owner"])
def test_urls_about_one_organiser_or_signature_check_the_role(team, outsider, persona):
    letter = team["letter"]
    target = Organiser.objects.get(letter=letter, user=team["editor"])
    fake = confirmed_signature(letter, name="Fake", email="fake@example.org")
    users = {"visitor": None, "outsider": outsider, **team}
    client = client_for(users[persona])
    role_url = reverse("organise:role", kwargs={"slug": letter.slug, "organiser_id": target.pk})
    remove_url = reverse("organise:remove", kwargs={"slug": letter.slug, "organiser_id": target.pk})
    invalidate_url = reverse(
        "organise:invalidate", kwargs={"slug": letter.slug, "signature_ref": signature_ref(fake.pk)}
    )

    statuses = [
        client.post(role_url, {"role": OrganiserRole.EDITOR}).status_code,
        client.post(invalidate_url, {"reason": "test"}).status_code,
        client.post(remove_url).status_code,
    ]

    expected = {
        "visitor": [302, 302, 302],
        "outsider": [404, 404, 404],
        "viewer": [403, 403, 403],
        "editor": [403, 302, 302],  # an editor may invalidate, and leave (remove self)
        "owner": [302, 302, 302],
    }[persona]
    assert statuses == expected
    for url in (role_url, remove_url, invalidate_url):
        assert client_for(team["owner"]).get(url).status_code == 405


def test_new_letter_and_invitation_pages_need_an_account(organiser):
    for url in (reverse("organise:new"), reverse("organise:invitation", args=["whatever"])):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    client = client_for(organiser)
    assert client.get(reverse("organise:new")).status_code == 200
    assert client.put(reverse("organise:new")).status_code == 405
    assert client.get(reverse("organise:invitation", args=["whatever"])).status_code == 404
    assert client.put(reverse("organise:invitation", args=["whatever"])).status_code == 405


def test_the_signatories_page_shows_organisers_no_signature_id(client, team):
    """Ids count every sign attempt on the site; organisers see opaque
    references that decode only with the server's key."""
    from letters.refs import signature_pk

    letter = team["letter"]
    signers = [
        confirmed_signature(letter, name=f"Named {n}", email=f"named{n}@example.org")
        for n in range(3)
    ]
    client.force_login(team["editor"])

    page = client.get(reverse("organise:signatures", kwargs={"slug": letter.slug}))

    html = page.content.decode()
    refs = re.findall(r"/signatures/([^/]+)/invalidate/", html)
    assert sorted(signature_pk(ref) or 0 for ref in refs) == sorted(s.pk for s in signers)
    for signer in signers:
        assert f"/signatures/{signer.pk}/" not in html
        assert f"reason-{signer.pk}" not in html
    assert signature_pk("not-a-ref") is None
    bad = reverse("organise:invalidate", kwargs={"slug": letter.slug, "signature_ref": "nope"})
    assert client.post(bad, {"reason": "x"}).status_code == 404
