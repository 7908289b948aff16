"""Paper signatures in batches (issue 19): recorded and corrected only by new
batches, each an event and an audit entry; the total is the sum of the
latest batch of each chain; the letter page, the API, the feed and the
packet show paper and online counts apart and together."""

from __future__ import annotations

import importlib
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from letters import services
from letters.models import AuditLog, EventKind, Letter, LetterEvent, LetterStatus, PaperBatch
from letters.tests.factories import (
    add_co_organisers,
    confirmed_signature,
    deliver,
    open_letter,
    record_paper,
)

pytestmark = pytest.mark.django_db(transaction=True)

SHA = "0123456789abcdef" * 4


@pytest.fixture
def team(open_letter, organiser) -> dict[str, Any]:
    return {"letter": open_letter, "owner": organiser, **add_co_organisers(open_letter)}


def client_for(user: Any | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def paper_url(letter: Letter) -> str:
    return reverse("organise:paper", kwargs={"slug": letter.slug})


def paper_count(letter: Letter) -> int:
    return Letter.objects.get(pk=letter.pk).paper_count


def paper_events(letter: Letter) -> list[tuple[str, str]]:
    kinds = [EventKind.PAPER, EventKind.PAPER_CORRECTED]
    events = LetterEvent.objects.filter(letter=letter, kind__in=kinds).order_by("id")
    return [(e.kind, e.text) for e in events]


# --- The service ---------------------------------------------------------------------


def test_a_batch_is_stored_with_its_provenance_and_adds_to_the_total(team):
    letter, editor = team["letter"], team["editor"]
    day = timezone.localdate() - timedelta(days=2)

    batch = record_paper(
        letter, 40, by=editor, collected_on=day, where_how="  Canteen  ", scan_sha256=SHA
    )
    record_paper(letter, 5, by=team["owner"])

    batch.refresh_from_db()
    assert (batch.count, batch.collected_on, batch.where_how) == (40, day, "Canteen")
    assert (batch.entered_by, batch.scan_sha256, batch.corrects) == (editor, SHA, None)
    assert batch.created_at is not None
    assert paper_count(letter) == 45 == services.paper_total(letter=letter)


def test_a_correction_replaces_the_batch_it_corrects_and_chains_stay_linear(team):
    letter, by = team["letter"], team["editor"]
    first = record_paper(letter, 40, by=by)
    second = record_paper(letter, 25, by=by)
    assert paper_count(letter) == 65

    fixed = record_paper(letter, 35, by=by, corrects=first)
    assert paper_count(letter) == 60  # 35 (first, corrected) + 25
    withdrawn = record_paper(letter, 0, by=by, corrects=fixed)
    assert paper_count(letter) == 25  # the first batch's chain now counts 0

    # Only the latest of a chain can be corrected: no forks, no double count.
    for earlier in (first, fixed):
        with pytest.raises(services.ServiceError, match="corrected already"):
            record_paper(letter, 99, by=by, corrects=earlier)
    assert paper_count(letter) == 25
    # Nothing was edited: every batch keeps the count it was entered with.
    assert list(
        PaperBatch.objects.filter(letter=letter).order_by("id").values_list("count", "corrects")
    ) == [
        (40, None),
        (25, None),
        (35, first.pk),
        (0, fixed.pk),
    ]
    assert {b.pk for b in PaperBatch.objects.filter(corrected_by__isnull=True)} == {
        second.pk,
        withdrawn.pk,
    }


def test_every_batch_is_a_public_event_with_counts_only_and_an_audit_entry(team):
    letter, editor = team["letter"], team["editor"]
    first = record_paper(letter, 40, by=editor, where_how="Leeds depot, Anna's clipboard")
    fixed = record_paper(letter, 38, by=team["owner"], corrects=first)

    assert paper_events(letter) == [
        (EventKind.PAPER, "40"),
        (EventKind.PAPER_CORRECTED, "40 → 38"),
    ]
    entries = AuditLog.objects.filter(letter=letter, action__startswith="paper_batch").order_by(
        "id"
    )
    assert [(e.action, e.actor, e.target) for e in entries] == [
        ("paper_batch_recorded", editor, f"paper_batch:{first.pk}"),
        ("paper_batch_corrected", team["owner"], f"paper_batch:{fixed.pk}"),
    ]
    assert entries[1].details["corrects"] == str(first.pk)
    assert entries[1].details["count"] == "38"
    assert entries[1].details["paper_total"] == "38"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"count": 0}, "count"),  # a new batch holds at least one signature
        ({"count": -3}, "count"),
        ({"count": services.paper.MAX_BATCH + 1}, "count"),
        ({"collected_on": timezone.localdate() + timedelta(days=3)}, "collected_on"),
        ({"where_how": "   "}, "where_how"),
        ({"where_how": "x" * 301}, "where_how"),
        ({"scan_sha256": "abc"}, "scan_sha256"),
        ({"scan_sha256": "g" * 64}, "scan_sha256"),
        ({"scan_sha256": SHA + "0"}, "scan_sha256"),
    ],
)
def test_a_batch_that_makes_no_sense_is_refused_and_nothing_is_written(team, change, field):
    letter = team["letter"]
    data = {"count": 10, "collected_on": timezone.localdate(), "where_how": "Gate", **change}

    with pytest.raises(services.ServiceError) as refused:
        services.paper_batch_record(
            letter=letter, by=team["editor"], data=services.PaperInput(**data)
        )

    assert refused.value.field == field
    assert not PaperBatch.objects.exists()
    assert paper_events(letter) == []
    assert paper_count(letter) == 0


def test_a_checksum_is_kept_in_lower_case_without_spaces(team):
    spaced = " ".join(SHA.upper()[i : i + 8] for i in range(0, 64, 8))
    batch = record_paper(team["letter"], 3, scan_sha256=spaced)
    assert batch.scan_sha256 == SHA


def test_the_database_refuses_a_malformed_checksum_or_a_second_correction(team):
    first = record_paper(team["letter"], 3)
    record_paper(team["letter"], 4, corrects=first)
    base = {"letter": team["letter"], "count": 1, "collected_on": timezone.localdate()}
    with pytest.raises(IntegrityError), transaction.atomic():
        PaperBatch.objects.create(**base, scan_sha256="Z" * 64)
    with pytest.raises(IntegrityError), transaction.atomic():
        PaperBatch.objects.create(**base, corrects=first)


def test_a_correction_of_another_letters_batch_or_on_an_archived_letter_is_refused(team, organiser):
    other = open_letter(owner=organiser, slug="another-letter")
    elsewhere = record_paper(other, 7)

    with pytest.raises(services.ServiceError, match="another letter"):
        record_paper(team["letter"], 6, corrects=elsewhere)

    Letter.objects.filter(pk=team["letter"].pk).update(status=LetterStatus.ARCHIVED)
    with pytest.raises(services.ServiceError, match="archived"):
        record_paper(team["letter"], 6)
    assert paper_count(team["letter"]) == 0
    assert paper_count(other) == 7


def test_the_migration_turns_an_old_total_into_one_batch(team):
    letter = team["letter"]
    Letter.objects.filter(pk=letter.pk).update(paper_count=12)
    migration = importlib.import_module("letters.migrations.0020_paper_batches")

    migration.batches_from_totals(apps, None)

    (batch,) = PaperBatch.objects.filter(letter=letter)
    assert (batch.count, batch.where_how, batch.entered_by, batch.corrects) == (12, "", None, None)
    assert batch.collected_on == letter.published_at.date()
    assert services.paper_total(letter=letter) == 12


# --- The organisers' page ------------------------------------------------------------


def test_an_editor_records_a_batch_and_corrects_it_on_the_paper_page(team):
    letter, editor = team["letter"], team["editor"]
    confirmed_signature(letter, name="Pia", email="pia@example.org")
    client = client_for(editor)

    answer = client.post(
        paper_url(letter),
        {
            "count": "40",
            "collected_on": "2026-01-15",
            "where_how": "Canteen, at lunch",
            "scan_sha256": SHA.upper(),
        },
    )
    assert answer.status_code == 302
    batch = PaperBatch.objects.get(letter=letter)
    page = client.get(paper_url(letter)).content.decode()
    assert "40 signatures on paper and 1 verified online: 41 in all." in page
    assert "Canteen, at lunch" in page
    assert SHA in page
    assert editor.name in page
    correct_link = f"{paper_url(letter)}?correct={batch.pk}"
    assert correct_link in page

    form = client.get(correct_link).content.decode()
    assert f"Correct batch {batch.pk}" in form
    assert f'name="corrects" value="{batch.pk}"' in form
    client.post(
        paper_url(letter),
        {
            "count": "37",
            "collected_on": "2026-01-15",
            "where_how": "Canteen, recounted",
            "corrects": str(batch.pk),
        },
    )

    assert paper_count(letter) == 37
    page = client.get(paper_url(letter)).content.decode()
    assert "37 signatures on paper and 1 verified online: 38 in all." in page
    assert "No: corrected by" in page
    assert correct_link not in page  # the corrected batch offers no second correction


def test_the_paper_page_shows_errors_and_records_nothing(team):
    letter = team["letter"]
    answer = client_for(team["editor"]).post(
        paper_url(letter), {"count": "", "collected_on": "2026-01-15", "scan_sha256": "abc"}
    )
    assert answer.status_code == 200
    page = answer.content.decode()
    assert "There is a problem" in page
    assert "64 characters" in page
    assert not PaperBatch.objects.exists()


def test_a_correction_naming_another_letters_batch_is_refused_on_the_page(team, organiser):
    other = open_letter(owner=organiser, slug="another-letter")
    elsewhere = record_paper(other, 7)
    answer = client_for(team["owner"]).post(
        paper_url(team["letter"]),
        {"count": "1", "collected_on": "2026-01-15", "where_how": "x", "corrects": elsewhere.pk},
    )
    assert answer.status_code == 200
    assert "another letter" in answer.content.decode()
    assert PaperBatch.objects.count() == 1


@pytest.mark.parametrize(("who", "status"), [("viewer", 403), ("outsider", 404), (None, 302)])
def test_who_may_not_edit_records_no_batch(team, outsider, who, status):
    user = {"viewer": team["viewer"], "outsider": outsider, None: None}[who]
    data = {"count": "4", "collected_on": "2026-01-15", "where_how": "Gate"}

    assert client_for(user).post(paper_url(team["letter"]), data).status_code == status
    assert client_for(user).get(paper_url(team["letter"])).status_code == status
    assert not PaperBatch.objects.exists()


def test_the_overview_shows_the_paper_total_and_links_editors_to_the_paper_page(team):
    record_paper(team["letter"], 12)
    overview = reverse("organise:letter", kwargs={"slug": team["letter"].slug})
    as_editor = client_for(team["editor"]).get(overview).content.decode()
    as_viewer = client_for(team["viewer"]).get(overview).content.decode()
    assert "Plus 12 signatures on paper: 12 in all." in as_editor
    assert paper_url(team["letter"]) in as_editor
    assert "Plus 12 signatures on paper" in as_viewer
    assert paper_url(team["letter"]) not in as_viewer


# --- What everyone else sees ---------------------------------------------------------


def test_the_letter_page_and_timeline_show_counts_apart_and_together_and_no_names(team):
    letter = team["letter"]
    confirmed_signature(letter, name="Pia", email="pia@example.org")
    first = record_paper(letter, 40, by=team["editor"], where_how="Secret depot")
    record_paper(letter, 30, by=team["editor"], corrects=first)

    page = Client().get(letter.get_absolute_url()).content.decode()

    assert "1 verified signature" in page
    assert "plus 30 signatures on paper: 31 in all" in page
    assert "Paper signatures recorded: 40" in page
    assert "Paper signatures corrected: 40 → 30" in page
    assert "Secret depot" not in page
    assert team["editor"].name not in page


def test_the_api_gives_online_paper_and_total_and_the_paper_events(team):
    letter = team["letter"]
    confirmed_signature(letter, name="Pia", email="pia@example.org")
    record_paper(letter, 9)

    data = Client().get(reverse("api_letter", kwargs={"slug": letter.slug})).json()
    counts = Client().get(reverse("api_letter_counts", kwargs={"slug": letter.slug})).json()

    assert (data["confirmed_count"], data["paper_count"], data["total"]) == (1, 9, 10)
    assert (counts["confirmed_count"], counts["paper_count"], counts["total"]) == (1, 9, 10)
    assert [e["kind"] for e in data["timeline"]][:1] == ["paper"]


def test_the_feed_says_what_a_paper_event_is(team):
    record_paper(team["letter"], 9)
    feed = Client().get(reverse("letters:feed", kwargs={"slug": team["letter"].slug}))
    assert "Signatures collected on paper were recorded: 9" in feed.content.decode()


def test_the_packet_shows_paper_apart_and_together_with_the_batches_that_count(team):
    letter = team["letter"]
    confirmed_signature(letter, name="Pia", email="pia@example.org")
    first = record_paper(letter, 20, where_how="Depot", scan_sha256=SHA)
    record_paper(letter, 18, corrects=first, scan_sha256=SHA.replace("0", "f"))
    record_paper(letter, 5)
    deliver(letter, by=team["owner"], method="email")

    packet = (
        client_for(team["owner"])
        .get(reverse("organise:packet", kwargs={"slug": letter.slug}))
        .content.decode()
    )

    assert "1 verified signature" in packet
    assert "Plus 23 signatures collected on paper: 24 in all." in packet
    assert SHA.replace("0", "f") in packet
    assert SHA not in packet
    assert "Depot" not in packet
