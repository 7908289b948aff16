"""Exports (organisers, admin, command), suppression, retention, the admin."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from letters import exports, services
from letters.models import AuditLog, Display, Letter, LetterEvent, Signature
from letters.selectors import letter_counts
from letters.suppression import suppress
from letters.tests.factories import (
    confirmed_signature,
    make_user,
    pending_signature,
    record_paper,
    signature_of,
)
from letters.tests.factories import open_letter as make_open_letter

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def letter_with_groups(open_letter) -> Letter:
    for n in range(6):
        confirmed_signature(open_letter, name=f"D{n}", email=f"d{n}@example.org", team="Data")
    confirmed_signature(open_letter, name='=HYPERLINK("x")', email="f@example.org", team="Finance")
    confirmed_signature(open_letter, name="Lee Legal", email="lee@example.org", team="Legal")
    confirmed_signature(
        open_letter, name="Quiet One", email="q@example.org", team="Legal",
        display=Display.ANONYMOUS,
    )  # fmt: skip
    return open_letter


def streamed(response: Any) -> bytes:
    assert response.streaming
    return b"".join(response.streaming_content)


def organiser_client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_organiser_exports_counts_as_csv_with_small_groups_suppressed(
    letter_with_groups, organiser
):
    url = reverse("organise:export_counts", kwargs={"slug": letter_with_groups.slug})

    response = organiser_client(organiser).get(url, {"format": "csv", "kind": "team"})

    assert response.streaming
    rows = list(csv.DictReader(io.StringIO(streamed(response).decode("utf-8-sig"))))
    by_key = {r["key"]: r for r in rows}
    assert by_key["Data"]["count"] == "6"
    # Finance (1) and Legal (1 named; the anonymous one is in no team, only
    # in the total) are hidden, names included: one unnamed row.
    assert set(by_key) == {"Data", ""}
    assert (by_key[""]["count"], by_key[""]["suppressed"]) == ("", "True")
    entry = AuditLog.objects.get(action="export.counts")
    assert entry.actor == organiser
    assert entry.letter == letter_with_groups


def test_json_export_has_every_kind(letter_with_groups, organiser):
    url = reverse("organise:export_counts", kwargs={"slug": letter_with_groups.slug})
    response = organiser_client(organiser).get(url, {"format": "json"})

    data = json.loads(streamed(response))["rows"]
    # A letter that names no employer has no employer rows (test_employer_exports.py).
    assert {row["kind"] for row in data} == set(exports.KINDS) - {"employer"}
    status = {r["key"]: r["count"] for r in data if r["kind"] == "status"}
    assert status["confirmed"] == 9
    assert "pending" not in status  # no one's export counts pending signatures
    versions = {r["key"]: r["count"] for r in data if r["kind"] == "version"}
    assert versions == {"1": 8}  # named signers only: the anonymous one is in the total


def test_signatory_list_holds_public_signers_only_and_neutralises_formulas(
    letter_with_groups, organiser
):
    url = reverse("organise:export_signatories", kwargs={"slug": letter_with_groups.slug})

    body = streamed(organiser_client(organiser).get(url)).decode()

    assert "Quiet One" not in body
    assert "@example.org" not in body
    assert "'=HYPERLINK" in body  # neutralised, not a live formula
    assert AuditLog.objects.filter(action="export.signatories").exists()


def test_exports_need_an_organiser_of_the_letter(letter_with_groups, outsider):
    for name in ("organise:export_counts", "organise:export_signatories"):
        url = reverse(name, kwargs={"slug": letter_with_groups.slug})
        assert organiser_client(outsider).get(url).status_code == 404
        assert Client().get(url).status_code == 302
    bad = reverse("organise:export_counts", kwargs={"slug": letter_with_groups.slug})
    owner = Letter.objects.get(pk=letter_with_groups.pk).organisers.get()
    assert organiser_client(owner).get(bad, {"format": "xml"}).status_code == 400
    assert organiser_client(owner).post(bad).status_code == 405


def test_export_counts_command_writes_a_file_and_a_summary(letter_with_groups, tmp_path):
    out = tmp_path / "counts.csv"
    call_command("export_counts", "--letter", letter_with_groups.slug, "--kind", "team",
                 "--output", str(out))  # fmt: skip
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig", newline="")))
    assert {r["key"] for r in rows} == {"Data", ""}

    summary = io.StringIO()
    call_command("export_counts", "--summary", "--format", "json", stdout=summary)
    (row,) = json.loads(summary.getvalue())["rows"]
    assert (row["letter"], row["confirmed"], row["anonymous"]) == (letter_with_groups.slug, 9, 1)
    assert AuditLog.objects.filter(action="export.command").count() == 2


def test_the_command_refuses_a_threshold_below_the_floor(letter_with_groups, settings):
    for low in ("1", "4"):
        with pytest.raises(CommandError, match="below EXPORT_MIN_GROUP"):
            call_command("export_counts", "--letter", letter_with_groups.slug, "--threshold", low)
    settings.EXPORT_MIN_GROUP = 8
    with pytest.raises(CommandError, match="below EXPORT_MIN_GROUP"):
        call_command("export_counts", "--letter", letter_with_groups.slug, "--threshold", "7")
    assert not AuditLog.objects.filter(action="export.command").exists()


def test_the_command_takes_a_higher_threshold_and_the_audit_log_records_it(letter_with_groups):
    out = io.StringIO()
    call_command("export_counts", "--letter", letter_with_groups.slug, "--kind", "team",
                 "--threshold", "7", "--format", "json", stdout=out)  # fmt: skip

    rows = json.loads(out.getvalue())["rows"]
    assert [(r["key"], r["count"]) for r in rows] == [("", None)]  # Data (6) is below 7
    entry = AuditLog.objects.get(action="export.command")
    assert entry.actor is None
    assert entry.details["threshold"] == "7"
    assert entry.details["kinds"] == "team"
    assert entry.details["format"] == "json"

    call_command("export_counts", "--letter", letter_with_groups.slug, stdout=io.StringIO())
    latest = AuditLog.objects.filter(action="export.command").latest("id")
    assert latest.details["threshold"] == "5"  # the default is the floor
    assert latest.details["kinds"] == ",".join(exports.KINDS)


def test_count_rows_refuse_a_threshold_below_the_floor_whoever_calls(letter_with_groups):
    with pytest.raises(ValueError, match="EXPORT_MIN_GROUP"):
        exports.count_rows(letter_with_groups, "team", 1)  # at once, not on the first row
    with pytest.raises(ValueError, match="EXPORT_MIN_GROUP"):
        exports.letters_count_rows([letter_with_groups], ["day"], 4)
    with pytest.raises(ValueError, match="EXPORT_MIN_GROUP"):
        exports.letters_count_rows([], ["team"], 0)
    rows = list(exports.count_rows(letter_with_groups, "team", 6))
    assert {r["key"]: r["count"] for r in rows} == {"Data": 6, "": None}


def test_organiser_and_admin_exports_record_their_threshold(letter_with_groups, organiser):
    url = reverse("organise:export_counts", kwargs={"slug": letter_with_groups.slug})
    streamed(organiser_client(organiser).get(url, {"format": "csv", "kind": "team"}))
    streamed(
        organiser_client(staff(True)).post(
            "/admin/letters/letter/",
            {"action": "export_counts_csv", "_selected_action": [letter_with_groups.pk]},
        )
    )

    assert AuditLog.objects.get(action="export.counts").details["threshold"] == "5"
    admin_entry = AuditLog.objects.get(action="export.admin")
    assert admin_entry.details["threshold"] == "5"
    assert admin_entry.details["format"] == "csv"


def test_cells_that_start_a_formula_are_neutralised():
    assert exports.neutralise("=1+1") == "'=1+1"
    assert exports.neutralise("+49 30") == "'+49 30"
    assert exports.neutralise("-x") == "'-x"
    assert exports.neutralise("@SUM(A1)") == "'@SUM(A1)"
    assert exports.neutralise("Data") == "Data"
    assert exports.neutralise(5) == 5


@settings(max_examples=300, deadline=None)
@given(
    counts=st.dictionaries(st.text(min_size=1, max_size=4), st.integers(0, 40), max_size=8),
    threshold=st.integers(2, 10),
)
def test_no_hidden_cell_can_be_worked_out_from_the_total_and_the_shown_cells(counts, threshold):
    cells = suppress(counts, threshold)
    hidden = [c for c in cells if c.count is None]
    shown = {c.label: c.count for c in cells if c.count is not None}
    # Every small, non-empty group is hidden.
    for label, n in counts.items():
        if 0 < n < threshold:
            assert label not in shown
    # Shown counts are the true counts.
    for label, n in shown.items():
        assert counts[label] == n
    # Never exactly one hidden cell: total minus the shown cells would reveal it.
    assert len(hidden) != 1 or not shown


# --- Rule 9: one anonymous signer changes no breakdown row -------------------------------


def _page_groups(page: str) -> dict[str, list[tuple[str, str]]]:
    """The rows of the packet's (or leadership page's) tables by team and
    by location, as shown."""
    groups = page[page.index('<div class="groups">') :]
    groups = groups[: groups.index("</div>")]
    tables = re.findall(r"<caption>(.*?)</caption>(.*?)</table>", groups, re.S)
    return {
        caption: re.findall(r'<th scope="row">(.*?)</th><td>(.*?)</td>', body)
        for caption, body in tables
    }


def _breakdowns(letter: Letter, organiser: Any, admin_user: Any, token: str) -> dict[str, Any]:
    """Every team and location row shown anywhere: the organiser's, the
    admin's and the command's count exports, the packet and the leadership
    page."""
    seen: dict[str, Any] = {}
    url = reverse("organise:export_counts", kwargs={"slug": letter.slug})
    for fmt in ("csv", "json"):
        body = streamed(
            organiser_client(organiser).get(url, {"format": fmt, "kind": ["team", "location"]})
        ).decode()
        seen[f"organiser {fmt}"] = body
    admin_body = streamed(
        organiser_client(admin_user).post(
            "/admin/letters/letter/",
            {"action": "export_counts_json", "_selected_action": [letter.pk]},
        )
    )
    seen["admin"] = [r for r in json.loads(admin_body)["rows"] if r["kind"] in {"team", "location"}]
    out = io.StringIO()
    call_command("export_counts", "--letter", letter.slug, "--kind", "team", "--kind",
                 "location", stdout=out)  # fmt: skip
    seen["command"] = out.getvalue()
    packet = organiser_client(organiser).get(
        reverse("organise:packet", kwargs={"slug": letter.slug})
    )
    seen["packet"] = _page_groups(packet.content.decode())
    leadership = Client().get(reverse("leadership", kwargs={"token": token}))
    seen["leadership"] = _page_groups(leadership.content.decode())
    return seen


def test_anonymous_fakes_filling_a_team_cannot_place_the_one_real_anonymous_signer(
    open_letter, organiser
):
    """The attack on "anonymous signers count in a group only from five":
    four anonymous fakes with team "Legal Berlin" and a location wait for
    the one real anonymous signer of that team; "Legal Berlin 5" would give
    away her team, location and day.  Every breakdown anyone can see stays
    exactly the same when she confirms, and again when she withdraws."""
    for n in range(6):
        confirmed_signature(
            open_letter, name=f"Pat P{n}", email=f"p{n}@example.org", team="Platform",
            location="Berlin",
        )  # fmt: skip
    for n in range(5):
        confirmed_signature(
            open_letter, name=f"Sam S{n}", email=f"s{n}@example.org", team="Support",
            location="Leeds",
        )  # fmt: skip
    for n in range(4):  # the attacker's fakes
        confirmed_signature(
            open_letter, name=f"Fake {n}", email=f"fake{n}@attacker.example", team="Legal Berlin",
            location="Berlin Mitte", display=Display.ANONYMOUS,
        )  # fmt: skip
    _delivery, (link,) = services.letter_deliver(
        letter=open_letter, by=organiser, method="in_person", delivered_at=timezone.now(),
        recipients=[services.Recipient("Casey Chief", "CEO")],
    )  # fmt: skip
    admin_user = staff(True)
    before = _breakdowns(open_letter, organiser, admin_user, link.token)

    real = confirmed_signature(
        open_letter, name="Rita Real", email="rita@example.org", team="Legal Berlin",
        location="Berlin Mitte", display=Display.ANONYMOUS,
    )  # fmt: skip
    after_confirming = _breakdowns(open_letter, organiser, admin_user, link.token)
    services.signature_withdraw(signature_id=real.pk)
    after_withdrawing = _breakdowns(open_letter, organiser, admin_user, link.token)

    assert after_confirming == before
    assert after_withdrawing == before
    assert before["packet"]["By team"] == [("Platform", "6"), ("Support", "5")]
    assert before["leadership"]["By location"] == [("Berlin", "6"), ("Leeds", "5")]
    assert "Legal Berlin" not in json.dumps(before)
    assert "Berlin Mitte" not in json.dumps(before)
    # Totals may change, and do.
    assert letter_counts(letter_id=open_letter.pk).confirmed == 15


def _group_rows(letter: Letter) -> dict[str, Any]:
    from letters.views.delivery import _as_delivered

    packet = _as_delivered(letter, None)
    return {
        "exports": [
            row for kind in ("team", "location") for row in exports.count_rows(letter, kind)
        ],
        "packet": (packet["teams"], packet["locations"]),
    }


TEAMS = ["Data", "Legal", "Ops", ""]
PLACES = ["Berlin", "Leeds", ""]
# Few teams and places, so that groups fill up (anonymous ones too).
signer = st.tuples(st.booleans(), st.sampled_from(TEAMS), st.sampled_from(PLACES))


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    signers=st.lists(signer, max_size=24),
    lone_team=st.sampled_from(TEAMS),
    lone_place=st.sampled_from(PLACES),
)
@example(  # the attack: four anonymous fakes fill Legal up to five (were it stored)
    signers=[(True, "Data", "Berlin")] * 5 + [(False, "Legal", "Leeds")] * 4,
    lone_team="Legal",
    lone_place="Leeds",
)
def test_one_anonymous_signer_confirming_or_withdrawing_changes_no_breakdown_row(
    signers, lone_team, lone_place
):
    """Any mix of public and anonymous signers in any teams and locations:
    one more anonymous signer, confirming and then withdrawing, changes no
    team or location row of the exports or the packet (only totals)."""
    letter = make_open_letter(slug=f"l-{uuid.uuid4().hex[:12]}")
    for n, (public, team, place) in enumerate(signers):
        # Not counted (no count change): only the group rows matter here.
        # An anonymous signer's team and place are dropped as the sign
        # service drops them (not stored).
        pending_signature(
            letter, email=f"{n}@example.org",
            name=f"Signer {n}" if public else "", team=team, location=place,
            display=Display.PUBLIC if public else Display.ANONYMOUS, status="confirmed",
            confirmed_at=timezone.now(),
        )  # fmt: skip
    before = _group_rows(letter)

    lone = confirmed_signature(
        letter, name="", email="lone@example.org", team=lone_team, location=lone_place,
        display=Display.ANONYMOUS,
    )  # fmt: skip
    assert _group_rows(letter) == before
    services.signature_withdraw(signature_id=lone.pk)
    assert _group_rows(letter) == before


def test_the_counts_export_does_not_place_a_lone_anonymous_signer_in_a_team(
    letter_with_groups, organiser
):
    for n in range(5):
        confirmed_signature(
            letter_with_groups, name=f"L{n}", email=f"l{n}@example.org", team="Legal"
        )
    confirmed_signature(letter_with_groups, name="Oz Ops", email="oz@example.org", team="Ops")
    rows = list(exports.count_rows(letter_with_groups, "team"))
    teams = {row["key"]: row["count"] for row in rows if not row["suppressed"]}
    # Legal: six named and one anonymous ("Quiet One"); 7 would place her
    # there.  Anonymous signers are in no team, however many share one.
    assert teams == {"Data": 6, "Legal": 6}
    for n in range(5):
        confirmed_signature(
            letter_with_groups, name="", email=f"a{n}@example.org", team="Data",
            display=Display.ANONYMOUS,
        )  # fmt: skip
    rows = list(exports.count_rows(letter_with_groups, "team"))
    assert {row["key"]: row["count"] for row in rows if not row["suppressed"]} == teams


def test_retention_erases_personal_data_and_keeps_counts(letter_with_groups, organiser):
    services.letter_close(letter=letter_with_groups, by=organiser)
    LetterEvent.objects.filter(letter=letter_with_groups).update(
        created_at=timezone.now() - timedelta(days=91)
    )
    services.counts_fold(letter_id=letter_with_groups.pk)

    erased = services.signatures_erase_retained()

    assert erased == 9
    assert not Signature.objects.filter(letter=letter_with_groups).exclude(name="").exists()
    # The sealed address and domain tags go; the address's keyed hash stays
    # (so an erased signer is not counted twice).
    assert not Signature.objects.filter(email_sealed__isnull=False).exists()
    assert not Signature.objects.exclude(email_domains="").exists()
    assert not Signature.objects.filter(letter=letter_with_groups, email_hash="").exists()
    assert letter_counts(letter_id=letter_with_groups.pk).confirmed == 9
    services.counts_recount(letter_id=letter_with_groups.pk)
    assert letter_counts(letter_id=letter_with_groups.pk).confirmed == 9
    assert services.signatures_erase_retained() == 0


def test_retention_leaves_recently_closed_letters_alone(letter_with_groups, organiser):
    services.letter_close(letter=letter_with_groups, by=organiser)
    assert services.signatures_erase_retained() == 0


def test_owners_can_erase_all_identities_at_once(letter_with_groups, organiser):
    url = reverse("organise:erase", kwargs={"slug": letter_with_groups.slug})
    client = organiser_client(organiser)

    client.post(url, {"confirm": "wrong"})
    # Eight named signers; the anonymous one's name was never stored.
    assert Signature.objects.exclude(name="").count() == 8
    assert Signature.objects.filter(email_sealed__isnull=False).count() == 9
    client.post(url, {"confirm": letter_with_groups.slug})

    assert Signature.objects.exclude(name="").count() == 0
    assert not Signature.objects.filter(email_sealed__isnull=False).exists()
    assert Signature.objects.exclude(email_hash="").count() == 9  # kept: not counted twice
    assert letter_counts(letter_id=letter_with_groups.pk).confirmed == 9
    assert AuditLog.objects.get(action="letter.erase_identities").details["count"] == "9"
    page = Client().get(letter_with_groups.get_absolute_url())
    assert page.status_code == 200


# --- The admin -----------------------------------------------------------------------


def staff(with_mfa: bool) -> Any:
    user = make_user(email=f"staff{int(with_mfa)}@example.org")
    user.is_staff = user.is_superuser = True
    user.save()
    if with_mfa:
        Authenticator.objects.create(
            user=user, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"}
        )
    return user


def test_staff_need_mfa_to_reach_the_admin(db):
    without, with_mfa = staff(False), staff(True)

    refused = organiser_client(without).get("/admin/", follow=True)
    allowed = organiser_client(with_mfa).get("/admin/")
    anonymous = Client().get("/admin/", follow=True)

    assert refused.redirect_chain[-1][0] == reverse("mfa_index")  # set up MFA first
    assert allowed.status_code == 200
    assert "Site administration" in allowed.content.decode()
    assert anonymous.redirect_chain[-1][0].startswith(reverse("account_login"))


def test_admin_lists_show_no_personal_data_and_opening_one_is_audited(letter_with_groups):
    admin_user = staff(True)
    client = organiser_client(admin_user)
    listing = client.get("/admin/letters/signature/").content.decode()
    assert "d0@example.org" not in listing
    assert "Lee Legal" not in listing
    assert "Quiet One" not in listing
    signature = signature_of(letter_with_groups, "lee@example.org").get()

    page = client.get(f"/admin/letters/signature/{signature.pk}/change/").content.decode()

    assert "Lee Legal" in page  # an admin may see it, and it is written down
    assert "lee@example.org" not in page  # sealed: the admin cannot read it
    entry = AuditLog.objects.get(action="admin.view_signature")
    assert entry.actor == admin_user
    assert entry.target == f"signature {signature.pk}"
    quiet = signature_of(letter_with_groups, "q@example.org").get()
    page = client.get(f"/admin/letters/signature/{quiet.pk}/change/").content.decode()
    assert "Quiet One" not in page  # an anonymous signer's name is not stored at all
    assert "q@example.org" not in page


def test_admin_action_streams_counts_of_the_selected_letters(letter_with_groups):
    client = organiser_client(staff(True))

    response = client.post(
        "/admin/letters/letter/",
        {"action": "export_counts_csv", "_selected_action": [letter_with_groups.pk]},
    )

    assert response.streaming
    body = streamed(response).decode()
    assert f"{letter_with_groups.slug},team,Data,6,False" in body
    assert AuditLog.objects.filter(action="export.admin").exists()


def test_the_signatory_export_is_a_lazy_stream(letter_with_groups):
    """Nothing is read before it is needed: taking the header runs no query,
    and each further row comes from the server-side cursor."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        stream = exports.stream(
            exports.signatory_rows(letter_with_groups),
            exports.SIGNATORY_FIELDS,
            "csv",
            exports.signatories_meta(letter_with_groups),
        )
        header = next(stream)
    assert header.startswith("\ufeffname,job_title")
    assert len(queries) == 0
    rows = list(stream)
    assert len(rows) == 8  # public signers only


def test_the_copy_export_matches_the_orm_export_byte_for_byte(letter_with_groups):
    """On PostgreSQL the CSV comes straight from COPY; it must say exactly
    what the ORM path says (columns, rows, order, neutralised cells, times)."""
    confirmed_signature(
        letter_with_groups, name='Quote "me", please', email="qm@example.org",
        team="+Growth", comment="line one\nline two",
    )  # fmt: skip
    orm = "".join(
        exports.stream_csv(exports.signatory_rows(letter_with_groups), exports.SIGNATORY_FIELDS)
    ).encode()

    copied = b"".join(exports.signatory_csv_copy(letter_with_groups))

    assert copied == orm
    assert copied.startswith(b"\xef\xbb\xbfname,job_title,")  # the same byte-order mark
    assert b"'+Growth" in copied


# --- What an export says about itself; BOM; paper; pending ----------------------------

BOM = b"\xef\xbb\xbf"
ADMIN_EXPORTS = ("export_counts_csv", "export_counts_json", "export_counts_notes",
                 "export_summary_csv")  # fmt: skip


def body_of(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def every_export(letter: Letter, organiser: Any, admin_user: Any) -> dict[str, Any]:
    """Every export of the letter, as bytes, with its Content-Disposition:
    the organiser's downloads, the admin's actions and the command's
    outputs, in every format each offers."""
    seen: dict[str, Any] = {}
    client, admin = organiser_client(organiser), organiser_client(admin_user)
    for name, formats in (("export_counts", exports.COUNT_FORMATS),
                          ("export_signatories", exports.FORMATS)):  # fmt: skip
        url = reverse(f"organise:{name}", kwargs={"slug": letter.slug})
        for fmt in formats:
            response = client.get(url, {"format": fmt})
            assert response.status_code == 200
            seen[f"organiser {name} {fmt}"] = (body_of(response), response["Content-Disposition"])
    for action in ADMIN_EXPORTS:
        response = admin.post(
            "/admin/letters/letter/", {"action": action, "_selected_action": [letter.pk]}
        )
        assert response.status_code == 200
        seen[f"admin {action}"] = (body_of(response), response["Content-Disposition"])
    for args in (["--letter", letter.slug], ["--summary"]):
        for fmt in exports.COUNT_FORMATS:
            out = io.StringIO()
            call_command("export_counts", *args, "--format", fmt, stdout=out)
            seen[f"command {args[0]} {fmt}"] = (out.getvalue().encode(), None)
    return seen


def test_csv_downloads_start_with_a_byte_order_mark_and_keep_accented_names(
    open_letter, organiser, tmp_path
):
    """Spreadsheet programs take a CSV without a byte-order mark for the
    local code page and show "ZoÃ«"; with it, "Zoë".  Programs read it back
    with the "utf-8-sig" codec, header included."""
    names = [f"Zoë Ñúñez-Škoda {n}" for n in range(5)]
    for n, name in enumerate(names):
        confirmed_signature(
            open_letter, name=name, email=f"z{n}@example.org", team="Équipe Données",
            location="Zürich",
        )  # fmt: skip
    today = timezone.localdate().isoformat()

    seen = every_export(open_letter, organiser, staff(True))

    for where, (body, _disposition) in seen.items():
        if where.endswith("csv"):
            assert body.startswith(BOM), where
            assert not body.startswith(BOM * 2), where
        else:  # JSON and the notes: no mark
            assert not body.startswith(BOM), where
    signatories, disposition = seen["organiser export_signatories csv"]  # COPY, on PostgreSQL
    assert disposition == f'attachment; filename="{open_letter.slug}-signatories-{today}.csv"'
    rows = list(csv.reader(io.StringIO(signatories.decode("utf-8-sig"))))
    assert rows[0] == exports.SIGNATORY_FIELDS  # the mark is not part of the first name
    assert [row[0] for row in rows[1:]] == names
    counts, disposition = seen["organiser export_counts csv"]
    assert disposition == f'attachment; filename="{open_letter.slug}-counts-{today}.csv"'
    rows = list(csv.reader(io.StringIO(counts.decode("utf-8-sig"))))
    assert rows[0] == exports.COUNT_FIELDS
    assert [open_letter.slug, "team", "Équipe Données", "5", "False"] in rows
    assert [open_letter.slug, "location", "Zürich", "5", "False"] in rows
    admin_counts, disposition = seen["admin export_counts_csv"]
    assert admin_counts == counts  # the same export, the same bytes
    assert disposition == f'attachment; filename="{open_letter.slug}-counts-{today}.csv"'
    assert seen["command --letter csv"][0] == counts
    _summary, disposition = seen["admin export_summary_csv"]
    assert disposition == f'attachment; filename="letters-summary-{today}.csv"'
    # The command's file is UTF-8 with the mark, whatever the locale.
    out = tmp_path / "counts.csv"
    call_command("export_counts", "--letter", open_letter.slug, "--output", str(out))
    assert out.read_bytes() == counts
    with out.open(encoding="utf-8-sig", newline="") as f:
        assert {"Équipe Données", "Zürich"} <= {row["key"] for row in csv.DictReader(f)}


def test_json_exports_carry_a_meta_saying_what_they_are(letter_with_groups, organiser, settings):
    settings.EXPORT_MIN_GROUP = 6  # the threshold said is the one applied
    slug, today = letter_with_groups.slug, timezone.localdate().isoformat()
    url = reverse("organise:export_counts", kwargs={"slug": slug})

    response = organiser_client(organiser).get(url, {"format": "json"})

    assert response["Content-Disposition"] == f'attachment; filename="{slug}-counts-{today}.json"'
    data = json.loads(streamed(response))
    meta = data["meta"]
    assert meta["export"] == "counts"
    assert meta["letters"] == [{"slug": slug, "title": letter_with_groups.title}]
    assert meta["generated_on"] == today
    assert list(meta["columns"]) == exports.COUNT_FIELDS
    assert all(meta["columns"].values())  # each column says what it means
    assert list(meta["kinds"]) == list(exports.KINDS)
    assert meta["suppression"]["threshold"] == 6
    assert meta["suppression"]["kinds"] == ["day", "team", "location"]
    assert "fewer than 6 " in meta["suppression"]["rule"]
    assert meta["pending_included"] is False
    assert {r["key"]: r["count"] for r in data["rows"] if r["kind"] == "team"} == {
        "Data": 6, "": None,
    }  # fmt: skip
    team_only = organiser_client(organiser).get(url, {"format": "json", "kind": "team"})
    only_team = json.loads(streamed(team_only))
    assert list(only_team["meta"]["kinds"]) == ["team"]

    # The admin's and the command's JSON say the same, with their threshold.
    admin = json.loads(
        streamed(
            organiser_client(staff(True)).post(
                "/admin/letters/letter/",
                {"action": "export_counts_json", "_selected_action": [letter_with_groups.pk]},
            )
        )
    )
    assert admin["meta"] == meta
    assert admin["rows"] == data["rows"]
    out = io.StringIO()
    call_command("export_counts", "--letter", slug, "--threshold", "8", "--format", "json",
                 stdout=out)  # fmt: skip
    command = json.loads(out.getvalue())
    assert command["meta"]["suppression"]["threshold"] == 8
    assert "fewer than 8 " in command["meta"]["suppression"]["rule"]
    assert {k: v for k, v in command["meta"].items() if k != "suppression"} == {
        k: v for k, v in meta.items() if k != "suppression"
    }
    out = io.StringIO()
    call_command("export_counts", "--summary", "--format", "json", stdout=out)
    summary = json.loads(out.getvalue())["meta"]
    assert (summary["export"], list(summary["columns"])) == ("summary", exports.SUMMARY_FIELDS)
    assert summary["pending_included"] is False
    signatories = json.loads(
        streamed(
            organiser_client(organiser).get(
                reverse("organise:export_signatories", kwargs={"slug": slug}), {"format": "json"}
            )
        )
    )
    assert list(signatories["meta"]["columns"]) == exports.SIGNATORY_FIELDS
    assert signatories["meta"]["pending_included"] is False
    assert len(signatories["rows"]) == 8  # public signers only


def test_the_notes_explain_the_csv_and_are_the_same_from_page_admin_and_command(
    letter_with_groups, organiser
):
    """A CSV has one header line and rows (anything above the header breaks
    a spreadsheet's columns), so what it is comes as a text download of its
    own, named to sit next to it."""
    slug, today = letter_with_groups.slug, timezone.localdate().isoformat()
    url = reverse("organise:export_counts", kwargs={"slug": slug})

    response = organiser_client(organiser).get(url, {"format": "notes"})

    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="{slug}-counts-{today}-notes.txt"'
    )
    assert response["Cache-Control"] == "private, no-store"
    notes = response.content.decode()
    assert f"{letter_with_groups.title} ({slug})" in notes
    assert today in notes
    for name in (*exports.COUNT_FIELDS, *exports.KINDS):
        assert f"\n  {name}: " in notes
    assert "threshold applied: 5" in notes
    assert "Pending signatures:\n  Not included" in notes
    assert "utf-8-sig" in notes
    assert "Data" not in notes  # no counts, no groups: only what they mean
    assert not AuditLog.objects.exists()  # nothing of anyone's in it, so not audited

    admin = organiser_client(staff(True)).post(
        "/admin/letters/letter/",
        {"action": "export_counts_notes", "_selected_action": [letter_with_groups.pk]},
    )
    out = io.StringIO()
    call_command("export_counts", "--letter", slug, "--format", "notes", stdout=out)
    assert admin.content.decode() == notes
    assert out.getvalue() == notes


def test_paper_signatures_are_a_row_of_their_own_never_added_to_verified_counts(
    letter_with_groups, organiser
):
    record_paper(letter_with_groups, 12)
    slug = letter_with_groups.slug
    url = reverse("organise:export_counts", kwargs={"slug": slug})

    data = json.loads(streamed(organiser_client(organiser).get(url, {"format": "json"})))

    assert [r for r in data["rows"] if r["kind"] == "paper"] == [
        {"letter": slug, "kind": "paper", "key": "paper", "count": 12, "suppressed": False}
    ]
    assert {r["key"]: r["count"] for r in data["rows"] if r["kind"] == "status"}[
        "confirmed"
    ] == 9  # the verified count stays the verified count
    assert "paper" in data["meta"]["kinds"]["paper"]
    line = f"{slug},paper,paper,12,False"
    assert line in streamed(organiser_client(organiser).get(url)).decode("utf-8-sig")
    admin_csv = organiser_client(staff(True)).post(
        "/admin/letters/letter/",
        {"action": "export_counts_csv", "_selected_action": [letter_with_groups.pk]},
    )
    assert line in streamed(admin_csv).decode("utf-8-sig")
    out = io.StringIO()
    call_command("export_counts", "--letter", slug, "--kind", "paper", stdout=out)
    assert out.getvalue() == f"\ufeffletter,kind,key,count,suppressed\n{line}\n"
    out = io.StringIO()
    call_command("export_counts", "--summary", "--format", "json", stdout=out)
    (row,) = json.loads(out.getvalue())["rows"]
    assert (row["confirmed"], row["paper"]) == (9, 12)


def test_pending_signatures_are_in_no_export_for_anyone(letter_with_groups, organiser):
    """Anyone can start a signature with anyone's address: no export (the
    organiser's, the admin's or the command's, any format) counts, lists or
    changes by pending ones, and each says so."""
    admin_user = staff(True)
    before = every_export(letter_with_groups, organiser, admin_user)

    for n in range(6):
        pending_signature(
            letter_with_groups, name=f"Pending Pat {n}", email=f"pp{n}@example.org",
            team="Data", location="Leeds",
        )  # fmt: skip
    pending_signature(letter_with_groups, email="pa@example.org", display=Display.ANONYMOUS)
    after = every_export(letter_with_groups, organiser, admin_user)

    assert after == before
    assert Signature.objects.filter(status="pending").count() == 7
    assert b"Pending Pat" not in b"".join(body for body, _ in after.values())
    statuses = {
        r["key"]
        for r in json.loads(after["admin export_counts_json"][0])["rows"]
        if r["kind"] == "status"
    }
    assert statuses == {"confirmed", "withdrawn", "invalidated", "flagged"}  # admins too
    summary = after["admin export_summary_csv"][0].decode("utf-8-sig").splitlines()
    assert summary[0].split(",") == exports.SUMMARY_FIELDS
    assert "pending" not in summary[0]
    for where, (body, _) in after.items():
        if where.endswith("json"):
            assert json.loads(body)["meta"]["pending_included"] is False, where
        if "notes" in where:
            assert "Pending signatures:\n  Not included" in body.decode(), where
