"""Emailed and handed-out links under attack: tampered, expired, replayed
after withdrawal (or revocation), and another letter's token used where it
does not belong.  Each endpoint answers every one of them with the same
status and the same bytes (GET and POST), and changes nothing; only the
valid token works."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import signing
from django.test import Client, override_settings
from django.utils import timezone

from letters import services
from letters.models import LeadershipLink, Signature
from letters.tokens import OLD_FORMAT_READ, Purpose, make_token
from tests.security.matrix import Answer, send
from tests.security.world import JUNK_TOKEN, SIGNER_LINKS, World, other_tokens, snapshot

# What a POST to each endpoint would do with a valid token.
POSTS: dict[str, dict[str, str]] = {
    "s": {"display": "anonymous"},
    "w": {},
    "v": {},
    "u": {},
    "a": {},
    "l": {"action": "acknowledge"},
}
OTHER_PURPOSE = {
    "s": Purpose.WITHDRAW,
    "w": Purpose.CONFIRM,
    "v": Purpose.UNSUBSCRIBE,
    "u": Purpose.NEW_VERSION,
    "a": Purpose.CONFIRM,
}


def old_format(signature: Signature, purpose: Purpose) -> str:
    """A token as the release before issue 16 minted it (the id readable)."""
    return signing.dumps([signature.pk, signature.secret], salt=purpose.value, compress=False)


def tamper(token: str) -> str:
    """Change one character in the middle (the signed payload or the secret)."""
    i = len(token) // 3
    return token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]


def control(client: Client, prefix: str, valid: str) -> dict[str, list[dict[str, Any]]]:
    """The valid token works (the control); returns the state before the attack."""
    assert send(client, "get", f"/{prefix}/{valid}/").status == 200
    return snapshot()


def bad_tokens(valid: str, foreign: dict[str, Any], specific: dict[str, str]) -> dict[str, str]:
    """What is tried where `valid` works: it tampered with, junk, the
    `foreign_tokens` that are no signer's, and the endpoint's `specific` ones."""
    return {
        "tampered": tamper(valid),
        "junk": JUNK_TOKEN,
        **specific,
        "other letter's review link": foreign["preview"],
        "other letter's invitation": foreign["invitation"],
    }


def answers(client: Client, prefix: str, tokens: dict[str, str]) -> dict[str, Answer]:
    """GET and POST each token; nothing is rolled back (a bad token must not write)."""
    result = {}
    for name, token in tokens.items():
        path = f"/{prefix}/{token}/"
        result[f"GET {name}"] = send(client, "get", path, keep=True)
        result[f"POST {name}"] = send(client, "post", path, POSTS[prefix], keep=True)
    return result


def assert_one_answer(got: dict[str, Answer]) -> None:
    assert {a.status for a in got.values()} == {404}, {k: a.status for k, a in got.items()}
    bodies = {a.body for a in got.values()}
    assert len(bodies) == 1, "the answers differ: " + ", ".join(sorted(got))


@pytest.fixture
def foreign_tokens(world: World) -> dict[str, Any]:
    """Tokens of the other (delivered) letter: its signers' links, its review
    link and an invitation to organise it."""
    other = world.public[world.delivered.pk]
    return {
        "signature": other,
        **other_tokens(world.delivered, world.users["owner"]),
    }


@pytest.mark.parametrize("prefix", sorted(SIGNER_LINKS))
def test_bad_signer_links_all_get_the_same_answer_and_change_nothing(
    world: World, foreign_tokens: dict[str, Any], prefix: str
) -> None:
    client = Client()
    signature: Signature = world.signer
    valid = world.signer_tokens[prefix]
    before = control(client, prefix, valid)
    other: Signature = foreign_tokens["signature"]

    bad = bad_tokens(
        valid,
        foreign_tokens,
        {
            # another letter's signer's link, minted for another purpose
            "other letter, other purpose": make_token(other, OTHER_PURPOSE[prefix]),
            # correctly signed, naming another letter's signature with this one's secret
            "other letter's id": signing.dumps(
                [other.pk, signature.secret], salt=SIGNER_LINKS[prefix].value, compress=False
            ),
            "a leadership link": world.leadership_token,
        },
    )
    if SIGNER_LINKS[prefix] not in OLD_FORMAT_READ:
        # this very signature's link as the previous release minted it
        bad["old format"] = old_format(signature, SIGNER_LINKS[prefix])
    got = answers(client, prefix, bad)
    with override_settings(SIGNATURE_CONFIRM_MAX_AGE=-1, SIGNATURE_WITHDRAW_MAX_AGE=-1):
        got |= answers(client, prefix, {"expired": valid})
    assert snapshot() == before
    assert send(client, "get", f"/{prefix}/{valid}/").status == 200  # still good
    services.signature_withdraw(signature_id=signature.pk)
    got |= answers(client, prefix, {"replayed after withdrawal": valid})

    assert_one_answer(got)
    assert Signature.objects.get(pk=other.pk).status == other.status


def test_bad_leadership_links_all_get_the_same_answer_and_change_nothing(
    world: World, foreign_tokens: dict[str, Any]
) -> None:
    client = Client()
    valid = world.leadership_token
    before = control(client, "l", valid)
    other: Signature = foreign_tokens["signature"]

    bad = bad_tokens(
        valid,
        foreign_tokens,
        {
            "a signer's link": make_token(other, Purpose.CONFIRM),
            "a link's stored hash": LeadershipLink.objects.get(pk=world.link.pk).token_hash,
        },
    )
    got = answers(client, "l", bad)
    LeadershipLink.objects.filter(pk=world.link.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    got |= answers(client, "l", {"expired": valid})
    LeadershipLink.objects.filter(pk=world.link.pk).update(expires_at=None)
    assert send(client, "get", f"/l/{valid}/").status == 200  # good again
    before["LeadershipLink"] = snapshot()["LeadershipLink"]
    services.leadership_link_revoke(
        letter=world.delivered, by=world.users["owner"], link_id=world.link.pk
    )
    got |= answers(client, "l", {"replayed after revocation": valid})

    assert_one_answer(got)
    after = snapshot()
    assert after["Letter"] == before["Letter"]  # never acknowledged
    assert after["LetterEvent"] == before["LetterEvent"]


def test_old_format_withdraw_and_unsubscribe_links_in_mailboxes_still_work(world: World) -> None:
    """Withdraw links live 400 days: those minted before tokens became opaque
    still let their signer unsubscribe and withdraw (and then stop working)."""
    client = Client()
    signature: Signature = world.signer
    unsubscribe = f"/u/{old_format(signature, Purpose.UNSUBSCRIBE)}/"
    withdraw = f"/w/{old_format(signature, Purpose.WITHDRAW)}/"
    before = snapshot()
    assert send(client, "get", unsubscribe, keep=True).status == 200
    assert send(client, "get", withdraw, keep=True).status == 200
    assert snapshot() == before  # opening a link changes nothing

    assert send(client, "post", unsubscribe, keep=True).status == 200
    assert Signature.objects.get(pk=signature.pk).wants_updates is False
    assert send(client, "post", withdraw, keep=True).status == 200
    row = Signature.objects.get(pk=signature.pk)
    erased = (row.email_hash, row.email_sealed, row.email_domains, row.name, row.secret)
    assert (row.status, *erased) == ("withdrawn", "", None, "", "", "")
    assert send(client, "get", withdraw).status == 404
    assert send(client, "get", unsubscribe).status == 404
