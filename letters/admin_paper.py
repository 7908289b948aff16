"""Paper batches in the admin: view only.  A batch is recorded or corrected
by the organisers' Paper signatures page (services.paper_batch_record), never
edited or deleted here."""

from __future__ import annotations

from django.contrib import admin

from letters.admin import RecordAdmin
from letters.models import PaperBatch


@admin.register(PaperBatch)
class PaperBatchAdmin(RecordAdmin):
    list_display = ("letter", "id", "count", "collected_on", "corrects", "entered_by", "created_at")
    list_select_related = ("letter", "entered_by", "corrects")
    search_fields = ("letter__slug",)
