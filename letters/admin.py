"""The Django admin for letters.  Personal data of signers appears only on a
signature's own page, and every such view is written to the audit log; the
lists show ids, statuses and counts.  Exports are streamed and audited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

from letters import exports, services
from letters.access import account
from letters.models import AuditLog, Delivery, LeadershipLink, Letter, Signature


@admin.register(Letter)
class LetterAdmin(admin.ModelAdmin):
    list_display = ("title", "slug", "status", "confirmed", "paper_count", "published_at")
    list_filter = ("status", "language")
    search_fields = ("title", "slug")
    readonly_fields = ("current_version", "published_at", "preview_token_hash")
    actions = (
        "export_counts_csv",
        "export_counts_json",
        "export_counts_notes",
        "export_summary_csv",
        "erase_identities",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Letter]:
        return super().get_queryset(request).select_related("stats")

    @admin.display(description="confirmed (folded)")
    def confirmed(self, obj: Letter) -> int:
        stats = getattr(obj, "stats", None)
        return stats.confirmed if stats else 0

    def _export(
        self, request: HttpRequest, queryset: QuerySet[Letter], fmt: str
    ) -> HttpResponseBase:
        """The counts of the selected letters, every kind, at EXPORT_MIN_GROUP
        (admins get no lower threshold), in a file named after the letter
        (or "letters" for several) and the day; "notes" is the text saying
        what the columns mean (no counts, so not audited)."""
        letters = list(queryset.order_by("id"))
        threshold = exports.export_threshold()
        meta = exports.counts_meta(letters, exports.KINDS, threshold)
        if fmt != "notes":
            services.audit(
                actor=request.user,
                action="export.admin",
                target=",".join(x.slug for x in letters),
                kinds=",".join(exports.KINDS),
                threshold=threshold,
                format=fmt,
            )
        rows = exports.letters_count_rows(letters, exports.KINDS, threshold)
        stem = f"{letters[0].slug}-counts" if len(letters) == 1 else "letters-counts"
        return exports.http_response(rows, exports.COUNT_FIELDS, fmt, stem, meta)

    @admin.action(description="Export counts of the selected letters (CSV)")
    def export_counts_csv(
        self, request: HttpRequest, queryset: QuerySet[Letter]
    ) -> HttpResponseBase:
        return self._export(request, queryset, "csv")

    @admin.action(description="Export counts of the selected letters (JSON)")
    def export_counts_json(
        self, request: HttpRequest, queryset: QuerySet[Letter]
    ) -> HttpResponseBase:
        return self._export(request, queryset, "json")

    @admin.action(description="Explain the columns of the counts export (text)")
    def export_counts_notes(
        self, request: HttpRequest, queryset: QuerySet[Letter]
    ) -> HttpResponseBase:
        return self._export(request, queryset, "notes")

    @admin.action(description="Export a summary of the selected letters (CSV)")
    def export_summary_csv(
        self, request: HttpRequest, queryset: QuerySet[Letter]
    ) -> HttpResponseBase:
        letters = list(queryset.order_by("id"))
        services.audit(
            actor=request.user, action="export.summary", target=f"{len(letters)} letters"
        )
        rows = exports.summary_rows(letters)
        return exports.http_response(
            rows, exports.SUMMARY_FIELDS, "csv", "letters-summary", exports.summary_meta()
        )

    @admin.action(description="Erase all signer identities now (keeps counts)")
    def erase_identities(self, request: HttpRequest, queryset: QuerySet[Letter]) -> None:
        by = account(request)
        total = sum(services.letter_erase_identities(letter=letter, by=by) for letter in queryset)
        self.message_user(request, f"Erased the identities of {total} signatures.")


# The columns that stand in for the address: opaque to anyone without the
# keys, and of no use on the page (`address` says what the admin can know).
_ADDRESS_COLUMNS = {"email_hash", "email_sealed", "email_domains"}


@admin.register(Signature)
class SignatureAdmin(admin.ModelAdmin):
    """Lists show no personal data; opening one signature is audited.  No
    one here can read a signer's address: it is sealed to the mail
    workers' key (letters/signer_address.py), and the admin runs on the web
    processes, which do not hold it."""

    list_display = ("id", "letter", "status", "display", "flagged", "created_at", "confirmed_at")
    list_filter = ("status", "flagged", "display", "letter")
    list_select_related = ("letter",)
    readonly_fields = [
        "address",
        *(f.name for f in Signature._meta.fields if f.name not in _ADDRESS_COLUMNS),
    ]
    exclude = sorted(_ADDRESS_COLUMNS)

    @admin.display(description="email address")
    def address(self, obj: Signature) -> str:
        if obj.email_sealed:
            return (
                "Sealed: only the email workers can open it; the admin cannot read it "
                "(docs/operations.md, Signer keys)."
            )
        return "Erased."

    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Signature | None = None) -> bool:
        return False

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        """Only the list filters: a lookup by email or name in the URL would
        find a signer without opening (and so auditing) their signature."""
        return lookup in {
            "status",
            "status__exact",
            "flagged",
            "flagged__exact",
            "display",
            "display__exact",
            "letter",
            "letter__id__exact",
        }

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        signature = Signature.objects.filter(pk=object_id).select_related("letter").first()
        services.audit(
            actor=request.user,
            action="admin.view_signature",
            letter=signature.letter if signature else None,
            target=f"signature {object_id}",
        )
        return super().change_view(request, object_id, form_url, extra_context)


class LeadershipLinkInline(admin.TabularInline):
    model = LeadershipLink
    fields = ("name", "role", "expires_at", "revoked_at", "last_used_at")
    readonly_fields = ("name", "role", "last_used_at")
    extra = 0
    can_delete = False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("letter", "method", "delivered_at", "confirmed_count")
    list_filter = ("method",)
    inlines = (LeadershipLinkInline,)
    readonly_fields = ("letter", "version", "confirmed_count", "created_by")


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ("created_at", "actor", "action", "letter", "target")
    list_filter = ("action",)
    search_fields = ("action", "target")
    readonly_fields = [f.name for f in AuditLog._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditLog | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditLog | None = None) -> bool:
        return False
