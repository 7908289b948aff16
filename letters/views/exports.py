"""Exports for organisers: counts of their own letters (groups suppressed at
EXPORT_MIN_GROUP; teams and locations count public signers only; each
employer's total, anonymous signers included, and never broken down
further; paper signatures a kind of their own; no pending count), the
notes that say what
the counts export's columns mean, and the list of public signatories.
Every export of counts or names is audited, with its threshold; the notes
hold neither and are not."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseBadRequest
from django.http.response import HttpResponseBase

from letters import exports, services
from letters.access import Capability, OrganiserAccess, organiser_view


@organiser_view(Capability.EXPORT)
def export_counts(request: HttpRequest, access: OrganiserAccess) -> HttpResponseBase:
    """`?format=csv|json|notes&kind=...`: CSV (named after the letter and
    the day), JSON (rows under a "meta" that says what they are) or the
    notes (that meta as text, to keep next to the CSV)."""
    letter = access.letter
    fmt = request.GET.get("format", "csv")
    kinds = request.GET.getlist("kind") or list(exports.KINDS)
    if fmt not in exports.COUNT_FORMATS or not set(kinds) <= set(exports.KINDS):
        return HttpResponseBadRequest("Unknown format or kind.")
    threshold = exports.export_threshold()
    meta = exports.counts_meta([letter], kinds, threshold)
    if fmt != "notes":
        services.audit(
            actor=access.user,
            action="export.counts",
            letter=letter,
            target=",".join(kinds),
            format=fmt,
            threshold=threshold,
        )
    rows = exports.letters_count_rows([letter], kinds, threshold)
    return exports.http_response(rows, exports.COUNT_FIELDS, fmt, f"{letter.slug}-counts", meta)


@organiser_view(Capability.EXPORT)
def export_signatories(request: HttpRequest, access: OrganiserAccess) -> HttpResponseBase:
    """Public signers only (name, title, team, location, comment, time)."""
    letter = access.letter
    fmt = request.GET.get("format", "csv")
    if fmt not in exports.FORMATS:
        return HttpResponseBadRequest("Unknown format.")
    services.audit(actor=access.user, action="export.signatories", letter=letter, format=fmt)
    return exports.signatories_http_response(letter, fmt)
