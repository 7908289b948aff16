from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class UndersignedAdminConfig(AdminConfig):
    default_site = "config.admin.MfaAdminSite"
