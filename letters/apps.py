from __future__ import annotations

from django.apps import AppConfig


class LettersConfig(AppConfig):
    name = "letters"
    default_auto_field = "django.db.models.BigAutoField"
