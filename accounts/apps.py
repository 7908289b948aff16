from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    # Not "Accounts": allauth's account app (email addresses) is called that
    # in the admin, and two sections of one name read as a mistake.
    verbose_name = _("Users")
    default_auto_field = "django.db.models.BigAutoField"
