"""The one way an organiser's button calls a service: the service decides,
its refusal (`ServiceError`) is shown as an error message, its success as
a success message."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest

from letters import services


def act(request: HttpRequest, call: Callable[[], object], success: str = "") -> bool:
    """Run `call`; True if the service accepted it."""
    try:
        call()
    except services.ServiceError as exc:
        messages.error(request, exc.message)
        return False
    if success:
        messages.success(request, success)
    return True
