"""The admin in a real browser (Debian's Chromium): a staff member with TOTP
signs in through allauth (password, then the authenticator code), exports a
letter's counts from the letters list and gets a CSV with small groups
unnamed and no emails; the export is audited, and the signatures list shows
no signer's name or email."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.utils import timezone

from letters.models import AuditLog, Display, Letter
from letters.tests.factories import ADMIN, TOTP_SECRET, confirmed_signature, make_admin
from tests.site_pages import sign_in, watch_errors

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

ACTION = "Export counts of the selected letters (CSV)"
# Signers: (name, email, team, display).  Data (6) is shown; Legal (1: Quinn
# signs anonymously, so Quinn's team is not stored) and Finance (1) are small
# groups, hidden and unnamed.  Finance is there so that
# two cells are hidden: with Legal the only small group, complementary
# suppression (letters/suppression.py) would hide Data as well, since the
# confirmed total minus Data would give Legal away.
SIGNERS = [
    *((f"Dana Data{n}", f"dana{n}@example.org", "Data", Display.PUBLIC) for n in range(6)),
    ("Lee Legal", "lee@example.org", "Legal", Display.PUBLIC),
    ("Quinn Quiet", "quinn@example.org", "Legal", Display.ANONYMOUS),
    ("Fay Finance", "fay@example.org", "Finance", Display.PUBLIC),
]


@pytest.fixture
def signed(open_letter: Letter) -> Letter:
    for name, email, team, display in SIGNERS:
        confirmed_signature(open_letter, name=name, email=email, team=team, display=display)
    return open_letter


def _totp_code() -> str:
    """The current code, not within a few seconds of the period's end (allauth
    accepts the current period only, by default)."""
    if time.time() % 30 > 25:
        time.sleep(30 - time.time() % 30 + 0.5)
    return format_hotp_value(hotp_value(TOTP_SECRET, int(time.time()) // 30))


def _sign_in_to_admin(page: Any, site_server: str) -> None:
    sign_in(page, site_server, ADMIN.email, start="/admin/", lands=r"/accounts/2fa/authenticate/")
    page.get_by_label("Code").fill(_totp_code())
    page.get_by_role("button", name=re.compile("Sign In", re.IGNORECASE)).click()
    page.wait_for_url(re.compile(r"/admin/$"))
    assert page.get_by_role("heading", name="Site administration").is_visible()


def test_staff_signs_in_with_totp_and_exports_counts_without_personal_data(
    site_server: str, page: Any, signed: Letter, tmp_path: Path
) -> None:
    letter, admin = signed, make_admin()
    errors: list[str] = []
    watch_errors(page, errors)

    # 1. /admin/ sends to allauth's login; password, then the TOTP code.
    _sign_in_to_admin(page, site_server)

    # 2. Letters: tick the letter, choose the CSV counts export, press Go.
    page.locator("#letters-letter").get_by_role("link", name="Letters").click()
    page.wait_for_url(re.compile(r"/admin/letters/letter/$"))
    page.locator(f'input[name="_selected_action"][value="{letter.pk}"]').check()
    page.locator('select[name="action"]').select_option(label=ACTION)
    with page.expect_download() as info:
        # "Go" until Django 6.0, "Run" since.
        page.get_by_role("button", name=re.compile(r"^(Go|Run)$")).click()
    download = info.value
    assert (
        download.suggested_filename
        == f"{letter.slug}-counts-{timezone.localdate().isoformat()}.csv"
    )
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    body = target.read_text(encoding="utf-8-sig")  # the BOM spreadsheets need

    lines = body.splitlines()
    assert lines[0] == "letter,kind,key,count,suppressed"
    assert f"{letter.slug},team,Data,6,False" in lines
    assert f"{letter.slug},team,,,True" in lines  # Legal and Finance: hidden, unnamed
    assert [line for line in lines if ",team," in line] == [
        f"{letter.slug},team,Data,6,False",
        f"{letter.slug},team,,,True",
    ]
    assert "Legal" not in body
    assert "Finance" not in body
    assert "@" not in body
    for name, email, _team, _display in SIGNERS:
        assert name not in body
        assert email not in body

    entry = AuditLog.objects.get(action="export.admin")
    assert entry.actor == admin
    assert entry.target == letter.slug

    # 3. Signatures: the list shows ids and statuses, no names, no emails.
    page.goto(site_server + "/admin/")
    page.locator("#letters-signature").get_by_role("link", name="Signatures").click()
    page.wait_for_url(re.compile(r"/admin/letters/signature/$"))
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == len(SIGNERS)
    html = page.content()
    for name, email, _team, _display in SIGNERS:
        assert name not in html
        assert email not in html
    assert "@example.org" not in html.replace(ADMIN.email, "")

    assert errors == []
