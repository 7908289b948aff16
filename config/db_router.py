"""The database router (settings.DATABASE_ROUTERS, set only when a replica
is configured): reads go where `letters.replica.reading_from()` says (the
replica only inside a public-read context, letters/replica.py explains the
rule and the staleness it allows), writes and migrations to the primary."""

from __future__ import annotations

from typing import Any

from django.db import DEFAULT_DB_ALIAS
from django.db.models import Model

from letters.replica import reading_from


class ReplicaRouter:
    def db_for_read(self, model: type[Model], **hints: Any) -> str:
        return reading_from()

    def db_for_write(self, model: type[Model], **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool:
        return True  # the same rows on both

    def allow_migrate(
        self, db: str, app_label: str, model_name: str | None = None, **hints: Any
    ) -> bool:
        return db == DEFAULT_DB_ALIAS
