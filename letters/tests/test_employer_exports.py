"""Counts per employer for organisers and admins (issue 18): the "employer"
kind of the count exports (the organiser's download, the admin's action,
the command), the packet, the organiser's letter page and its confirmation
pages.  An employer's count is a total, anonymous signers included (DESIGN
§2 rule 9 lets it move with one of them); nothing breaks an employer down
further, and a coalition letter's teams and locations stay letter-wide,
public signers only."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from django.core.management import call_command
from django.urls import reverse

from letters import exports, services
from letters.models import AuditLog, Display, Letter
from letters.services.employers import EmployerInput
from letters.tests.factories import (
    client_for,
    confirmed_signature,
    make_user,
    open_letter,
    pending_signature,
)

pytestmark = pytest.mark.django_db(transaction=True)

NORTHWIND = EmployerInput(name="Northwind", domains=["northwind.example", "nw.example"])
CONTOSO = EmployerInput(name="Contoso", domains=["contoso.example"])


def coalition(owner: Any, *, supporters: bool = True, slug: str = "coalition") -> Letter:
    return open_letter(
        owner=owner, slug=slug, employers=[NORTHWIND, CONTOSO], accept_supporters=supporters
    )


@pytest.fixture
def signed(organiser) -> Letter:
    """Northwind: three confirmed (one anonymous, one at a subdomain), one
    pending, one withdrawn; Contoso: one; one other supporter."""
    letter = coalition(organiser)
    confirmed_signature(letter, name="Nia North", email="nia@northwind.example", team="Data")
    confirmed_signature(letter, name="Ned North", email="ned@eu.northwind.example", team="Data")
    confirmed_signature(letter, name="", email="quiet@nw.example", display=Display.ANONYMOUS)
    pending_signature(letter, name="Pending Pat", email="pat@northwind.example")
    gone = confirmed_signature(letter, name="Gone Gil", email="gil@northwind.example")
    services.signature_withdraw(signature_id=gone.pk)
    confirmed_signature(letter, name="Cal Con", email="cal@contoso.example", team="Data")
    confirmed_signature(letter, name="Sue Supporter", email="sue@elsewhere.example")
    return letter


def staff() -> Any:
    user = make_user(email="staff@example.org")
    user.is_staff = user.is_superuser = True
    user.save()
    Authenticator.objects.create(
        user=user, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"}
    )
    return user


def streamed(response: Any) -> str:
    assert response.streaming
    return b"".join(response.streaming_content).decode("utf-8-sig")


def export_url(letter: Letter) -> str:
    return reverse("organise:export_counts", kwargs={"slug": letter.slug})


def employer_rows(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {r["key"]: r["count"] for r in rows if r["kind"] == "employer"}


EXPECTED = {"Northwind": 3, "Contoso": 1, exports.SUPPORTERS_KEY: 1}


# --- The export kind, from the organiser, the admin and the command ---------------------


def test_the_organiser_exports_each_employers_confirmed_total_as_csv(signed, organiser):
    response = client_for(organiser).get(export_url(signed), {"format": "csv", "kind": "employer"})

    rows = list(csv.DictReader(io.StringIO(streamed(response))))
    # In the letter's order, the other supporters last; pending and
    # withdrawn signatures in no row; nothing suppressed (totals).
    assert [(r["key"], r["count"], r["suppressed"]) for r in rows] == [
        ("Northwind", "3", "False"),
        ("Contoso", "1", "False"),
        ("other supporters", "1", "False"),
    ]
    assert response["Cache-Control"] == "private, no-store"
    entry = AuditLog.objects.get(action="export.counts")
    assert (entry.actor, entry.letter, entry.target) == (organiser, signed, "employer")
    assert entry.details["threshold"] == "5"


def test_the_organisers_json_says_what_the_employer_rows_are(signed, organiser):
    response = client_for(organiser).get(export_url(signed), {"format": "json"})

    data = json.loads(streamed(response))
    assert employer_rows(data["rows"]) == EXPECTED
    assert "employer" in data["meta"]["kinds"]
    assert "anonymous signers included" in data["meta"]["kinds"]["employer"]
    assert "employer" not in data["meta"]["suppression"]["kinds"]
    assert "employer" in data["meta"]["anonymous"]
    status = {r["key"]: r["count"] for r in data["rows"] if r["kind"] == "status"}
    assert sum(EXPECTED.values()) == status["confirmed"]  # they add up to the total
    notes = client_for(organiser).get(export_url(signed), {"format": "notes"}).content.decode()
    assert "\n  employer: " in notes


def test_the_admin_action_exports_every_selected_letters_employers(signed, organiser):
    other = coalition(organiser, supporters=False, slug="second-coalition")
    confirmed_signature(other, name="Cleo", email="cleo@contoso.example")

    response = client_for(staff()).post(
        "/admin/letters/letter/",
        {"action": "export_counts_json", "_selected_action": [signed.pk, other.pk]},
    )

    rows = json.loads(streamed(response))["rows"]
    assert employer_rows([r for r in rows if r["letter"] == signed.slug]) == EXPECTED
    # No other supporters row where the letter takes none and has none.
    assert employer_rows([r for r in rows if r["letter"] == other.slug]) == {
        "Northwind": 0,
        "Contoso": 1,
    }
    entry = AuditLog.objects.get(action="export.admin")
    assert "employer" in entry.details["kinds"].split(",")


def test_the_command_exports_the_employer_kind_and_is_audited(signed):
    out = io.StringIO()
    call_command("export_counts", "--letter", signed.slug, "--kind", "employer", stdout=out)

    assert out.getvalue() == (
        "\ufeffletter,kind,key,count,suppressed\n"
        "coalition,employer,Northwind,3,False\n"
        "coalition,employer,Contoso,1,False\n"
        "coalition,employer,other supporters,1,False\n"
    )
    entry = AuditLog.objects.get(action="export.command")
    assert (entry.target, entry.details["kinds"]) == ("coalition", "employer")


def test_a_letter_without_employers_has_no_employer_rows(open_letter, organiser):
    confirmed_signature(open_letter, name="Pia", email="pia@example.org")

    assert list(exports.count_rows(open_letter, "employer")) == []
    response = client_for(organiser).get(export_url(open_letter), {"format": "json"})
    assert employer_rows(json.loads(streamed(response))["rows"]) == {}


def test_employer_rows_match_the_database_after_a_recount(signed):
    services.counts_fold(letter_id=signed.pk)
    confirmed_signature(signed, name="Nell", email="nell@northwind.example")  # not folded yet
    before = employer_rows(list(exports.count_rows(signed, "employer")))

    services.counts_recount(letter_id=signed.pk)

    assert before == employer_rows(list(exports.count_rows(signed, "employer")))
    assert before == {**EXPECTED, "Northwind": 4}


def test_an_employers_name_that_starts_a_formula_is_neutralised(organiser):
    letter = open_letter(
        owner=organiser,
        slug="formula",
        employers=[EmployerInput(name="=HYPERLINK(1)", domains=["formula.example"])],
    )

    response = client_for(organiser).get(export_url(letter), {"kind": "employer"})

    assert "formula,employer,'=HYPERLINK(1),0,False" in streamed(response)


def test_the_employer_export_refuses_outsiders_and_other_methods(signed, organiser, outsider):
    url = export_url(signed)
    assert client_for(outsider).get(url, {"kind": "employer"}).status_code == 404
    assert client_for(None).get(url, {"kind": "employer"}).status_code == 302
    assert client_for(organiser).post(url, {"kind": "employer"}).status_code == 405
    assert client_for(organiser).get(url, {"kind": "employer-team"}).status_code == 400
    assert not AuditLog.objects.filter(action="export.counts").exists()


# --- Rule 9: totals per employer, nothing inside one -----------------------------------


def _breakdowns(letter: Letter) -> dict[str, Any]:
    """Every breakdown row of the letter: the team, location and version
    kinds of the exports and the packet's groups."""
    from letters.views.delivery import _as_delivered

    packet = _as_delivered(letter, None)
    return {
        "exports": [
            row
            for kind in ("team", "location", "version")
            for row in exports.count_rows(letter, kind)
        ],
        "packet": (packet["teams"], packet["locations"]),
    }


def test_one_anonymous_signer_at_an_employer_moves_its_total_and_no_breakdown_row(organiser):
    """Five public Northwind signers in team Data and location Leeds, four
    anonymous ones (the attacker's fakes) waiting: the real anonymous signer
    who confirms moves Northwind's total and the letter's, and no team,
    location or version row; withdrawing moves them back."""
    letter = coalition(organiser)
    for n in range(5):
        confirmed_signature(
            letter, name=f"Dee {n}", email=f"d{n}@northwind.example", team="Data",
            location="Leeds",
        )  # fmt: skip
    for n in range(4):
        confirmed_signature(
            letter, name="", email=f"fake{n}@northwind.example", team="Data", location="Leeds",
            display=Display.ANONYMOUS,
        )  # fmt: skip
    before = _breakdowns(letter)
    totals = employer_rows(list(exports.count_rows(letter, "employer")))

    real = confirmed_signature(
        letter, name="", email="rita@northwind.example", team="Data", location="Leeds",
        display=Display.ANONYMOUS,
    )  # fmt: skip
    assert _breakdowns(letter) == before
    moved = employer_rows(list(exports.count_rows(letter, "employer")))
    assert moved == {**totals, "Northwind": totals["Northwind"] + 1}  # a total may move

    services.signature_withdraw(signature_id=real.pk)
    assert _breakdowns(letter) == before
    assert employer_rows(list(exports.count_rows(letter, "employer"))) == totals


def test_a_coalition_letters_teams_are_letter_wide_never_per_employer(organiser):
    """Team Data at Northwind (3) and at Contoso (2): one row "Data" of 5,
    never "Northwind: Data"; no kind breaks an employer down."""
    letter = coalition(organiser)
    for n in range(3):
        confirmed_signature(letter, name=f"N{n}", email=f"n{n}@northwind.example", team="Data")
    for n in range(2):
        confirmed_signature(letter, name=f"C{n}", email=f"c{n}@contoso.example", team="Data")

    rows = list(exports.letters_count_rows([letter], exports.KINDS))

    teams = [(r["key"], r["count"]) for r in rows if r["kind"] == "team"]
    assert teams == [("Data", 5)]
    by_kind: dict[str, set[str]] = {}
    for row in rows:
        by_kind.setdefault(row["kind"], set()).add(str(row["key"]))
    for kind, keys in by_kind.items():
        if kind != "employer":
            assert not keys & {"Northwind", "Contoso"}, kind
            assert not any("Northwind" in key or "Contoso" in key for key in keys), kind


# --- The packet, the letter page, the confirmation page --------------------------------


def employer_table(page: str) -> dict[str, list[str]]:
    """The page's table of counts by employer: each row's cells after the
    first, by the first (the header row left out)."""
    table = page.split('data-testid="employer-counts"')[1].split("</table>")[0]
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]
    cells = [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S) for row in rows]
    return {row[0]: row[1:] for row in cells}


def test_the_packet_shows_each_employers_count_and_the_total(signed, organiser):
    client = client_for(organiser)

    page = client.get(reverse("organise:packet", kwargs={"slug": signed.slug})).content.decode()

    assert employer_table(page) == {
        "Northwind": ["3"],
        "Contoso": ["1"],
        "Other supporters": ["1"],
        "All signatures": ["5"],
    }
    assert "quiet@" not in page
    assert "Pending Pat" not in page


def test_a_packet_of_one_employer_repeats_no_total_in_a_table(organiser):
    letter = open_letter(owner=organiser, slug="one-employer", employers=[NORTHWIND])
    confirmed_signature(letter, name="Nia", email="nia@northwind.example")
    client = client_for(organiser)

    packet = client.get(reverse("organise:packet", kwargs={"slug": letter.slug}))
    overview = client.get(reverse("organise:letter", kwargs={"slug": letter.slug}))

    assert 'data-testid="employer-counts"' not in packet.content.decode()
    # The organisers still see the employer and its domains.
    assert employer_table(overview.content.decode())["Northwind"] == [
        "northwind.example, nw.example",
        "1",
    ]


def test_the_packet_refuses_outsiders_and_other_methods(signed, organiser, outsider):
    url = reverse("organise:packet", kwargs={"slug": signed.slug})
    assert client_for(outsider).get(url).status_code == 404
    assert client_for(organiser).post(url).status_code == 405


def test_the_letter_page_shows_the_employers_with_their_domains_and_confirmed_counts(
    signed, organiser
):
    overview = reverse("organise:letter", kwargs={"slug": signed.slug})

    page = client_for(organiser).get(overview).content.decode()

    assert employer_table(page) == {
        "Northwind": ["northwind.example, nw.example", "3"],
        "Contoso": ["contoso.example", "1"],
        "Other supporters": ["any other domain", "1"],
        "All signatures": ["", "5"],
    }
    assert f"{export_url(signed)}?format=csv&amp;kind=employer" in page


def test_a_letter_without_employers_shows_no_employer_table(open_letter, organiser):
    overview = reverse("organise:letter", kwargs={"slug": open_letter.slug})
    page = client_for(organiser).get(overview).content.decode()
    assert 'data-testid="employer-counts"' not in page
    assert "kind=employer" not in page


def test_the_publish_step_lists_the_employers_with_their_domains(organiser):
    draft = services.letter_create(
        slug="draft-coalition",
        data=services.LetterInput(
            title="Together",
            body="We ask.",
            demands=["One"],
            addressees=[("Casey Chief", "CEO")],
            employers=[NORTHWIND, CONTOSO],
            accept_supporters=False,
        ),
        owner=organiser,
    )

    page = client_for(organiser).get(reverse("organise:publish", kwargs={"slug": draft.slug}))

    text = page.content.decode()
    listed = text.split('data-testid="employer-domains"')[1].split("</li>\n  ")[0]
    assert "Only staff of these employers can sign" in listed
    assert "<li>Northwind: northwind.example, nw.example</li>" in listed
    assert "<li>Contoso: contoso.example</li>" in listed
    assert "other supporters" not in listed


def test_the_publish_step_says_other_supporters_may_sign_where_they_may(organiser):
    draft = services.letter_create(
        slug="open-coalition",
        data=services.LetterInput(
            title="Together",
            body="We ask.",
            demands=["One"],
            addressees=[("Casey Chief", "CEO")],
            employers=[NORTHWIND],
            accept_supporters=True,
        ),
        owner=organiser,
    )

    page = client_for(organiser).get(reverse("organise:publish", kwargs={"slug": draft.slug}))

    text = page.content.decode()
    assert "counted apart as other supporters" in text
    assert "<li>Northwind: northwind.example, nw.example</li>" in text
