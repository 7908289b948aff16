from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from outbox.models import OutboxMessage


@require_GET
def outbox_index(request: HttpRequest) -> HttpResponse:
    return render(request, "outbox/index.html", {"messages_": OutboxMessage.objects.all()[:200]})


@require_GET
def outbox_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render(
        request, "outbox/detail.html", {"message": get_object_or_404(OutboxMessage, pk=pk)}
    )
