"""The admin site: staff sign in through allauth (so its MFA applies) and
must have two-factor authentication turned on to reach the admin at all.

Who gets what at any admin address:

- anonymous: sent to allauth's login, which comes back here;
- signed in, not staff (or not active): a plain 403 page in the site's look
  (`admin_not_allowed.html`).  Never a redirect: the login page would send a
  signed-in user straight back, and round they would go;
- staff without two-factor authentication: sent to set it up;
- staff with it: the admin.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlencode

from allauth.mfa.utils import is_mfa_enabled
from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse

_View = TypeVar("_View", bound=Callable[..., HttpResponseBase])


def _signed_in_but_not_staff(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_authenticated and not (user.is_active and user.is_staff))


def _not_allowed(request: HttpRequest) -> HttpResponse:
    return render(request, "admin_not_allowed.html", status=403)


class MfaAdminSite(admin.AdminSite):
    site_header = "Undersigned administration"
    site_title = "Undersigned admin"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(super().has_permission(request) and is_mfa_enabled(user))

    def admin_view(self, view: _View, cacheable: bool = False) -> _View:
        """Django's guard (which sends whoever lacks permission to the login),
        except that a signed-in user who is not staff is refused at once."""
        guarded = super().admin_view(view, cacheable)

        @wraps(guarded)
        def refuse_non_staff(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if _signed_in_but_not_staff(request):
                return _not_allowed(request)
            return guarded(request, *args, **kwargs)

        return cast("_View", refuse_non_staff)

    def login(self, request: HttpRequest, extra_context: object = None) -> HttpResponse:
        """No separate admin login: allauth's, with its MFA step; staff
        without MFA are sent to set it up, signed-in users who are not staff
        are refused, and staff who may enter go to the index."""
        user = request.user
        if _signed_in_but_not_staff(request):
            return _not_allowed(request)
        if user.is_authenticated and not is_mfa_enabled(user):
            return HttpResponseRedirect(reverse("mfa_index"))
        if user.is_authenticated:
            return HttpResponseRedirect(reverse("admin:index", current_app=self.name))
        next_url = request.GET.get("next") or reverse("admin:index")
        return HttpResponseRedirect(f"{reverse('account_login')}?{urlencode({'next': next_url})}")
