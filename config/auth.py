"""Organiser accounts (django-allauth): email login, mandatory verification,
two-factor authentication (an authenticator app, passkeys and security keys,
recovery codes), passkey sign-in, and whether organisers must have a second
factor.  config/settings.py takes every name here (`from config.auth import *`)
and adds ACCOUNT_DEFAULT_HTTP_PROTOCOL (from SITE_URL).
"""

from __future__ import annotations

import environ

_env = environ.Env()
_DEBUG: bool = _env.bool("DEBUG", default=False)

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "organise:dashboard"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Undersigned] "
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"  # emails name the site, not the host

# --- Two-factor authentication (allauth.mfa) -----------------------------
# An authenticator app (TOTP), passkeys and security keys (WebAuthn, through
# fido2), recovery codes for when both are lost.
MFA_ADAPTER = "accounts.adapter.MfaAdapter"  # the site's name on keys and in apps
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_TOTP_ISSUER = "Undersigned"
# A passkey (a key that holds the account and checks its holder's PIN or
# fingerprint) signs in on its own: "Sign in with a passkey" on the login page.
MFA_PASSKEY_LOGIN_ENABLED = True
# WebAuthn needs https (browsers also allow http://localhost, as fido2 does).
# For a test server on another http address only; never in production.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN: bool = _env.bool(
    "MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN", default=False
)

# Every organiser must have a second factor (an authenticator app or a
# passkey/security key) before they may use the organiser pages; without one
# they are sent to set one up (accounts/middleware.py).  On unless DEBUG (the
# embedded demo stays easy).  The admin always requires one (config/admin.py).
REQUIRE_ORGANISER_2FA: bool = _env.bool("REQUIRE_ORGANISER_2FA", default=not _DEBUG)
