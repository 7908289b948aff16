"""Enumeration of who signed (DESIGN §2 rule 2: nothing tells whether a given
address signed), as a planted organiser would try it: probing the public sign
form with a colleague's address and watching the organiser pages, and
narrowing the moderation filter (email domain, time window) until it holds
one person.  Whatever the organiser sees must be the same whether the person
signed or not."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from letters.models import Display, Signature, SignatureStatus
from letters.selectors import letter_counts
from letters.tests.factories import confirmed_signature
from tests.security.matrix import send
from tests.security.world import ANON_EMAIL, World

NOTICE = re.compile(r'<div class="notice[^"]*" role="(?:status|alert)">(.*?)</div>', re.S)


def notices(html: str) -> list[str]:
    return [" ".join(re.sub(r"<[^>]+>", " ", n).split()) for n in NOTICE.findall(html)]


def organiser_sees(client: Client, world: World) -> tuple[list[str], Any]:
    """The numbers an organiser reads: the dashboard's cells and the export of
    counts by status."""
    dashboard = send(client, "get", "/organise/").body.decode()
    export = send(
        client,
        "get",
        f"/organise/{world.letter.slug}/export/counts/",
        {"format": "json", "kind": "status"},
    )
    return re.findall(r"<td>([^<]*)</td>", dashboard), json.loads(export.body)


def probe_sign(world: World, email: str) -> None:
    form = {"name": "Probe", "email": email, "display": "anonymous", "consent": "on"}
    assert Client().post(f"/letters/{world.letter.slug}/sign/", form).status_code == 302


def test_signing_with_a_colleague_s_address_shows_an_organiser_nothing(world: World) -> None:
    planted = world.client("owner")
    assert Signature.objects.filter(email=ANON_EMAIL, letter=world.letter).exists()

    before = organiser_sees(planted, world)
    probe_sign(world, "never.signed@example.org")
    after_stranger = organiser_sees(planted, world)
    probe_sign(world, ANON_EMAIL)  # the anonymous signer's address
    after_signer = organiser_sees(planted, world)

    changed = {"never signed": after_stranger != before, "signed": after_signer != after_stranger}
    assert changed["never signed"] == changed["signed"], changed


@pytest.fixture
def lone_signer(world: World) -> Signature:
    """Someone who signed anonymously from a personal domain, alone in a minute."""
    return confirmed_signature(
        world.letter, name="Jane Doe", email="jane@jane-doe.example", display=Display.ANONYMOUS
    )


def _filters(lone: Signature) -> dict[str, tuple[dict[str, str], dict[str, str]]]:
    at = timezone.localtime(lone.created_at)
    fmt = "%Y-%m-%dT%H:%M"
    window = {"since": (at - timedelta(minutes=1)).strftime(fmt)}
    window["until"] = (at + timedelta(minutes=1)).strftime(fmt)
    empty = {"since": (at - timedelta(days=3)).strftime(fmt)}
    empty["until"] = (at - timedelta(days=2)).strftime(fmt)
    return {
        # (a filter that holds the person, the same filter holding nobody)
        "domain": ({"domain": "jane-doe.example"}, {"domain": "john-roe.example"}),
        "window": (
            {"domain": "jane-doe.example", **window},
            {"domain": "jane-doe.example", **empty},
        ),
    }


@pytest.mark.parametrize("kind", ["domain", "window"])
def test_the_dry_run_cannot_tell_whether_one_person_signed(
    world: World, lone_signer: Signature, kind: str
) -> None:
    planted = world.client("editor")
    url = f"/organise/{world.letter.slug}/signatures/invalidate/"
    holds, empty = _filters(lone_signer)[kind]

    signed = notices(planted.post(url, {**holds, "action": "count"}).content.decode())
    nobody = notices(planted.post(url, {**empty, "action": "count"}).content.decode())

    assert signed
    assert signed == nobody


def test_invalidating_by_filter_cannot_tell_whether_one_person_signed(
    world: World, lone_signer: Signature
) -> None:
    planted = world.client("editor")
    url = f"/organise/{world.letter.slug}/signatures/invalidate/"
    holds, empty = _filters(lone_signer)["domain"]
    count = letter_counts(letter_id=world.letter.pk).confirmed

    nobody = planted.post(url, {**empty, "action": "invalidate", "reason": "probe"}, follow=True)
    signed = planted.post(url, {**holds, "action": "invalidate", "reason": "probe"}, follow=True)

    assert notices(signed.content.decode()) == notices(nobody.content.decode())
    assert letter_counts(letter_id=world.letter.pk).confirmed == count
    assert Signature.objects.get(pk=lone_signer.pk).status == SignatureStatus.CONFIRMED


def test_the_dry_run_hides_small_numbers_but_counts_large_ones(world: World) -> None:
    """What holds today: 1-4 matches read "fewer than 5"; 5 and up exactly."""
    for n in range(6):
        confirmed_signature(world.letter, name=f"Bot {n}", email=f"bot{n}@spam.example")
    confirmed_signature(world.letter, name="Rare", email="rare@rare.example")
    planted = world.client("editor")
    url = f"/organise/{world.letter.slug}/signatures/invalidate/"

    rare = notices(
        planted.post(url, {"domain": "rare.example", "action": "count"}).content.decode()
    )
    spam = notices(
        planted.post(url, {"domain": "spam.example", "action": "count"}).content.decode()
    )

    assert rare == ["Fewer than 5 signatures match."]
    assert spam == ["6 signatures match."]
