"""The admin site: staff sign in through allauth (so its MFA applies) and
must have two-factor authentication turned on to reach the admin at all."""

from __future__ import annotations

from urllib.parse import urlencode

from allauth.mfa.utils import is_mfa_enabled
from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse


class MfaAdminSite(admin.AdminSite):
    site_header = "Undersigned administration"
    site_title = "Undersigned admin"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(super().has_permission(request) and is_mfa_enabled(user))

    def login(self, request: HttpRequest, extra_context: object = None) -> HttpResponse:
        """No separate admin login: allauth's, with its MFA step; staff
        without MFA are sent to set it up."""
        user = request.user
        if user.is_authenticated and user.is_staff and not is_mfa_enabled(user):
            return HttpResponseRedirect(reverse("mfa_index"))
        next_url = request.GET.get("next") or reverse("admin:index")
        return HttpResponseRedirect(f"{reverse('account_login')}?{urlencode({'next': next_url})}")
