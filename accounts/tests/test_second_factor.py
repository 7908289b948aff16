"""A second factor for organisers: with REQUIRE_ORGANISER_2FA on, an organiser
without an authenticator app or a passkey is sent to set one up before any
organiser page; the dashboard tells an organiser whose account has none;
production requires one by default, the embedded demo does not; passkeys
(WebAuthn) are offered for two-factor and for signing in."""

from __future__ import annotations

from pathlib import Path

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.urls import reverse

from letters.tests.factories import PASSWORD, TOTP_SECRET
from tests.test_deploy import PRODUCTION, manage

pytestmark = pytest.mark.django_db

NOTICE = "Your account has no second factor"
ASKED = "This site asks every organiser to protect their account with a second factor."


def sign_in(client, user) -> None:
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("organise:dashboard")


@pytest.fixture
def required(settings):
    settings.REQUIRE_ORGANISER_2FA = True


def test_without_a_second_factor_an_organiser_is_sent_to_set_one_up(
    client, required, open_letter, organiser
):
    sign_in(client, organiser)

    for path in (
        reverse("organise:dashboard"),
        reverse("organise:letter", kwargs={"slug": open_letter.slug}),
        reverse("organise:new"),
    ):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == reverse("mfa_index")

    page = client.get(reverse("mfa_index")).content.decode()
    assert ASKED in page
    assert "Security Keys" in page  # passkeys offered beside the authenticator app
    assert reverse("mfa_add_webauthn") in page


def test_a_post_to_an_organiser_page_changes_nothing_without_a_second_factor(
    client, required, open_letter, organiser
):
    sign_in(client, organiser)
    title = open_letter.title

    response = client.post(
        reverse("organise:edit", kwargs={"slug": open_letter.slug}), {"title": "Taken over"}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_index")
    open_letter.refresh_from_db()
    assert open_letter.title == title


def test_with_an_authenticator_app_the_organiser_pages_open(client, required, organiser):
    TOTP.activate(organiser, TOTP_SECRET)
    client.force_login(organiser)  # the second step of signing in is allauth's

    page = client.get(reverse("organise:dashboard"))

    assert page.status_code == 200
    assert NOTICE not in page.content.decode()


def test_recovery_codes_alone_are_no_second_factor(client, required, organiser):
    Authenticator.objects.create(
        user=organiser, type=Authenticator.Type.RECOVERY_CODES, data={"seed": "00" * 20}
    )
    client.force_login(organiser)

    assert client.get(reverse("organise:dashboard"))["Location"] == reverse("mfa_index")


def test_the_account_pages_stay_open_to_set_one_up(client, required, organiser):
    sign_in(client, organiser)

    assert client.get(reverse("mfa_index")).status_code == 200
    assert client.get(reverse("account_email")).status_code == 200
    assert client.get(reverse("letters:index")).status_code == 200
    asked = client.get(reverse("mfa_add_webauthn"))  # asks for the password again first
    assert asked.status_code in {200, 302}
    if asked.status_code == 302:
        assert asked["Location"].startswith(reverse("account_reauthenticate"))


def test_a_visitor_not_signed_in_is_sent_to_sign_in_not_to_set_up(client, required):
    response = client.get(reverse("organise:dashboard"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_the_dashboard_tells_an_organiser_without_a_second_factor(client, organiser):
    client.force_login(organiser)  # requirement off (the demo)

    page = client.get(reverse("organise:dashboard")).content.decode()

    assert NOTICE in page
    assert f'href="{reverse("mfa_index")}"' in page
    TOTP.activate(organiser, TOTP_SECRET)
    assert NOTICE not in client.get(reverse("organise:dashboard")).content.decode()


def test_the_login_page_offers_signing_in_with_a_passkey(client):
    page = client.get(reverse("account_login")).content.decode()

    assert "Sign in with a passkey" in page
    assert f'action="{reverse("mfa_login_webauthn")}"' in page
    assert "mfa/js/webauthn" in page  # a static script: the CSP allows no inline one


SETTINGS = (
    "from django.conf import settings as s;"
    "print(s.REQUIRE_ORGANISER_2FA, 'webauthn' in s.MFA_SUPPORTED_TYPES,"
    " s.MFA_PASSKEY_LOGIN_ENABLED, s.MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN)"
)


def test_production_requires_a_second_factor_and_offers_passkeys():
    result = manage(
        "shell", "--no-imports", "-c", SETTINGS, env=PRODUCTION, drop=("REQUIRE_ORGANISER",)
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "True", "False"]


def test_the_embedded_demo_does_not_require_one():
    result = manage(
        "shell", "--no-imports", "-c", SETTINGS, env={"DEBUG": "1"}, drop=("REQUIRE_ORGANISER",)
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "True", "False"]


def test_an_operator_can_turn_the_requirement_off_in_production():
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        SETTINGS,
        env={**PRODUCTION, "REQUIRE_ORGANISER_2FA": "0"},
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "False"


def test_the_settings_module_stays_within_its_size():
    settings_py = Path(__file__).resolve().parents[2] / "config" / "settings.py"
    assert len(settings_py.read_text().splitlines()) <= 400
