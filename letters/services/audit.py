"""The audit log: who did what to whose data.  Entries name ids and counts,
never the personal data itself."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser

from accounts.models import User
from letters.models import AuditLog, Letter


def audit(
    *,
    actor: User | AnonymousUser | None,
    action: str,
    letter: Letter | None = None,
    target: str = "",
    **details: Any,
) -> AuditLog:
    """Write one entry; `actor` is whoever acted (None: the system, or
    someone without an account, such as leadership through its link)."""
    return AuditLog.objects.create(
        actor=actor if isinstance(actor, User) else None,
        action=action,
        letter=letter,
        target=target,
        details={k: str(v) for k, v in details.items()},
    )
