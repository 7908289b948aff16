"""The privacy crawl (DESIGN §2 rule 1): an anonymous signer, with a
distinctive name, address, team, location and comment, signs two letters;
then the whole life of a letter happens (signing, re-signing, confirming, a
new version, an invitation, delivery, the leadership link emailed,
acknowledgement, a response, an update, a milestone).  As every role but the
admin, every URL of the matrix is fetched (pages, API, feed, exports, the
delivery packet, the leadership page), and every email the site sent to
anyone else is read: the anonymous signer appears in none of them.  Nor
does a copy of the database taken then (rule 10): it holds no signer's
address in clear and nothing the anonymous signer typed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.apps import apps
from django.core import mail
from django.core.cache import cache
from django.test import Client

from letters import services
from letters.http import local_tier_clear
from letters.models import Letter, OrganiserRole
from letters.tests.factories import SIGNER, make_user, open_letter, signature_of
from tests.security.matrix import ROUTES, build_path, send
from tests.security.world import (
    ANON_COMMENT,
    ANON_EMAIL,
    ANON_LOCATION,
    ANON_NAME,
    ANON_TEAM,
    PUBLIC_EMAIL,
    ROLES,
    World,
    build_world,
)

pytestmark = pytest.mark.django_db(transaction=True)

IDENTITY = [ANON_NAME, *ANON_NAME.split(), ANON_EMAIL, ANON_EMAIL.split("@")[0], ANON_COMMENT]
GROUPS = [ANON_TEAM, ANON_LOCATION]
# Every signer of the scenario: the world's (factories, the sign service) and the visitors'.
NEWCOMER_EMAIL = "newcomer@example.org"
SIGNER_ADDRESSES = [ANON_EMAIL, PUBLIC_EMAIL, SIGNER.email, NEWCOMER_EMAIL]


def live_the_letter_s_life(world: World) -> None:
    """Everything that makes the site send email or show something new."""
    visitor = Client()
    sign = f"/letters/{world.letter.slug}/sign/"
    for email, name in [
        (NEWCOMER_EMAIL, "Nina Newcomer"),
        (ANON_EMAIL, "Someone Else"),  # a stranger re-uses the anonymous signer's address
        (PUBLIC_EMAIL, "Pia Public"),
    ]:
        form = {"name": name, "email": email, "display": "public", "consent": "on"}
        assert visitor.post(sign, {**form, "wants_updates": "on"}).status_code == 302
    assert visitor.post(f"/s/{world.signer_tokens['s']}/", {"display": "public"}).status_code == 200

    owner, editor = world.users["owner"], world.users["editor"]
    services.letter_edit(
        letter=world.letter,
        by=editor,
        data=services.LetterInput(
            title=world.letter.title,
            body="Dear CEO,\n\nWe ask you to act, now.",
            demands=["End the contract"],
            addressees=[("Casey Chief", "CEO")],
            change_note="Shorter and sharper",
        ),
    )
    services.organiser_invite(
        letter=world.letter, by=owner, email="ivy.invitee@example.org", role=OrganiserRole.VIEWER
    )
    services.leadership_link_email(
        letter=world.delivered,
        by=owner,
        link_id=world.link.pk,
        email="casey.chief@example.org",
        token=world.leadership_token,
    )
    leadership = Client()
    link = f"/l/{world.leadership_token}/"
    assert leadership.post(link, {"action": "acknowledge"}).status_code == 302
    assert world.delivered.current_version is not None
    answers = {
        f"demand_{d.pk}": "considering" for d in world.delivered.current_version.demands.all()
    }
    respond = {"action": "respond", "statement": "We will think about it.", **answers}
    assert leadership.post(link, respond).status_code == 200  # what publishing will do
    assert leadership.post(link, {**respond, "confirm": "yes"}).status_code == 302
    services.letter_post_update(letter=world.delivered, by=editor, text="Leadership answered.")
    Letter.objects.filter(pk=world.letter.pk).update(goal=3)
    report = {"reason": "personal", "text": "It names someone"}
    assert visitor.post(f"/letters/{world.letter.slug}/report/", report).status_code == 302
    services.letter_request_change(
        letter=world.letter, by=world.users["admin"], message="Remove the name."
    )  # the organisers are emailed
    services.counts_fold_all()


def crawl(world: World, roles: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    """(where, text) of every answer of the matrix as each role, with the
    query variants (languages, export formats), and each POST-only view's answer."""
    clients = {role: world.client(role) for role in roles}
    for route, spec in sorted(ROUTES.items()):
        for role, client in clients.items():
            path = build_path(route, world, role)
            for query in ["", *spec.query]:
                url = f"{path}?{query}" if query else path
                yield f"GET {url} as {role}", send(client, "get", url).text()
            if spec.method == "post" and spec.post is not None:
                answer = send(client, "post", path, spec.post(world))
                yield f"POST {path} as {role}", answer.text()
    # every page again in German, and the letter pages of the delivered letter
    for role, client in clients.items():
        for letter in (world.letter, world.delivered):
            for suffix in ("", "signatories/", "feed/", "embed/"):
                url = f"/letters/{letter.slug}/{suffix}"
                yield (
                    f"GET {url} (de) as {role}",
                    send(client, "get", url, HTTP_ACCEPT_LANGUAGE="de").text(),
                )
            yield (
                f"GET api {letter.slug} as {role}",
                send(client, "get", f"/api/letters/{letter.slug}/counts/").text(),
            )
    # Last, the delivered letter taken down and appealed (issue 19): its
    # notice, and its organisers' page with the takedown and the appeal.
    admin = world.users["admin"]
    services.letter_take_down(letter=world.delivered, by=admin, reason="Names a colleague")
    services.takedown_appeal(letter=world.delivered, by=world.users["owner"], message="Fixed")
    local_tier_clear()
    cache.clear()
    for role, client in clients.items():
        for url in (f"/letters/{world.delivered.slug}/", f"/organise/{world.delivered.slug}/"):
            yield f"GET {url} (taken down) as {role}", send(client, "get", url).text()


def emails_to_others() -> Iterator[tuple[str, str]]:
    for message in mail.outbox:
        recipients = [*message.to, *message.cc, *message.bcc]
        if ANON_EMAIL in recipients:
            continue  # the signer's own mail may name them
        parts = [str(message.subject), str(message.body), str(message.extra_headers)]
        parts += [str(content) for content, _type in getattr(message, "alternatives", [])]
        yield f"email {message.subject!r} to {recipients}", "\n".join(parts)


_SEEN: list[tuple[str, str]] = []  # the crawl is slow; the tests below read the same one
_STORED: list[tuple[str, str]] = []  # every table's rows once the crawl is done


@pytest.fixture
def everything_but_the_admin_sees() -> list[tuple[str, str]]:
    if _SEEN:
        return _SEEN
    world = build_world()
    live_the_letter_s_life(world)
    anonymous = signature_of(None, ANON_EMAIL)
    assert [s.status for s in anonymous] == ["confirmed", "confirmed"]
    answers = list(crawl(world, tuple(r for r in ROLES if r != "admin")))
    sent = list(emails_to_others())
    kinds = {subject.split("'")[1] for subject, _text in sent}
    assert len(sent) >= 15  # the scenario really sent mail, of every kind
    assert len(kinds) >= 6, kinds
    _SEEN.extend(answers + sent)
    _STORED.extend(
        (f"table {model.__name__}", repr(list(model.objects.values())))  # type: ignore[attr-defined]
        for model in apps.get_models()
    )
    return _SEEN


@pytest.fixture
def the_database_after_the_crawl(
    everything_but_the_admin_sees: list[tuple[str, str]],
) -> list[tuple[str, str]]:
    assert _STORED
    return _STORED


def leaks(seen: list[tuple[str, str]], secrets: list[str]) -> list[str]:
    return [
        f"{secret!r} in {where}"
        for where, text in seen
        for secret in secrets
        if secret.lower() in text.lower()
    ]


def test_no_one_but_an_admin_ever_sees_an_anonymous_signer_s_name_address_or_comment(
    everything_but_the_admin_sees: list[tuple[str, str]],
) -> None:
    seen = everything_but_the_admin_sees
    assert len(seen) > 400
    assert any("Pia Public" in text for _where, text in seen)  # the crawl reaches names

    found = leaks(seen, IDENTITY)
    assert not found, "\n".join(found)


def test_a_lone_anonymous_signer_s_team_and_location_are_not_shown_either(
    everything_but_the_admin_sees: list[tuple[str, str]],
) -> None:
    """The leadership page and the packet hide small groups "not even by
    name"; a team of one named in an export points at the person."""
    found = leaks(everything_but_the_admin_sees, GROUPS)
    assert not found, "\n".join(found)


def test_a_copy_of_the_database_names_no_signer_and_keeps_nothing_an_anonymous_signer_typed(
    the_database_after_the_crawl: list[tuple[str, str]],
) -> None:
    """Rule 10: addresses are stored only hashed and sealed, and an
    anonymous signer's name, details and comment not at all."""
    stored = the_database_after_the_crawl
    assert any("Pia Public" in text for _where, text in stored)  # the dump holds the rows
    found = leaks(stored, [*SIGNER_ADDRESSES, *IDENTITY, *GROUPS])
    assert not found, "\n".join(found)


def test_a_signer_s_ip_address_is_stored_nowhere() -> None:
    """Rate limits use a keyed hash of the address, in the cache, for a day;
    no table holds the address itself (a breach or a subpoena finds none)."""
    letter = open_letter(owner=make_user(email="olivia.owner@example.org"))
    ip = "198.51.100.77"
    form = {"name": "Ida Ip", "email": "ida@example.org", "display": "public", "consent": "on"}
    client = Client(REMOTE_ADDR=ip)
    assert client.post(f"/letters/{letter.slug}/sign/", form).status_code == 302
    signature = signature_of(letter, "ida@example.org").get()
    from letters.tokens import Purpose, make_token

    confirm = {"name": "Ida Ip", "display": "public"}
    assert client.post(f"/s/{make_token(signature, Purpose.CONFIRM)}/", confirm).status_code == 200

    tables = [
        f"{model.__name__}: {list(model.objects.values())}"  # type: ignore[attr-defined]
        for model in apps.get_models()
    ]
    assert [t.split(":")[0] for t in tables if ip in t] == []


def test_the_crawl_would_see_a_leak() -> None:
    """The check itself: the same needles in an answer are found."""
    seen = [("a page", f"<li>{ANON_NAME.upper()}</li>"), ("a csv", f"x,{ANON_EMAIL}")]
    assert len(leaks(seen, IDENTITY)) >= 2
