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

from letters.models import Display, Letter, Signature, SignatureStatus
from letters.selectors import letter_counts
from letters.tests.factories import confirmed_signature, signature_of
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
    assert signature_of(world.letter, ANON_EMAIL).exists()

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
    assert lone.confirmed_at is not None
    day = timezone.localtime(lone.confirmed_at).date()
    window = {"since": day.isoformat(), "until": day.isoformat()}
    empty = {"since": (day - timedelta(days=3)).isoformat()}
    empty["until"] = (day - timedelta(days=2)).isoformat()
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


# --- DESIGN §2 rule 8: pending rows (which anyone can create) count nowhere ---


def organiser_figures(client: Client, world: World) -> dict[str, Any]:
    """Every number an editor can read about the letter: the dashboard, the
    overview, the signatories page, the packet, every count export, and the
    dry run for a domain, a day and both."""
    slug = world.letter.slug
    today = timezone.localdate().isoformat()

    def cells(path: str) -> list[str]:
        html = send(client, "get", path).body.decode()
        return re.findall(r"<td[^>]*>([^<]*)</td>", html) + notices(html)

    figures: dict[str, Any] = {
        "dashboard": cells("/organise/"),
        "overview": cells(f"/organise/{slug}/"),
        "signatures": cells(f"/organise/{slug}/signatures/"),
        "packet": cells(f"/organise/{slug}/packet/"),
    }
    for kind in ("status", "day", "version", "team", "location"):
        export = send(
            client, "get", f"/organise/{slug}/export/counts/", {"format": "json", "kind": kind}
        )
        figures[f"export-{kind}"] = json.loads(export.body)
    url = f"/organise/{slug}/signatures/invalidate/"
    for name, flt in {
        "domain": {"domain": "example.org"},
        "day": {"since": today, "until": today},
        "domain-day": {"domain": "example.org", "since": today, "until": today},
    }.items():
        figures[f"dry-run-{name}"] = notices(
            client.post(url, {**flt, "action": "count"}).content.decode()
        )
    return figures


def test_no_organiser_figure_tells_whether_an_address_has_a_live_signature(world: World) -> None:
    """The attack: sign five throwaway addresses and then the target within a
    known minute, then read the dry run (and every other figure).  A new
    address used to add a pending row; one that had signed added nothing."""
    for n in range(6):  # enough confirmed signatures today for exact counts
        confirmed_signature(world.letter, name=f"Padding {n}", email=f"pad{n}@example.org")
    planted = world.client("editor")
    assert signature_of(world.letter, ANON_EMAIL).exists()

    before = organiser_figures(planted, world)
    for n in range(5):
        probe_sign(world, f"throwaway{n}@example.org")
    probe_sign(world, "never.signed@example.org")
    after_stranger = organiser_figures(planted, world)
    for n in range(5, 10):
        probe_sign(world, f"throwaway{n}@example.org")
    probe_sign(world, ANON_EMAIL)  # the anonymous signer's address
    after_signer = organiser_figures(planted, world)

    assert after_stranger == before
    assert after_signer == before


def test_a_narrower_filter_than_an_allowed_domain_is_refused(world: World) -> None:
    """A subdomain of the employer's domain is a group inside the employer."""
    Letter.objects.filter(pk=world.letter.pk).update(allowed_domains=["example.org"])
    planted = world.client("editor")
    url = f"/organise/{world.letter.slug}/signatures/invalidate/"

    page = planted.post(url, {"domain": "legal.example.org", "action": "count"})

    html = page.content.decode()
    assert "not a part of it" in html
    assert not notices(html) or "match" not in " ".join(notices(html))
