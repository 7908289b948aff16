"""The moderation queue in the Django admin (issue 19): "Reports" opens the
queue, not a changelist.  Letters with open reports or a waiting appeal,
the longest waiting first, each with its reports oldest first and the
admins' actions, every one a service of letters.services.reports (state
checks, events, audit entries).  Nothing here edits or deletes a report
directly, and nothing shows or counts anything about signers."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from letters import services
from letters.access import account
from letters.forms.reports import ChangeRequestForm, DecisionForm, TakeDownForm
from letters.models import Letter, Report, Takedown
from letters.selectors.reports import moderation_queue


def _act(action: str, letter: Letter, request: HttpRequest) -> str:
    """Run one admin action through its service; the message to show."""
    by = account(request)
    if action == "dismiss":
        services.reports_dismiss(letter=letter, by=by)
        return _("Dismissed the reports of “%(title)s”.")
    if action == "request_change":
        form: forms.Form = ChangeRequestForm(request.POST)
        if not form.is_valid():
            raise services.ServiceError(_("Say what the organisers should change."))
        services.letter_request_change(letter=letter, by=by, message=form.cleaned_data["message"])
        return _("Asked the organisers of “%(title)s” to change it.")
    if action == "take_down":
        form = TakeDownForm(request.POST)
        if not form.is_valid():
            raise services.ServiceError(_("Give the public reason."))
        services.letter_take_down(letter=letter, by=by, reason=form.cleaned_data["reason"])
        return _("Took “%(title)s” down.")
    if action == "reinstate":
        form = DecisionForm(request.POST)
        note = form.cleaned_data["note"] if form.is_valid() else ""
        services.takedown_reinstate(letter=letter, by=by, note=note)
        return _("Reinstated “%(title)s”.")
    if action == "reject_appeal":
        form = DecisionForm(request.POST)
        note = form.cleaned_data["note"] if form.is_valid() else ""
        services.takedown_reject_appeal(letter=letter, by=by, note=note)
        return _("Rejected the appeal of “%(title)s”.")
    raise Http404


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    """Reports, seen as the moderation queue (read-only: act through it)."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        act = self.admin_site.admin_view(require_POST(self.act_view))
        return [
            path("<int:letter_id>/<str:action>/", act, name="letters_report_act"),
            *super().get_urls(),
        ]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """The queue: open reports grouped by letter, oldest first; waiting
        appeals; letters taken down."""
        if not self.has_view_permission(request):
            raise Http404
        standing = (
            Takedown.objects.filter(reinstated_at__isnull=True)
            .select_related("letter")
            .order_by("-created_at")[:100]
        )
        return TemplateResponse(
            request,
            "admin/moderation/queue.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Moderation queue"),
                "opts": self.opts,
                "entries": moderation_queue(),
                "standing": list(standing),
                "take_down_form": TakeDownForm(),
                "change_form": ChangeRequestForm(),
                "decision_form": DecisionForm(),
            },
        )

    def act_view(self, request: HttpRequest, letter_id: int, action: str) -> HttpResponseBase:
        if not self.has_view_permission(request):
            raise Http404
        letter = get_object_or_404(Letter, pk=letter_id)
        try:
            done = _act(action, letter, request)
        except services.ServiceError as exc:
            self.message_user(request, f"{letter}: {exc.message}", messages.ERROR)
        else:
            self.message_user(request, done % {"title": letter.title}, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:letters_report_changelist"))
