"""Held (flagged) signatures (issue 19): organisers see how many confirmed
signatures the rate limits hold and why, never who, and release or
invalidate them in bulk after a dry run; owners add office ranges."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from letters import selectors, services
from letters.models import (
    AuditLog,
    CountDelta,
    Display,
    HeldReason,
    LetterStats,
    OfficeRange,
    Signature,
    SignatureStatus,
)
from letters.selectors import letter_counts
from letters.tests.factories import (
    add_co_organisers,
    confirmed_signature,
    pending_signature,
)
from letters.tests.factories import open_letter as make_open_letter
from letters.tests.held import BUSY_NETWORK, held_signature
from letters.tokens import Purpose, make_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(open_letter, organiser) -> dict[str, Any]:
    return {"letter": open_letter, "owner": organiser, **add_co_organisers(open_letter)}


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def held_url(letter: Any) -> str:
    return reverse("organise:held", kwargs={"slug": letter.slug})


def ranges_url(letter: Any) -> str:
    return reverse("organise:office_ranges", kwargs={"slug": letter.slug})


def figures(html: str) -> str:
    """The held section of a page, as text: what an organiser reads of it."""
    match = re.search(r'<section class="held-summary".*?</section>', html, flags=re.S)
    assert match, html
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(0))).strip()


# --- Holding ----------------------------------------------------------------------------


def test_a_confirmation_over_a_limit_is_held_with_the_limit_as_its_reason(open_letter, settings):
    settings.SIGN_RATE_BURST = "2/60"
    settings.SIGN_RATE_SUSTAINED = "3/86400"
    rows = [pending_signature(open_letter) for _ in range(5)]
    for row in rows:
        services.signature_confirm(signature=row, client_ip=BUSY_NETWORK)
    reasons = [Signature.objects.get(pk=row.pk).held_reason for row in rows]

    assert reasons == ["", "", HeldReason.BURST, HeldReason.BURST, HeldReason.BURST]
    assert letter_counts(letter_id=open_letter.pk).confirmed == 2


def test_an_office_range_keeps_co_workers_at_one_office_from_being_held(team, settings):
    letter = team["letter"]
    settings.SIGN_RATE_BURST = "1/60"
    services.office_range_add(
        letter=letter, by=team["owner"], network="198.51.100.0/24", label="Head office"
    )
    for _ in range(4):
        services.signature_confirm(signature=pending_signature(letter), client_ip=BUSY_NETWORK)
    elsewhere = [pending_signature(letter) for _ in range(2)]
    for row in elsewhere:
        services.signature_confirm(signature=row, client_ip="192.0.2.9")

    assert Signature.objects.filter(letter=letter, flagged=True).count() == 1  # the 2nd elsewhere
    entry = AuditLog.objects.get(action="office_range.add")
    assert (entry.actor, entry.target, entry.details["label"]) == (
        team["owner"],
        "198.51.100.0/24",
        "Head office",
    )
    # The range is per letter: another letter's confirmations from it are held.
    other = make_open_letter(owner=team["owner"], slug="another-letter")
    row = pending_signature(other)
    services.signature_confirm(signature=row, client_ip=BUSY_NETWORK)
    services.signature_confirm(signature=pending_signature(other), client_ip=BUSY_NETWORK)
    assert Signature.objects.filter(letter=other, flagged=True).count() == 1


def test_removing_an_office_range_holds_its_confirmations_again_and_is_audited(team, settings):
    letter = team["letter"]
    settings.SIGN_RATE_BURST = "0/60"
    office = services.office_range_add(letter=letter, by=team["owner"], network="198.51.100.0/24")
    services.office_range_remove(letter=letter, by=team["owner"], range_id=office.pk)
    row = pending_signature(letter)
    services.signature_confirm(signature=row, client_ip=BUSY_NETWORK)

    assert Signature.objects.get(pk=row.pk).flagged
    assert AuditLog.objects.filter(action="office_range.remove", target="198.51.100.0/24").exists()


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("not a network", "Enter an address range"),
        ("10.0.0.0/8", "too wide"),
        ("2001:db8::/16", "too wide"),
    ],
)
def test_an_owner_adds_an_office_range_on_the_page_and_too_wide_ones_are_refused(
    team, typed, error
):
    letter = team["letter"]
    owner = client_for(team["owner"])

    refused = owner.post(ranges_url(letter), {"network": typed}).content.decode()
    added = owner.post(ranges_url(letter), {"network": "2001:db8:1::1/48", "label": "Berlin"})

    assert error in refused
    assert added.status_code == 302
    page = owner.get(ranges_url(letter)).content.decode()
    assert "2001:db8:1::/48" in page
    assert "Berlin" in page
    assert list(OfficeRange.objects.values_list("network", flat=True)) == ["2001:db8:1::/48"]


def test_only_owners_manage_office_ranges(team):
    letter = team["letter"]
    editor = client_for(team["editor"])

    assert editor.get(ranges_url(letter)).status_code == 403
    assert editor.post(ranges_url(letter), {"network": "198.51.100.0/24"}).status_code == 403
    assert not OfficeRange.objects.exists()


# --- What organisers see ------------------------------------------------------------------


def test_held_figures_count_confirmed_signatures_held_on_earlier_days_by_reason(team):
    letter = team["letter"]
    for _ in range(6):
        held_signature(letter, reason=HeldReason.BURST)
    for _ in range(5):
        held_signature(letter, reason=HeldReason.SUSTAINED)
    held_signature(letter, days_ago=0)  # held today: tomorrow's review
    confirmed_signature(letter)

    held = selectors.letter_held_counts(letter=letter)

    assert held.total == 11
    assert {cell.label: cell.count for cell in held.reasons} == {
        "Many confirmations from one network within minutes": 6,
        "Many confirmations from one network within a day": 5,
    }
    text = figures(
        client_for(team["viewer"])
        .get(reverse("organise:signatures", kwargs={"slug": letter.slug}))
        .content.decode()
    )
    assert "11 confirmed signatures are held." in text
    assert "within minutes 6" in text


def test_small_held_figures_are_hidden_with_their_complement(team):
    letter = team["letter"]
    for _ in range(6):
        held_signature(letter, reason=HeldReason.BURST)
    held_signature(letter, reason=HeldReason.SUSTAINED)

    held = selectors.letter_held_counts(letter=letter)

    assert held.total == 7
    assert [cell.count for cell in held.reasons] == [None, None]  # 1 alone, and 6 = 7 - 1
    text = figures(client_for(team["editor"]).get(held_url(letter)).content.decode())
    assert "not shown (small group)" in text
    assert " 6 " not in text


def test_fewer_held_than_the_minimum_show_no_number_not_even_zero(team):
    letter = team["letter"]
    empty = figures(client_for(team["editor"]).get(held_url(letter)).content.decode())
    for _ in range(4):
        held_signature(letter)
    four = figures(client_for(team["editor"]).get(held_url(letter)).content.decode())

    assert empty == four
    assert "Fewer than 5 signatures are held." in four


def test_a_stranger_s_pending_rows_change_no_held_figure(team, settings):
    """DESIGN §2 rule 8: anyone can start a signature for any address; no
    held figure, dry run or button may move with it."""
    letter = team["letter"]
    for n in range(6):
        held_signature(letter, email=f"held{n}@example.org")
    editor = client_for(team["editor"])
    counted = {"domain": "example.org", "action": "count"}

    def everything() -> tuple[Any, ...]:
        page = editor.get(held_url(letter)).content.decode()
        dry = editor.post(held_url(letter), counted).content.decode()
        listing = editor.get(reverse("organise:signatures", kwargs={"slug": letter.slug}))
        return (
            selectors.letter_held_counts(letter=letter),
            services.held_matching_count(letter=letter, flt=services.SignatureFilter()),
            figures(page),
            figures(listing.content.decode()),
            re.findall(r'<div class="notice" role="status">(.*?)</div>', dry, flags=re.S),
        )

    before = everything()
    settings.SIGN_RATE_BURST = "0/60"
    # The stranger signs with fresh addresses, a held signer's address, and
    # (had a pending row ever been marked held) such a row too.
    for n in range(8):
        services.signature_create(letter=letter, email=f"victim{n}@example.org", name="V")
    services.signature_create(letter=letter, email="held0@example.org", name="Stranger")
    for n in range(6):
        row = pending_signature(letter, email=f"marked{n}@example.org")
        Signature.objects.filter(pk=row.pk).update(flagged=True, held_reason=HeldReason.BURST)

    assert everything() == before
    assert Signature.objects.filter(letter=letter, status=SignatureStatus.PENDING).count() == 14


# --- Release and invalidation ----------------------------------------------------------------


def test_an_editor_releases_held_signatures_after_a_dry_run_and_they_are_counted(team):
    letter = team["letter"]
    for n in range(6):
        held_signature(letter, email=f"staff{n}@northwind.example", name=f"Staff {n}")
    held_signature(letter, email="bot@elsewhere.example", display=Display.ANONYMOUS)
    confirmed_signature(letter)
    services.counts_fold(letter_id=letter.pk)
    editor = client_for(team["editor"])
    stats_before = LetterStats.objects.get(letter=letter).updated_at

    dry = editor.post(held_url(letter), {"domain": "northwind.example", "action": "count"})
    assert "6 held signatures match." in dry.content.decode()
    assert letter_counts(letter_id=letter.pk).confirmed == 1  # a dry run changes nothing

    released = editor.post(
        held_url(letter),
        {"domain": "northwind.example", "action": "release", "reason": "Our Berlin office"},
    )

    assert released.status_code == 302
    assert CountDelta.objects.filter(letter=letter, confirmed=1).count() == 6  # the normal path
    assert LetterStats.objects.get(letter=letter).updated_at == stats_before  # no shared write
    services.counts_fold(letter_id=letter.pk)
    counts = letter_counts(letter_id=letter.pk)
    assert (counts.confirmed, counts.public) == (7, 7)
    assert Signature.objects.filter(letter=letter, flagged=True).count() == 1
    entry = AuditLog.objects.get(action="signature.held_release")
    assert (entry.target, entry.details["count"], entry.details["reason"]) == (
        "domain=northwind.example",
        "6",
        "Our Berlin office",
    )
    services.counts_recount(letter_id=letter.pk)
    assert letter_counts(letter_id=letter.pk).confirmed == 7  # the recount agrees


def test_held_signatures_are_invalidated_in_bulk_and_the_count_does_not_move(team):
    letter = team["letter"]
    for n in range(5):
        held_signature(letter, email=f"bot{n}@spam.example")
    confirmed_signature(letter)

    changed = services.held_invalidate_matching(
        letter=letter,
        by=team["editor"],
        flt=services.SignatureFilter(domain="spam.example"),
        reason="Bots",
    )

    assert changed == 5
    assert Signature.objects.filter(letter=letter, status=SignatureStatus.INVALIDATED).count() == 5
    assert not CountDelta.objects.filter(letter=letter, confirmed=-1).exists()
    services.counts_fold(letter_id=letter.pk)
    assert letter_counts(letter_id=letter.pk).confirmed == 1
    assert AuditLog.objects.filter(action="signature.held_invalidate", target="domain=spam.example")


def test_too_few_held_signatures_cannot_be_released_nor_counted(team):
    letter = team["letter"]
    for _ in range(4):
        held_signature(letter)
    for _ in range(3):
        held_signature(letter, days_ago=0)  # held today: not yet reviewable
    editor = client_for(team["editor"])

    dry = editor.post(held_url(letter), {"action": "count"}).content.decode()
    refused = editor.post(held_url(letter), {"action": "release", "reason": "Fine"})

    assert "Fewer than 5 held signatures match." in dry
    assert "nothing was released" in refused.content.decode()
    assert Signature.objects.filter(letter=letter, flagged=True).count() == 7
    with pytest.raises(services.ServiceError):
        services.held_release_matching(
            letter=letter, by=team["owner"], flt=services.SignatureFilter(), reason="Fine"
        )


def test_releasing_asks_for_a_reason_and_keeps_the_dry_run_shown(team):
    letter = team["letter"]
    for _ in range(5):
        held_signature(letter)

    page = client_for(team["editor"]).post(held_url(letter), {"action": "release", "reason": ""})

    assert "Give a reason." in page.content.decode()
    assert "5 held signatures match." in page.content.decode()
    assert Signature.objects.filter(letter=letter, flagged=True).count() == 5


def test_a_viewer_sees_held_figures_but_cannot_review_them(team):
    letter = team["letter"]
    for _ in range(5):
        held_signature(letter)
    viewer = client_for(team["viewer"])

    listing = viewer.get(reverse("organise:signatures", kwargs={"slug": letter.slug}))

    assert "5 confirmed signatures are held." in figures(listing.content.decode())
    assert viewer.post(held_url(letter), {"action": "release", "reason": "x"}).status_code == 403
    assert Signature.objects.filter(letter=letter, flagged=True).count() == 5


def test_the_held_signer_is_told_it_is_counted_after_a_review(client, open_letter, settings):
    settings.SIGN_RATE_BURST = "0/60"
    row = pending_signature(open_letter)
    page = client.post(
        reverse("signature_confirm", kwargs={"token": make_token(row, Purpose.CONFIRM)}),
        {"display": Display.ANONYMOUS},
        HTTP_ORIGIN="http://testserver",
    ).content.decode()

    assert "counted after a review" in page
    assert "It will be counted within a few seconds" not in page


def test_the_counts_export_shows_the_same_held_figure_and_a_confirmation_today_moves_none(team):
    """The status rows of the counts export report held signatures as the
    page does: held on an earlier day, none below the minimum (rule 9: an
    anonymous signer held today changes no figure anyone else sees)."""
    from letters import exports

    letter = team["letter"]

    def flagged() -> int | None:
        (row,) = [r for r in exports.count_rows(letter, "status") if r["key"] == "flagged"]
        return row["count"]

    for _ in range(4):
        held_signature(letter)
    assert flagged() is None
    held_signature(letter)
    assert flagged() == 5
    held_signature(letter, days_ago=0, display=Display.ANONYMOUS)
    assert flagged() == 5
