"""With REQUIRE_ORGANISER_2FA on, a signed-in organiser without a second
factor who asks for any organiser page (everything under /organise/) is sent
to the two-factor page to set one up, told why, and comes back by the menu
once they have.  Anonymous visitors pass (the organiser pages send them to
the login, whose second step then asks for the factor); the admin has its own,
stricter rule (config/admin.py: staff always need one)."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from accounts.second_factor import has_second_factor, second_factor_required

Handler = Callable[[HttpRequest], HttpResponseBase]


def organiser_area(path: str) -> bool:
    """Whether `path` (with the script prefix, as `request.path`) is under
    the organiser area; never, in a URL conf without one (the bench's
    baseline)."""
    try:
        return path.startswith(reverse("organise:dashboard"))
    except NoReverseMatch:
        return False


def require_second_factor(get_response: Handler) -> Handler:
    def middleware(request: HttpRequest) -> HttpResponseBase:
        if (
            second_factor_required()
            and request.user.is_authenticated
            and organiser_area(request.path)
            and not has_second_factor(request.user)
        ):
            return set_one_up(request)
        return get_response(request)

    return middleware


def set_one_up(request: HttpRequest) -> HttpResponse:
    messages.warning(
        request,
        _(
            "This site asks every organiser to protect their account with a second factor. "
            "Add a passkey or security key, or turn on an authenticator app, to use the "
            "organiser pages."
        ),
    )
    return HttpResponseRedirect(reverse("mfa_index"))
