"""Paper signatures per employer (issue 18): a coalition letter's batch says
whose staff signed the sheets (other supporters only where the letter takes
them); a correction keeps its batch's employer; each employer's paper count
is the sum of its batches that count, and `Letter.paper_count` stays the
letter's total."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from letters import services
from letters.models import AuditLog, Employer, Letter, PaperBatch
from letters.selectors import letter_counts
from letters.selectors.employers import EmployerCounts, employer_counts
from letters.services.employers import EmployerInput
from letters.services.errors import ServiceError
from letters.tests.factories import (
    add_co_organisers,
    client_for,
    confirmed_signature,
    open_letter,
    record_paper,
)

pytestmark = pytest.mark.django_db(transaction=True)

NORTHWIND = EmployerInput(name="Northwind", domains=["northwind.example"])
CONTOSO = EmployerInput(name="Contoso", domains=["contoso.example"])


def coalition(owner: Any, *, supporters: bool = False, slug: str = "coalition") -> Letter:
    return open_letter(
        owner=owner, slug=slug, employers=[NORTHWIND, CONTOSO], accept_supporters=supporters
    )


def employer(letter: Letter, name: str) -> Employer:
    return Employer.objects.get(letter=letter, name=name)


def counts_of(letter: Letter) -> EmployerCounts:
    total = letter_counts(letter_id=letter.pk).confirmed
    return employer_counts(letter=letter, confirmed_total=total)


def paper_of(letter: Letter) -> dict[str | None, int]:
    counts = counts_of(letter)
    return {row.name: row.paper for row in counts.employers} | {None: counts.supporters_paper}


def employer_table(page: str) -> list[list[str]]:
    """The cells of the page's table of counts by employer, row by row
    (the header row left out)."""
    table = page.split('data-testid="employer-counts"')[1].split("</table>")[0]
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]
    return [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S) for row in rows]


def paper_url(letter: Letter) -> str:
    return reverse("organise:paper", kwargs={"slug": letter.slug})


def batch_form(**fields: str) -> dict[str, str]:
    return {"count": "12", "collected_on": "2026-01-15", "where_how": "Canteen"} | fields


# --- The service ---------------------------------------------------------------------


def test_each_employers_paper_count_is_the_sum_of_its_batches_and_the_letter_keeps_the_total(
    organiser,
):
    letter = coalition(organiser, supporters=True)
    northwind, contoso = employer(letter, "Northwind"), employer(letter, "Contoso")

    record_paper(letter, 40, employer_id=northwind.pk)
    miscounted = record_paper(letter, 9, employer_id=contoso.pk)
    record_paper(letter, 8, employer_id=contoso.pk, corrects=miscounted)
    record_paper(letter, 3)  # other supporters

    assert paper_of(letter) == {"Northwind": 40, "Contoso": 8, None: 3}
    assert Letter.objects.get(pk=letter.pk).paper_count == 51
    assert services.paper_total(letter=letter) == 51


def test_a_coalition_batch_must_say_whose_staff_signed(organiser):
    letter = coalition(organiser)

    with pytest.raises(ServiceError) as refused:
        record_paper(letter, 5)  # no employer, and the letter takes no other supporters

    assert refused.value.field == "employer"
    assert not PaperBatch.objects.exists()
    assert Letter.objects.get(pk=letter.pk).paper_count == 0


def test_a_batch_cannot_name_another_letters_employer(organiser):
    letter = coalition(organiser)
    other = coalition(organiser, slug="other-coalition")

    with pytest.raises(ServiceError) as refused:
        record_paper(letter, 5, employer_id=employer(other, "Northwind").pk)

    assert refused.value.field == "employer"
    assert not PaperBatch.objects.exists()


def test_a_letter_without_employers_takes_no_employer_on_paper(organiser):
    plain = open_letter(owner=organiser, slug="plain")
    coalition_employer = employer(coalition(organiser), "Northwind")

    with pytest.raises(ServiceError):
        record_paper(plain, 5, employer_id=coalition_employer.pk)
    batch = record_paper(plain, 5)

    assert batch.employer is None
    assert Letter.objects.get(pk=plain.pk).paper_count == 5


def test_a_correction_keeps_its_batchs_employer_whatever_it_is_given(organiser):
    letter = coalition(organiser)
    northwind, contoso = employer(letter, "Northwind"), employer(letter, "Contoso")
    first = record_paper(letter, 40, employer_id=northwind.pk)

    fixed = record_paper(letter, 35, corrects=first, employer_id=contoso.pk)
    again = record_paper(letter, 30, corrects=fixed)  # none given

    assert fixed.employer_id == again.employer_id == northwind.pk
    assert paper_of(letter) == {"Northwind": 30, "Contoso": 0, None: 0}


def test_the_audit_entry_names_the_batchs_employer(organiser):
    letter = coalition(organiser, supporters=True)
    northwind = employer(letter, "Northwind")

    record_paper(letter, 4, employer_id=northwind.pk)
    record_paper(letter, 2)

    entries = AuditLog.objects.filter(action="paper_batch_recorded").order_by("id")
    assert [e.details["employer"] for e in entries] == [str(northwind.pk), ""]


# --- The organisers' page ------------------------------------------------------------


def test_an_editor_records_a_batch_for_an_employer_on_the_paper_page(organiser):
    letter = coalition(organiser)
    editor = add_co_organisers(letter)["editor"]
    contoso = employer(letter, "Contoso")
    client = client_for(editor)

    form = client.get(paper_url(letter)).content.decode()
    answer = client.post(paper_url(letter), batch_form(employer=str(contoso.pk)))

    assert 'name="employer"' in form
    assert f'<option value="{contoso.pk}">Contoso</option>' in form
    assert "Other supporters" not in form  # the letter takes none
    assert answer.status_code == 302
    assert PaperBatch.objects.get(letter=letter).employer == contoso
    page = client.get(paper_url(letter)).content.decode()
    assert "Whose staff" in page
    assert 'data-testid="batch-employer">Contoso<' in page


def test_the_paper_page_asks_for_the_employer_and_records_nothing_without_it(organiser):
    letter = coalition(organiser)

    answer = client_for(organiser).post(paper_url(letter), batch_form())

    assert answer.status_code == 200
    page = answer.content.decode()
    assert "There is a problem" in page
    assert not PaperBatch.objects.exists()


def test_other_supporters_are_offered_on_paper_only_where_the_letter_takes_them(organiser):
    letter = coalition(organiser, supporters=True)
    client = client_for(organiser)

    form = client.get(paper_url(letter)).content.decode()
    answer = client.post(paper_url(letter), batch_form(employer="supporters", count="7"))

    assert '<option value="supporters">Other supporters' in form
    assert answer.status_code == 302
    assert PaperBatch.objects.get(letter=letter).employer is None
    assert paper_of(letter)[None] == 7


def test_the_correction_form_keeps_the_employer_without_asking(organiser):
    letter = coalition(organiser)
    northwind = employer(letter, "Northwind")
    batch = record_paper(letter, 40, employer_id=northwind.pk)
    client = client_for(organiser)

    form = client.get(f"{paper_url(letter)}?correct={batch.pk}").content.decode()
    answer = client.post(
        paper_url(letter), batch_form(count="38", corrects=str(batch.pk), employer="")
    )

    assert 'name="employer"' not in form
    assert "The correction stays with Northwind." in form
    assert answer.status_code == 302
    assert PaperBatch.objects.get(corrects=batch).employer == northwind
    assert paper_of(letter)["Northwind"] == 38


@pytest.mark.parametrize(("who", "status"), [("viewer", 403), ("outsider", 404), (None, 302)])
def test_who_may_not_edit_records_no_batch_for_an_employer(organiser, outsider, who, status):
    letter = coalition(organiser)
    team = add_co_organisers(letter)
    user = {"viewer": team["viewer"], "outsider": outsider, None: None}[who]
    data = batch_form(employer=str(employer(letter, "Northwind").pk))

    assert client_for(user).post(paper_url(letter), data).status_code == status
    assert not PaperBatch.objects.exists()


def test_the_paper_page_refuses_other_methods(organiser):
    letter = coalition(organiser)
    assert client_for(organiser).put(paper_url(letter)).status_code == 405


def test_the_letter_page_and_the_packet_show_paper_per_employer(organiser):
    letter = coalition(organiser, supporters=True)
    confirmed_signature(letter, name="Nia", email="nia@northwind.example")
    record_paper(letter, 40, employer_id=employer(letter, "Northwind").pk)
    record_paper(letter, 3, collected_on=timezone.localdate())
    client = client_for(organiser)

    for name in ("organise:letter", "organise:packet"):
        page = client.get(reverse(name, kwargs={"slug": letter.slug})).content.decode()
        rows = {row[0]: row[-3:] for row in employer_table(page)}
        assert rows["Northwind"] == ["1", "40", "41"], name
        assert rows["Contoso"] == ["0", "0", "0"], name
        assert rows["Other supporters"] == ["0", "3", "3"], name
        assert rows["All signatures"] == ["1", "43", "44"], name
