"""The Django admin for letters.  Personal data of signers appears only on a
signature's own page, and every such view is written to the audit log; the
lists show ids, statuses and counts.  Exports are streamed and audited.

The admin writes nothing by itself (issue 19): a letter's status, paper
count, versions and (once published) address are read-only here; staff
change them through actions and buttons that call the services
(letters/services/staff.py: the organisers' services with their state
checks and events, plus an audit entry naming the staff member).  A refused
action changes nothing and says why.  Nothing here deletes: letters are
archived or erased, signatures invalidated; versions, events, deliveries
and the audit log are records, read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from letters import exports, services
from letters.access import account
from letters.models import (
    AuditLog,
    Delivery,
    Employer,
    LeadershipLink,
    Letter,
    LetterEvent,
    LetterStatus,
    LetterVersion,
    Signature,
    SignatureStatus,
)
from letters.services import staff
from letters.services.errors import ServiceError


class RecordAdmin(admin.ModelAdmin):
    """A record nobody edits or deletes here: view only."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# The letter steps staff can take, in the order the buttons appear: the
# statuses each one starts from (to show only the buttons that apply; the
# service checks again).
LETTER_STEPS: dict[str, tuple[Any, frozenset[str]]] = {
    "publish": (gettext_lazy("Publish"), frozenset({LetterStatus.DRAFT})),
    "close": (gettext_lazy("Close"), frozenset({LetterStatus.OPEN})),
    "archive": (
        gettext_lazy("Archive"),
        frozenset(s for s in LetterStatus.values if s != LetterStatus.ARCHIVED),
    ),
}


class EmployerInline(admin.TabularInline):
    """A letter's employers, read-only: organisers change them through the
    letter form, under the rules of services.employers."""

    model = Employer
    fields = ("position", "name", "domains")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Letter)
class LetterAdmin(admin.ModelAdmin):
    list_display = ("title", "slug", "status", "confirmed", "paper_count", "published_at")
    inlines = (EmployerInline,)
    list_filter = ("status", "language")
    search_fields = ("title", "slug")
    actions = (
        "publish_letters",
        "close_letters",
        "archive_letters",
        "export_counts_csv",
        "export_counts_json",
        "export_counts_notes",
        "export_summary_csv",
        "erase_identities",
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Letter | None = None) -> list[str]:
        """Every field but the settings staff may change (and the address
        while a draft): status, paper count, versions have their services."""
        editable = set(staff.EDITABLE_FIELDS)
        if obj is not None and obj.status == LetterStatus.DRAFT:
            editable.add("slug")
        return [
            f.name
            for f in Letter._meta.get_fields()
            if f.concrete and not f.many_to_many and not f.auto_created and f.name not in editable
        ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # letters are started by organisers (letter_create)

    def has_delete_permission(self, request: HttpRequest, obj: Letter | None = None) -> bool:
        return False  # archive or erase instead

    def save_model(self, request: HttpRequest, obj: Letter, form: Any, change: bool) -> None:
        changes = {f: form.cleaned_data[f] for f in form.changed_data if f in form.cleaned_data}
        try:
            staff.letter_staff_edit(letter=obj, by=account(request), changes=changes)
        except ServiceError as exc:
            self.message_user(request, exc.message, messages.ERROR)

    def _step(
        self, request: HttpRequest, letters: QuerySet[Letter] | list[Letter], step: str
    ) -> int:
        """Take `step` on each letter through its service; a refusal is
        shown (the letter is left as it was) and the others go on."""
        by, done = account(request), 0
        for letter in letters:
            try:
                staff.letter_staff_step(letter=letter, by=by, step=step)
            except ServiceError as exc:
                self.message_user(request, f"{letter}: {exc.message}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(
                request,
                {
                    "publish": _("Published %(count)d letters."),
                    "close": _("Closed %(count)d letters."),
                    "archive": _("Archived %(count)d letters."),
                }[step]
                % {"count": done},
                messages.SUCCESS,
            )
        return done

    @admin.action(description=gettext_lazy("Publish the selected letters"))
    def publish_letters(self, request: HttpRequest, queryset: QuerySet[Letter]) -> None:
        self._step(request, queryset, "publish")

    @admin.action(description=gettext_lazy("Close the selected letters"))
    def close_letters(self, request: HttpRequest, queryset: QuerySet[Letter]) -> None:
        self._step(request, queryset, "close")

    @admin.action(description=gettext_lazy("Archive the selected letters"))
    def archive_letters(self, request: HttpRequest, queryset: QuerySet[Letter]) -> None:
        self._step(request, queryset, "archive")

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """The page's step buttons (name="_step") take the step and come
        back, without saving the form."""
        step = request.POST.get("_step") if request.method == "POST" else None
        letter = self.get_object(request, object_id)
        if step in LETTER_STEPS and letter is not None:
            if not self.has_change_permission(request, letter):
                raise PermissionDenied
            self._step(request, [letter], step)
            return HttpResponseRedirect(request.path)
        steps = [
            (name, label)
            for name, (label, starts) in LETTER_STEPS.items()
            if letter is not None and letter.status in starts
        ]
        context = {**(extra_context or {}), "letter_steps": steps}
        return super().change_view(request, object_id, form_url, context)

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
    actions = ("invalidate_signatures",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Signature | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Signature | None = None) -> bool:
        return False  # invalidate instead: the row stays, out of the counts

    @admin.action(description=gettext_lazy("Invalidate selected signatures"))
    def invalidate_signatures(
        self, request: HttpRequest, queryset: QuerySet[Signature]
    ) -> TemplateResponse | None:
        """First a page asking for the reason (the audit log keeps it), then
        the service: all the selected signatures or, if one is not
        confirmed, none."""
        ids = sorted(queryset.values_list("pk", flat=True))
        reason = request.POST.get("reason", "")
        error = ""
        if request.POST.get("post") == "yes":
            try:
                count = staff.signatures_staff_invalidate(
                    signature_ids=ids, by=account(request), reason=reason
                )
            except ServiceError as exc:
                if exc.field != "reason":
                    self.message_user(request, exc.message, messages.ERROR)
                    return None
                error = exc.message
            else:
                self.message_user(
                    request,
                    _("Invalidated %(count)d signatures.") % {"count": count},
                    messages.SUCCESS,
                )
                return None
        rows = queryset.order_by("pk").values("pk", "letter__title", "status")
        return TemplateResponse(
            request,
            "admin/letters/signature/invalidate.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Invalidate signatures"),
                "opts": self.opts,
                "rows": list(rows),
                "ids": ids,
                "reason": reason,
                "error": error,
                "not_confirmed": sum(r["status"] != SignatureStatus.CONFIRMED for r in rows),
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            },
        )

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
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(RecordAdmin):
    """A delivery is the record of what leadership was given: read-only; its
    links are revoked through the service (audited)."""

    list_display = ("letter", "method", "delivered_at", "confirmed_count")
    list_filter = ("method",)
    inlines = (LeadershipLinkInline,)
    actions = ("revoke_links",)

    @admin.action(
        description=gettext_lazy("Revoke the leadership links of the selected deliveries")
    )
    def revoke_links(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        by = account(request)
        links = LeadershipLink.objects.filter(
            delivery__in=queryset, revoked_at__isnull=True
        ).select_related("delivery__letter")
        revoked = 0
        for link in links:
            try:
                services.leadership_link_revoke(letter=link.delivery.letter, by=by, link_id=link.pk)
            except ServiceError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                revoked += 1
        self.message_user(request, _("Revoked %(count)d links.") % {"count": revoked})


@admin.register(LetterVersion)
class LetterVersionAdmin(RecordAdmin):
    """A published text, as signers signed it: immutable."""

    list_display = ("letter", "number", "created_at", "change_note")
    list_select_related = ("letter",)
    exclude = ("body_html",)


@admin.register(LetterEvent)
class LetterEventAdmin(RecordAdmin):
    """The letter's public timeline: written by the services only."""

    list_display = ("letter", "kind", "created_at")
    list_filter = ("kind",)
    list_select_related = ("letter",)


@admin.register(AuditLog)
class AuditLogAdmin(RecordAdmin):
    list_display = ("created_at", "actor", "action", "letter", "target")
    list_filter = ("action",)
    search_fields = ("action", "target")
    readonly_fields = [f.name for f in AuditLog._meta.fields]


# The admins of issue 19's models live in their own files, registered on import.
from letters import (  # noqa: E402
    admin_paper,  # noqa: F401  (paper batches: their own file)
    admin_reports,  # noqa: F401  (the moderation queue: its own file)
    admin_templates,  # noqa: F401  (letter templates: their own file)
)
