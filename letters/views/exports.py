"""Exports for organisers: counts of their own letters (groups suppressed at
EXPORT_MIN_GROUP; teams and locations count public signers only) and the
list of public signatories.  Every export is audited, with its threshold."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponseBadRequest
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_GET

from letters import exports, services
from letters.models import OrganiserRole
from letters.views.organise import _letter_for


@login_required
@require_GET
def export_counts(request: HttpRequest, slug: str) -> HttpResponseBase:
    letter, _role = _letter_for(request, slug, OrganiserRole.VIEWER)
    fmt = request.GET.get("format", "csv")
    kinds = request.GET.getlist("kind") or list(exports.KINDS)
    if fmt not in exports.FORMATS or not set(kinds) <= set(exports.KINDS):
        return HttpResponseBadRequest("Unknown format or kind.")
    threshold = exports.export_threshold()
    services.audit(
        actor=request.user,
        action="export.counts",
        letter=letter,
        target=",".join(kinds),
        format=fmt,
        threshold=threshold,
    )
    rows = exports.letters_count_rows([letter], kinds, threshold, for_organisers=True)
    return exports.http_response(rows, exports.COUNT_FIELDS, fmt, f"{letter.slug}-counts")


@login_required
@require_GET
def export_signatories(request: HttpRequest, slug: str) -> HttpResponseBase:
    """Public signers only (name, title, team, location, comment, time)."""
    letter, _role = _letter_for(request, slug, OrganiserRole.VIEWER)
    fmt = request.GET.get("format", "csv")
    if fmt not in exports.FORMATS:
        return HttpResponseBadRequest("Unknown format.")
    services.audit(actor=request.user, action="export.signatories", letter=letter, format=fmt)
    return exports.signatories_http_response(letter, fmt)
