"""Organising groups, with named personas: Gus owns the Warehouse Workers
United group, Grete organises in it and Gil views; Olivia owns the letter
"Stop the contract" (and organises in the group when a test says so);
Oscar is an outsider with an account.  The authorisation matrix
(tests/security/) covers every group URL for every role; here: what the
services decide, and each view's happy, forbidden and wrong-method paths."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from letters import selectors, services
from letters.access import GROUP_LETTER_CAPABILITIES, Capability, organiser_access
from letters.models import (
    Answer,
    AuditLog,
    Group,
    GroupInvitation,
    GroupMember,
    GroupRole,
    Letter,
    LetterStatus,
    Organiser,
    OrganiserRole,
)
from letters.services import ServiceError
from letters.services.slugs import slug_taken
from letters.tests.factories import (
    Persona,
    client_for,
    confirmed_signature,
    deliver,
    make_persona,
    make_user,
    open_letter,
)

GUS = Persona("gus.groupowner@example.org", "Gus Groupowner")
GRETE = Persona("grete.grouporganiser@example.org", "Grete Grouporganiser")
GIL = Persona("gil.groupviewer@example.org", "Gil Groupviewer")


@pytest.fixture
def crew(db: None, organiser: Any, outsider: Any) -> dict[str, Any]:
    """The group, its three members, Olivia's letter (not yet in the group)."""
    gus, grete, gil = make_persona(GUS), make_persona(GRETE), make_persona(GIL)
    group = services.group_create(by=gus, name="Warehouse Workers United")
    GroupMember.objects.create(group=group, user=grete, role=GroupRole.ORGANISER)
    GroupMember.objects.create(group=group, user=gil, role=GroupRole.VIEWER)
    letter = open_letter(owner=organiser)
    return {
        "group": group,
        "owner": gus,
        "organiser": grete,
        "viewer": gil,
        "letter_owner": organiser,
        "outsider": outsider,
        "letter": letter,
    }


def _in_group(letter: Letter, group: Group) -> Letter:
    Letter.objects.filter(pk=letter.pk).update(group=group)
    letter.refresh_from_db()
    return letter


def _member(crew: dict[str, Any], who: str) -> GroupMember:
    return GroupMember.objects.get(group=crew["group"], user=crew[who])


def _group_url(name: str, crew: dict[str, Any], **kwargs: Any) -> str:
    return reverse(f"organise:{name}", kwargs={"group_slug": crew["group"].slug, **kwargs})


def _messages(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- Creating a group ---------------------------------------------------------------------


def test_the_creator_owns_the_new_group_at_an_address_made_from_its_name(crew):
    again = services.group_create(by=crew["outsider"], name="Warehouse Workers United")

    assert crew["group"].slug == "warehouse-workers-united"
    assert again.slug == "warehouse-workers-united-2"
    assert _member(crew, "owner").role == GroupRole.OWNER
    assert GroupMember.objects.get(group=again).user == crew["outsider"]
    assert AuditLog.objects.filter(action="group.create").count() == 2


@pytest.mark.parametrize(
    ("name", "slug", "field"),
    [
        ("", "", "name"),
        ("!!!", "", "slug"),  # nothing to make an address from
        ("Taken", "warehouse-workers-united", "slug"),
        ("Reserved", "new", "slug"),
        ("Reserved", "invitations", "slug"),
    ],
)
def test_a_group_needs_a_name_and_a_free_address(crew, name, slug, field):
    with pytest.raises(ServiceError) as refused:
        services.group_create(by=crew["outsider"], name=name, slug=slug)

    assert refused.value.field == field
    assert not GroupMember.objects.filter(user=crew["outsider"]).exists()


def test_no_letter_can_take_the_group_area_s_address():
    assert slug_taken("groups")


# --- Members: invitations, roles, leaving ---------------------------------------------------


def test_an_owner_invites_a_member_who_accepts_with_the_invited_address(
    crew, django_capture_on_commit_callbacks
):
    owner = client_for(crew["owner"])

    with django_capture_on_commit_callbacks(execute=True):
        response = owner.post(
            _group_url("group_invite", crew), {"email": "Newbie@Example.org", "role": "organiser"}
        )

    assert response.status_code == 302
    (message,) = mail.outbox
    assert message.to == ["newbie@example.org"]
    assert "join an organising group" in str(message.subject)
    assert "Warehouse Workers United" in str(message.body)
    found = re.search(r"https?://[^/\s]+(/organise/groups/invitations/[^\s]+)", str(message.body))
    assert found
    path = found.group(1)
    assert client_for(crew["outsider"]).get(path).status_code == 200  # opening changes nothing
    wrong = client_for(crew["outsider"]).post(path)
    assert "Sign in with the address the invitation was sent to" in wrong.content.decode()
    newbie = make_user(email="newbie@example.org")
    assert client_for(newbie).get(path).status_code == 200
    assert not GroupMember.objects.filter(user=newbie).exists()  # a GET never accepts

    accepted = client_for(newbie).post(path)

    assert accepted.status_code == 302
    assert accepted["Location"] == _group_url("group", crew)
    assert GroupMember.objects.get(group=crew["group"], user=newbie).role == GroupRole.ORGANISER
    assert client_for(newbie).get(path).status_code == 404  # used up
    assert AuditLog.objects.filter(action="group.invite", target="newbie@example.org").exists()


def test_inviting_someone_already_in_the_group_is_refused(crew):
    with pytest.raises(ServiceError) as refused:
        services.group_invite(
            group=crew["group"], by=crew["owner"], email=GRETE.email, role="viewer", language="en"
        )

    assert refused.value.field == "email"
    assert not GroupInvitation.objects.exists()


def test_an_old_invitation_never_changes_a_member_s_role(crew):
    newbie = make_user(email="newbie@example.org")
    viewer = services.group_invite(
        group=crew["group"], by=crew["owner"], email=newbie.email, role="viewer", language="en"
    )
    owner = services.group_invite(
        group=crew["group"], by=crew["owner"], email=newbie.email, role="owner", language="en"
    )
    services.group_invitation_accept(token=owner, user=newbie)

    member = services.group_invitation_accept(token=viewer, user=newbie)

    assert member.role == GroupRole.OWNER


def test_the_invitation_email_is_in_the_inviter_s_language(
    crew, django_capture_on_commit_callbacks
):
    client = client_for(crew["owner"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            _group_url("group_invite", crew),
            {"email": "neu@example.org", "role": "viewer"},
            HTTP_ACCEPT_LANGUAGE="de",
        )

    (message,) = mail.outbox
    assert GroupInvitation.objects.get().language == "de"
    assert message.extra_headers["Content-Language"] == "de"


def test_the_last_owner_can_neither_leave_nor_be_demoted_or_removed(crew):
    group, gus = crew["group"], crew["owner"]
    mine = _member(crew, "owner")

    for attempt in (
        lambda: services.group_member_remove(group=group, by=gus, member_id=mine.pk),
        lambda: services.group_member_set_role(
            group=group, by=gus, member_id=mine.pk, role=GroupRole.ORGANISER
        ),
    ):
        with pytest.raises(ServiceError):
            attempt()
    services.group_member_set_role(
        group=group, by=gus, member_id=_member(crew, "organiser").pk, role=GroupRole.OWNER
    )
    services.group_member_remove(group=group, by=gus, member_id=mine.pk)  # now gus may leave

    assert not GroupMember.objects.filter(group=group, user=gus).exists()
    assert _member(crew, "organiser").role == GroupRole.OWNER


def test_roles_must_be_group_roles(crew):
    with pytest.raises(ServiceError):
        services.group_member_set_role(
            group=crew["group"],
            by=crew["owner"],
            member_id=_member(crew, "viewer").pk,
            role=OrganiserRole.EDITOR,  # "editor": a letter's role, not a group's
        )


# --- Letters of a group --------------------------------------------------------------------


def test_a_letter_owner_who_organises_in_the_group_puts_the_letter_in_it_and_takes_it_out(crew):
    letter, olivia = crew["letter"], crew["letter_owner"]
    GroupMember.objects.create(group=crew["group"], user=olivia, role=GroupRole.ORGANISER)

    services.letter_group_set(letter=letter, by=olivia, group=crew["group"])
    assert Letter.objects.get(pk=letter.pk).group == crew["group"]
    GroupMember.objects.filter(user=olivia).delete()  # no group role needed to take it out
    services.letter_group_set(letter=letter, by=olivia, group=None)

    assert Letter.objects.get(pk=letter.pk).group is None
    assert AuditLog.objects.filter(action="letter.group", letter=letter).count() == 2


@pytest.mark.parametrize("role", [GroupRole.VIEWER, None], ids=["group viewer", "no member"])
def test_only_the_group_s_organisers_and_owners_put_letters_in_it(crew, role):
    if role is not None:
        GroupMember.objects.create(group=crew["group"], user=crew["letter_owner"], role=role)

    with pytest.raises(ServiceError) as refused:
        services.letter_group_set(
            letter=crew["letter"], by=crew["letter_owner"], group=crew["group"]
        )

    assert refused.value.field == "group"
    assert Letter.objects.get(pk=crew["letter"].pk).group is None


def test_a_group_owner_takes_a_letter_off_the_group_only_if_it_is_there(crew):
    letter = _in_group(crew["letter"], crew["group"])
    services.group_letter_remove(group=crew["group"], by=crew["owner"], letter_slug=letter.slug)

    assert Letter.objects.get(pk=letter.pk).group is None
    with pytest.raises(ServiceError):
        services.group_letter_remove(group=crew["group"], by=crew["owner"], letter_slug=letter.slug)


# --- Access to a group's letters --------------------------------------------------------------


@pytest.mark.parametrize("who", ["owner", "organiser", "viewer"])
def test_a_member_of_the_letter_s_group_gets_exactly_their_group_role_s_capabilities(crew, who):
    letter = _in_group(crew["letter"], crew["group"])
    role = GroupRole(_member(crew, who).role)

    access = organiser_access(user=crew[who], slug=letter.slug, capability=Capability.VIEW)

    assert access.capabilities == GROUP_LETTER_CAPABILITIES[role]
    assert access.organiser_role is None
    assert not access.can(Capability.OWN)


def test_an_organiser_who_is_also_a_group_member_gets_the_union(crew):
    letter = _in_group(crew["letter"], crew["group"])
    Organiser.objects.create(letter=letter, user=crew["viewer"], role=OrganiserRole.EDITOR)
    Organiser.objects.create(letter=letter, user=crew["organiser"], role=OrganiserRole.VIEWER)
    GroupMember.objects.create(
        group=crew["group"], user=crew["letter_owner"], role=GroupRole.VIEWER
    )
    slug = letter.slug
    edit = reverse("organise:edit", args=[slug])

    # an editor of the letter who only views in the group still edits
    assert client_for(crew["viewer"]).get(edit).status_code == 200
    # a viewer of the letter who organises in the group edits too
    assert client_for(crew["organiser"]).get(edit).status_code == 200
    # the letter's owner loses nothing by viewing in the group
    owner = organiser_access(user=crew["letter_owner"], slug=slug, capability=Capability.OWN)
    assert owner.capabilities == frozenset(Capability)
    page = client_for(crew["organiser"]).get(reverse("organise:letter", args=[slug]))
    assert "Viewer; Group organiser in Warehouse Workers United" in page.content.decode()


def test_a_letter_taken_out_of_its_group_is_hidden_from_the_members_at_once(crew):
    letter = _in_group(crew["letter"], crew["group"])
    grete = client_for(crew["organiser"])
    url = reverse("organise:letter", args=[letter.slug])
    assert grete.get(url).status_code == 200

    services.group_letter_remove(group=crew["group"], by=crew["owner"], letter_slug=letter.slug)

    assert grete.get(url).status_code == 404


def test_my_letters_lists_the_group_s_letters_with_the_member_s_group_role(crew):
    letter = _in_group(crew["letter"], crew["group"])
    dashboard = reverse("organise:dashboard")

    page = client_for(crew["viewer"]).get(dashboard).content.decode()
    assert letter.title in page
    assert "Group viewer in Warehouse Workers United" in page

    GroupMember.objects.filter(user=crew["viewer"]).delete()  # removed: at once
    assert letter.title not in client_for(crew["viewer"]).get(dashboard).content.decode()


def test_members_of_another_group_get_nothing_of_this_group_s_letters(crew):
    letter = _in_group(crew["letter"], crew["group"])
    services.group_create(by=crew["outsider"], name="Another group")

    url = reverse("organise:letter", args=[letter.slug])

    assert client_for(crew["outsider"]).get(url).status_code == 404
    assert client_for(crew["outsider"]).get(_group_url("group", crew)).status_code == 404


# --- The organiser area's group pages ------------------------------------------------------------


def test_my_groups_lists_the_member_s_groups_with_role_and_letters(crew):
    _in_group(crew["letter"], crew["group"])

    page = client_for(crew["viewer"]).get(reverse("organise:groups")).content.decode()
    other = client_for(crew["outsider"]).get(reverse("organise:groups")).content.decode()

    assert "Warehouse Workers United" in page
    assert "Group viewer" in page
    assert re.search(r"<td>1</td>", page)
    assert "Warehouse Workers United" not in other
    assert client_for(None).get(reverse("organise:groups")).status_code == 302
    assert client_for(crew["viewer"]).post(reverse("organise:groups")).status_code == 405


def test_an_account_creates_a_group_and_lands_on_its_members_page(crew):
    client = client_for(crew["outsider"])

    response = client.post(
        reverse("organise:group_new"), {"name": "Night Shift", "slug": "", "description": "Us."}
    )

    group = Group.objects.get(name="Night Shift")
    assert response.status_code == 302
    assert response["Location"] == reverse("organise:group", kwargs={"group_slug": "night-shift"})
    assert GroupMember.objects.get(group=group).user == crew["outsider"]
    taken = client.post(reverse("organise:group_new"), {"name": "X", "slug": "night-shift"})
    assert taken.status_code == 200
    assert "This address is taken" in taken.content.decode()
    assert client_for(None).get(reverse("organise:group_new")).status_code == 302
    assert client.put(reverse("organise:group_new")).status_code == 405


def test_members_see_who_is_in_the_group_and_its_letters_owners_also_the_forms(crew):
    letter = _in_group(crew["letter"], crew["group"])
    services.group_invite(
        group=crew["group"], by=crew["owner"], email="ivy@example.org", role="viewer", language="en"
    )

    owner = client_for(crew["owner"]).get(_group_url("group", crew)).content.decode()
    viewer = client_for(crew["viewer"]).get(_group_url("group", crew)).content.decode()

    for page in (owner, viewer):
        assert "Grete Grouporganiser" in page
        assert letter.title in page
        assert reverse("organise:letter", args=[letter.slug]) in page
    assert "Invite a member" in owner
    assert "ivy@example.org" in owner
    assert "Invite a member" not in viewer
    assert "ivy@example.org" not in viewer
    assert _group_url("group_member_role", crew, member_id=_member(crew, "viewer").pk) in owner
    assert "/role/" not in viewer
    assert client_for(crew["viewer"]).post(_group_url("group", crew)).status_code == 405


def test_an_owner_changes_the_group_s_settings_others_may_not(crew):
    data = {"name": "WWU", "description": "The warehouse workers."}
    url = _group_url("group_settings", crew)

    assert client_for(crew["organiser"]).post(url, data).status_code == 403
    assert client_for(crew["owner"]).get(url).status_code == 405
    assert client_for(crew["owner"]).post(url, data).status_code == 302

    group = Group.objects.get(pk=crew["group"].pk)
    assert (group.name, group.description, group.slug) == (
        "WWU",
        "The warehouse workers.",
        "warehouse-workers-united",  # the address stays
    )


def test_an_owner_changes_a_member_s_role_others_may_not(crew):
    url = _group_url("group_member_role", crew, member_id=_member(crew, "viewer").pk)

    assert client_for(crew["organiser"]).post(url, {"role": "owner"}).status_code == 403
    assert client_for(crew["owner"]).get(url).status_code == 405
    assert client_for(crew["owner"]).post(url, {"role": "organiser"}).status_code == 302

    assert _member(crew, "viewer").role == GroupRole.ORGANISER


def test_a_member_of_another_group_cannot_be_reached_through_this_group_s_urls(crew):
    other = services.group_create(by=crew["outsider"], name="Another group")
    theirs = GroupMember.objects.get(group=other)

    url = _group_url("group_member_remove", crew, member_id=theirs.pk)

    assert client_for(crew["owner"]).post(url).status_code == 404
    assert GroupMember.objects.filter(pk=theirs.pk).exists()


def test_a_member_leaves_and_loses_the_group_s_pages_and_letters_at_once(crew):
    letter = _in_group(crew["letter"], crew["group"])
    grete = client_for(crew["organiser"])
    remove = _group_url("group_member_remove", crew, member_id=_member(crew, "organiser").pk)

    assert grete.get(remove).status_code == 405
    left = grete.post(remove)

    assert left.status_code == 302
    assert left["Location"] == reverse("organise:groups")
    assert grete.get(_group_url("group", crew)).status_code == 404
    assert grete.get(reverse("organise:letter", args=[letter.slug])).status_code == 404
    assert AuditLog.objects.filter(action="group.remove").exists()


def test_a_viewer_cannot_remove_anyone_but_themself(crew):
    url = _group_url("group_member_remove", crew, member_id=_member(crew, "organiser").pk)

    assert client_for(crew["viewer"]).post(url).status_code == 403
    assert _member(crew, "organiser")


def test_the_last_owner_is_told_why_they_cannot_leave(crew):
    url = _group_url("group_member_remove", crew, member_id=_member(crew, "owner").pk)

    response = client_for(crew["owner"]).post(url, follow=True)

    assert "The last owner cannot leave the group" in response.content.decode()
    assert _member(crew, "owner").role == GroupRole.OWNER


def test_a_group_owner_takes_a_letter_off_the_group_page_others_may_not(crew):
    letter = _in_group(crew["letter"], crew["group"])
    url = _group_url("group_letter_remove", crew, letter_slug=letter.slug)

    assert client_for(crew["organiser"]).post(url).status_code == 403
    assert client_for(crew["owner"]).get(url).status_code == 405
    assert Letter.objects.get(pk=letter.pk).group == crew["group"]
    assert client_for(crew["owner"]).post(url).status_code == 302

    assert Letter.objects.get(pk=letter.pk).group is None


def test_group_invitation_links_need_an_account_and_refuse_other_methods(crew):
    url = reverse("organise:group_invitation", args=["whatever"])

    assert client_for(None).get(url).status_code == 302
    assert client_for(crew["outsider"]).get(url).status_code == 404
    assert client_for(crew["outsider"]).put(url).status_code == 405


# --- A letter's group, on its organiser page ---------------------------------------------------


def test_the_letter_s_owner_chooses_one_of_their_groups_on_the_letter_page(crew):
    letter, olivia = crew["letter"], crew["letter_owner"]
    GroupMember.objects.create(group=crew["group"], user=olivia, role=GroupRole.ORGANISER)
    only_viewing = services.group_create(by=crew["outsider"], name="Only viewing")
    GroupMember.objects.create(group=only_viewing, user=olivia, role=GroupRole.VIEWER)
    client = client_for(olivia)
    page = client.get(reverse("organise:letter", args=[letter.slug])).content.decode()
    url = reverse("organise:letter_group", args=[letter.slug])

    assert url in page
    assert '<option value="warehouse-workers-united">' in page
    assert "Only viewing" not in page  # a group she only views in is not offered
    assert client.post(url, {"group": "warehouse-workers-united"}).status_code == 302
    assert Letter.objects.get(pk=letter.pk).group == crew["group"]
    refused = client.post(url, {"group": only_viewing.slug}, follow=True)
    assert "Choose one of your groups." in refused.content.decode()
    assert Letter.objects.get(pk=letter.pk).group == crew["group"]
    assert client.post(url, {"group": ""}).status_code == 302
    assert Letter.objects.get(pk=letter.pk).group is None


def test_only_the_letter_s_owners_choose_its_group(crew):
    letter = _in_group(crew["letter"], crew["group"])
    editor = make_user()
    Organiser.objects.create(letter=letter, user=editor, role=OrganiserRole.EDITOR)
    url = reverse("organise:letter_group", args=[letter.slug])

    # a group owner organises the letter but does not own it
    group_owner_page = client_for(crew["owner"]).get(reverse("organise:letter", args=[letter.slug]))
    assert url not in group_owner_page.content.decode()
    assert client_for(crew["owner"]).post(url, {"group": ""}).status_code == 403
    assert client_for(editor).post(url, {"group": ""}).status_code == 403
    assert client_for(crew["outsider"]).post(url, {"group": ""}).status_code == 404
    assert client_for(crew["letter_owner"]).get(url).status_code == 405
    assert Letter.objects.get(pk=letter.pk).group == crew["group"]


# --- The group's public page --------------------------------------------------------------------


def test_the_public_group_page_lists_its_public_letters_and_their_outcomes(crew):
    group, olivia = crew["group"], crew["letter_owner"]
    open_one = _in_group(crew["letter"], group)
    confirmed_signature(open_one, name="Pia Public", email="pia@example.org")
    services.counts_fold_all()
    answered = _in_group(open_letter(owner=olivia, slug="answered", title="Answered"), group)
    _delivery, (link,) = deliver(answered, by=olivia)
    assert answered.current_version is not None
    services.letter_respond(
        letter=answered,
        statement="Yes.",
        answers={d.pk: Answer.ACCEPTED for d in answered.current_version.demands.all()},
        link=link.link,
    )
    waiting = _in_group(open_letter(owner=olivia, slug="waiting", title="Waiting"), group)
    deliver(waiting, by=olivia)
    draft = services.letter_create(
        slug="a-draft",
        data=services.LetterInput(title="A draft", body="Text", demands=["One"], addressees=[]),
        owner=olivia,
    )
    _in_group(draft, group)
    archived = _in_group(open_letter(owner=olivia, slug="archived", title="Archived"), group)
    services.letter_archive(letter=archived, by=olivia)
    taken = _in_group(open_letter(owner=olivia, slug="taken", title="Taken down"), group)
    services.letter_take_down(letter=taken, by=crew["outsider"], reason="Names someone")
    open_letter(owner=olivia, slug="elsewhere", title="Not in the group")

    response = Client().get(reverse("group_page", kwargs={"group_slug": group.slug}))
    page = response.content.decode()

    assert response.status_code == 200
    assert "public" in response["Cache-Control"]
    assert "Warehouse Workers United" in page
    assert open_one.get_absolute_url() in page
    assert "1 signature" in page
    assert 'data-outcome="responded"' in page
    assert "Responded on" in page
    assert 'data-outcome="delivered"' in page
    assert "no answer yet" in page
    for hidden in ("A draft", "Archived", "Taken down", "Not in the group", "elsewhere"):
        assert hidden not in page
    assert Letter.objects.get(slug="taken").status == LetterStatus.TAKEN_DOWN


def test_an_unknown_group_page_is_not_found_and_the_page_takes_no_post(crew):
    assert Client().get(reverse("group_page", kwargs={"group_slug": "no-such"})).status_code == 404
    url = reverse("group_page", kwargs={"group_slug": crew["group"].slug})
    assert Client().post(url).status_code == 405


def test_the_selector_offers_only_groups_where_the_user_may_put_letters(crew):
    assert selectors.groups_to_assign(user=crew["organiser"]) == [crew["group"]]
    assert selectors.groups_to_assign(user=crew["owner"]) == [crew["group"]]
    assert selectors.groups_to_assign(user=crew["viewer"]) == []
