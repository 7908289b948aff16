"""The organisers' page of paper signatures: the batches recorded so far
(each with who entered it, and what corrects it) and the form that records
a batch, or (`?correct=<batch id>`) corrects one by a new batch.  On a
letter that names employers each batch says whose staff signed it."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from letters import selectors, services
from letters.access import Capability, OrganiserAccess, organiser_view
from letters.forms.paper import PaperBatchForm
from letters.models import PaperBatch
from letters.selectors.employers import letter_employers


def _correctable(access: OrganiserAccess, batch_id: Any) -> PaperBatch | None:
    """The batch `batch_id` names, if it is this letter's."""
    try:
        pk = int(batch_id)
    except (TypeError, ValueError):
        return None
    return (
        PaperBatch.objects.filter(letter=access.letter, pk=pk)
        .select_related("letter", "employer")
        .first()
    )


@organiser_view(Capability.EDIT, methods=("GET", "POST"))
def paper(request: HttpRequest, access: OrganiserAccess) -> HttpResponse:
    letter = access.letter
    if request.method == "POST":
        corrects = _correctable(access, request.POST.get("corrects"))
        form = PaperBatchForm(request.POST, letter=letter, correcting=corrects is not None)
        if form.is_valid():
            if form.cleaned_data["corrects"] and corrects is None:
                form.add_error(None, _("That batch belongs to another letter."))
            else:
                try:
                    services.paper_batch_record(
                        letter=letter, by=access.user, data=form.to_input(), corrects=corrects
                    )
                except services.ServiceError as exc:
                    form.add_error(exc.field, exc.message)
                else:
                    messages.success(
                        request,
                        _("Correction saved.") if corrects else _("Batch saved."),
                    )
                    return redirect("organise:paper", slug=letter.slug)
    else:
        corrects = _correctable(access, request.GET.get("correct"))
        initial: dict[str, Any] = {}
        if corrects is not None:
            initial = {
                "count": corrects.count,
                "collected_on": corrects.collected_on,
                "where_how": corrects.where_how,
                "scan_sha256": corrects.scan_sha256,
                "corrects": corrects.pk,
            }
        form = PaperBatchForm(initial=initial, letter=letter, correcting=corrects is not None)
    letter.refresh_from_db(fields=["paper_count"])
    context = {
        "letter": letter,
        "form": form,
        "correcting": corrects,
        "rows": selectors.paper_batches(letter=letter),
        "employers": letter_employers(letter=letter),
        "counts": selectors.letter_counts(letter_id=letter.pk),
    }
    return render(request, "organise/paper.html", context)
