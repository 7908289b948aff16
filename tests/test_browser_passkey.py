"""An organiser, in a real browser (Debian's Chromium) with a virtual
authenticator (Chrome DevTools Protocol `WebAuthn.addVirtualAuthenticator`:
a platform authenticator that holds passkeys and verifies its user), on a
site that requires a second factor: signs in with the password, is sent to
set one up, adds a passkey, reaches the organiser pages, signs out and signs
in again with the passkey alone."""

from __future__ import annotations

import re
from typing import Any

import pytest
from allauth.mfa.models import Authenticator

from letters.tests.factories import PASSWORD
from tests.site_pages import sign_in, watch_errors

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def virtual_authenticator(page) -> tuple[Any, str]:
    """A passkey-capable authenticator in `page`'s browser tab (its PIN or
    fingerprint check always passes)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, added["authenticatorId"]


def test_organiser_adds_a_passkey_when_required_and_signs_in_with_it(
    site_server, page, organiser, settings
):
    settings.REQUIRE_ORGANISER_2FA = True  # as in production
    errors: list[str] = []
    watch_errors(page, errors)
    cdp, authenticator_id = virtual_authenticator(page)

    # 1. The password is not enough: the organiser is sent to set up a second factor.
    sign_in(page, site_server, lands=r"/accounts/2fa/$")
    assert page.get_by_text("asks every organiser to protect their account").is_visible()

    # 2. Add a passkey (a key that can sign in on its own).
    page.locator("a[href='/accounts/2fa/webauthn/add/']").click()
    page.wait_for_url(re.compile(r"/accounts/reauthenticate/"))  # the password again, first
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(re.compile(r"/accounts/2fa/webauthn/add/$"))
    page.get_by_label("Name").fill("Laptop passkey")
    page.get_by_label("Passwordless").check()
    page.get_by_role("button", name="Add").click()
    page.wait_for_url(re.compile(r"/accounts/2fa/(recovery-codes/)?$"))
    key = Authenticator.objects.get(user=organiser, type=Authenticator.Type.WEBAUTHN)
    assert key.wrap().name == "Laptop passkey"
    assert key.wrap().is_passwordless is True
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})
    assert len(credentials["credentials"]) == 1
    assert credentials["credentials"][0]["isResidentCredential"] is True

    # 3. The key is listed as a passkey; the organiser pages open, without
    # the "no second factor" notice.
    page.goto(site_server + "/accounts/2fa/webauthn/")
    row = page.get_by_role("row").filter(has_text="Laptop passkey")
    assert row.get_by_text("Passkey", exact=True).is_visible()
    assert row.get_by_text("Not used yet.").is_visible()
    page.goto(site_server + "/organise/")
    assert page.get_by_role("heading", name="My letters", level=1).is_visible()
    assert not page.get_by_text("Your account has no second factor").count()

    # 4. Sign out, then sign in with the passkey: no address, no password.
    page.goto(site_server + "/accounts/logout/")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/letters/|/accounts/login/|/$"))
    page.goto(site_server + "/accounts/login/")
    page.get_by_role("button", name="Sign in with a passkey").click()
    page.wait_for_url(re.compile(r"/organise/$"))
    assert page.get_by_role("heading", name="My letters", level=1).is_visible()
    key.refresh_from_db()
    assert key.last_used_at is not None
    assert errors == []
